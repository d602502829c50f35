//! The CloudWatch adapter on the wire for `VolumeBytesUsed`: a small scripted endpoint
//! records what the SDK sends (the Rust CloudWatch client speaks Smithy RPC v2 CBOR, which
//! moto does not answer) and answers in CBOR, so that these tests see the query the adapter
//! makes, how many calls it takes, and that the newest data point is the one kept.

use crate::moto_harness;

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use aurora_clone_manager::aws::Metrics;
use aurora_clone_manager::aws::sdk::SdkMetrics;
use chrono::{TimeZone, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as it arrived: its path and its CBOR body.
type Recorded = (String, Vec<u8>);

/// A scripted CloudWatch endpoint on 127.0.0.1 that answers every call with `answer`; it
/// stops when dropped.
struct ScriptedCloudWatch {
    endpoint: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    server: JoinHandle<()>,
}

impl Drop for ScriptedCloudWatch {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ScriptedCloudWatch {
    async fn start(answer: Vec<u8>) -> ScriptedCloudWatch {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let answer = Bytes::from(answer);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let recorded = recorded.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let recorded = recorded.clone();
                        let answer = answer.clone();
                        async move {
                            let path = request.uri().path().to_string();
                            let body = request.into_body().collect().await?.to_bytes();
                            recorded.lock().unwrap().push((path, body.to_vec()));
                            let mut response = Response::new(Full::new(answer));
                            let headers = response.headers_mut();
                            headers.insert("content-type", "application/cbor".parse().unwrap());
                            headers.insert("smithy-protocol", "rpc-v2-cbor".parse().unwrap());
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ScriptedCloudWatch {
            endpoint,
            requests,
            server,
        }
    }

    fn metrics(&self) -> SdkMetrics {
        SdkMetrics::new(aws_sdk_cloudwatch::Client::new(&moto_harness::sdk_config(
            &self.endpoint,
        )))
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

// A few CBOR items (RFC 8949), enough for a GetMetricData answer.

fn text(value: &str) -> Vec<u8> {
    let mut bytes = header(3, value.len());
    bytes.extend_from_slice(value.as_bytes());
    bytes
}

fn header(major: u8, length: usize) -> Vec<u8> {
    match length {
        0..=23 => vec![major << 5 | length as u8],
        24..=255 => vec![major << 5 | 24, length as u8],
        _ => {
            let mut bytes = vec![major << 5 | 25];
            bytes.extend_from_slice(&(length as u16).to_be_bytes());
            bytes
        }
    }
}

fn double(value: f64) -> Vec<u8> {
    let mut bytes = vec![0xfb];
    bytes.extend_from_slice(&value.to_be_bytes());
    bytes
}

/// A timestamp: tag 1 (epoch seconds) on a number.
fn epoch(seconds: i64) -> Vec<u8> {
    let mut bytes = vec![0xc1];
    bytes.extend(double(seconds as f64));
    bytes
}

fn array(items: Vec<Vec<u8>>) -> Vec<u8> {
    let mut bytes = header(4, items.len());
    bytes.extend(items.into_iter().flatten());
    bytes
}

fn map(entries: Vec<(&str, Vec<u8>)>) -> Vec<u8> {
    let mut bytes = header(5, entries.len());
    for (key, value) in entries {
        bytes.extend(text(key));
        bytes.extend(value);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn volume_bytes_are_asked_for_every_cluster_in_one_call_and_the_newest_point_is_kept() {
    let older = Utc.with_ymd_and_hms(2026, 11, 30, 14, 0, 0).unwrap();
    let newer = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
    // CloudWatch returns the newest point first by default.
    let answer = map(vec![(
        "MetricDataResults",
        array(vec![
            map(vec![
                ("Id", text("m0")),
                ("Label", text("VolumeBytesUsed")),
                (
                    "Timestamps",
                    array(vec![epoch(newer.timestamp()), epoch(older.timestamp())]),
                ),
                ("Values", array(vec![double(2048.0), double(1024.0)])),
                ("StatusCode", text("Complete")),
            ]),
            map(vec![
                ("Id", text("m1")),
                ("Timestamps", array(Vec::new())),
                ("Values", array(Vec::new())),
                ("StatusCode", text("Complete")),
            ]),
        ]),
    )]);
    let cloudwatch = ScriptedCloudWatch::start(answer).await;
    let volumes = cloudwatch
        .metrics()
        .latest_volume_bytes(
            &["prod-db".to_string(), "new-clone".to_string()],
            newer - chrono::TimeDelta::hours(24),
            newer + chrono::TimeDelta::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(volumes.get("prod-db"), Some(&2048.0), "the newest point");
    assert_eq!(volumes.get("new-clone"), None, "no data point: absent");

    let requests = cloudwatch.requests();
    assert_eq!(requests.len(), 1, "one call for both clusters");
    let (path, body) = &requests[0];
    assert!(path.ends_with("/operation/GetMetricData"), "{path}");
    for expected in [
        "AWS/RDS",
        "VolumeBytesUsed",
        "DBClusterIdentifier",
        "prod-db",
        "new-clone",
        "Average",
        "m0",
        "m1",
    ] {
        assert!(
            contains(body, expected),
            "{expected} missing from the request"
        );
    }
    assert!(!contains(body, "DatabaseConnections"));
}

#[tokio::test]
async fn more_than_500_clusters_take_a_second_call() {
    let cloudwatch =
        ScriptedCloudWatch::start(map(vec![("MetricDataResults", array(Vec::new()))])).await;
    let ids: Vec<String> = (0..501).map(|index| format!("clone-{index}")).collect();
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
    let volumes = cloudwatch
        .metrics()
        .latest_volume_bytes(&ids, now - chrono::TimeDelta::hours(24), now)
        .await
        .unwrap();
    assert!(volumes.is_empty());
    let requests = cloudwatch.requests();
    assert_eq!(requests.len(), 2, "500 queries a call at most");
    assert!(contains(&requests[1].1, "clone-500"));
    assert!(!contains(&requests[1].1, "clone-499"));
}
