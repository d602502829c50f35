//! Proves the shared harness against the real moto server: accounts are isolated, faults
//! reach the SDK as the real service's errors, the ResponseURL capture records exactly what
//! arrived, and EventBridge events reach the test's queue.

use crate::moto_harness;

use std::time::{Duration, Instant};

use aws_config::retry::{ErrorKind, RetryConfig};
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use moto_harness::{FaultKind, FaultSchedule};

/// One attempt per call, so the injected error is what the caller sees.
fn single_attempt() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(1)
}

async fn describe_clusters(
    config: &aws_config::SdkConfig,
) -> Result<
    aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput,
    SdkError<aws_sdk_rds::operation::describe_db_clusters::DescribeDBClustersError>,
> {
    aws_sdk_rds::Client::new(config)
        .describe_db_clusters()
        .send()
        .await
}

/// The error code of a failed call, `None` when it succeeded or had no code.
fn error_code<T, E: ProvideErrorMetadata>(result: Result<T, SdkError<E>>) -> Option<String> {
    result
        .err()
        .and_then(|error| error.code().map(str::to_string))
}

fn http_status<E>(error: &SdkError<E>) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}

#[tokio::test]
async fn two_proxies_are_two_accounts() {
    let first = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
    let second = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
    assert_ne!(first.account_id(), second.account_id());
    let first_config = moto_harness::sdk_config(&first.endpoint());
    let second_config = moto_harness::sdk_config(&second.endpoint());

    let root = moto_harness::seed_root(&first_config, "isolated-root").await;

    assert!(
        root.cluster_arn.contains(first.account_id()),
        "the cluster ARN {} names the proxy's account {}",
        root.cluster_arn,
        first.account_id()
    );
    assert!(moto_harness::cluster_exists(&first_config, "isolated-root").await);
    assert!(!moto_harness::cluster_exists(&second_config, "isolated-root").await);
    let instances = moto_harness::cluster_instances(&first_config, "isolated-root").await;
    assert_eq!(instances.len(), 1);
    assert_eq!(
        instances[0].db_instance_class(),
        Some(moto_harness::seed::ROOT_INSTANCE_CLASS)
    );
    assert!(
        moto_harness::cluster_instances(&second_config, "isolated-root")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn cluster_tags_reads_back_the_tags_of_a_cluster() {
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
    let config = moto_harness::sdk_config(&proxy.endpoint());
    let root = moto_harness::seed_root(&config, "tagged-root").await;
    aws_sdk_rds::Client::new(&config)
        .add_tags_to_resource()
        .resource_name(&root.cluster_arn)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("team")
                .value("data")
                .build(),
        )
        .send()
        .await
        .expect("tag the root");

    let tags = moto_harness::cluster_tags(&config, "tagged-root").await;

    assert_eq!(tags.get("team").map(String::as_str), Some("data"));
}

#[tokio::test]
async fn a_throttle_arrives_as_each_protocols_throttling_error() {
    let proxy =
        moto_harness::moto_account_proxy(FaultSchedule::random(1, 1.0, &[FaultKind::Throttle]))
            .await;
    let config = moto_harness::sdk_config_with_retry(&proxy.endpoint(), single_attempt());

    let query_error = describe_clusters(&config)
        .await
        .expect_err("rds is throttled");
    let json_error = aws_sdk_ssm::Client::new(&config)
        .get_parameter()
        .name("/any/parameter")
        .send()
        .await
        .expect_err("ssm is throttled");
    let rest_error = aws_sdk_lambda::Client::new(&config)
        .list_functions()
        .send()
        .await
        .expect_err("lambda is throttled");

    // The other services the crate calls, one line each: the proxy must tell them apart.
    let other_codes = [
        (
            "sts",
            error_code(
                aws_sdk_sts::Client::new(&config)
                    .get_caller_identity()
                    .send()
                    .await,
            ),
        ),
        (
            "kms",
            error_code(aws_sdk_kms::Client::new(&config).list_keys().send().await),
        ),
        (
            "secretsmanager",
            error_code(
                aws_sdk_secretsmanager::Client::new(&config)
                    .list_secrets()
                    .send()
                    .await,
            ),
        ),
        (
            "events",
            error_code(
                aws_sdk_eventbridge::Client::new(&config)
                    .list_rules()
                    .send()
                    .await,
            ),
        ),
    ];

    assert_eq!(query_error.code(), Some("Throttling"), "{query_error:?}");
    assert_eq!(query_error.message(), Some("Rate exceeded"));
    assert_eq!(http_status(&query_error), Some(400));
    assert_eq!(
        json_error.code(),
        Some("ThrottlingException"),
        "{json_error:?}"
    );
    assert_eq!(json_error.message(), Some("Rate exceeded"));
    assert_eq!(http_status(&json_error), Some(400));
    assert!(
        matches!(
            rest_error.as_service_error(),
            Some(aws_sdk_lambda::operation::list_functions::ListFunctionsError::TooManyRequestsException(_))
        ),
        "{rest_error:?}"
    );
    assert_eq!(http_status(&rest_error), Some(429));
    assert_eq!(
        other_codes,
        [
            ("sts", Some("Throttling".to_string())),
            ("kms", Some("ThrottlingException".to_string())),
            ("secretsmanager", Some("ThrottlingException".to_string())),
            ("events", Some("ThrottlingException".to_string())),
        ]
    );
    let stats = proxy.stats();
    assert_eq!(stats.faults.get("throttle"), Some(&7));
    assert_eq!(
        stats.service("rds").operations.get("DescribeDBClusters"),
        Some(&1)
    );
    assert_eq!(
        stats.service("ssm").operations.get("GetParameter"),
        Some(&1)
    );
}

#[tokio::test]
async fn server_errors_arrive_with_their_status_in_the_services_format() {
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::first_calls(
        "rds",
        1,
        FaultKind::ServerError500,
    ))
    .await;
    let config = moto_harness::sdk_config_with_retry(&proxy.endpoint(), single_attempt());

    let internal = describe_clusters(&config)
        .await
        .expect_err("first rds call fails");
    proxy.set_faults(FaultSchedule::first_calls(
        "ssm",
        1,
        FaultKind::ServiceUnavailable503,
    ));
    let unavailable = aws_sdk_ssm::Client::new(&config)
        .get_parameter()
        .name("/any/parameter")
        .send()
        .await
        .expect_err("first ssm call fails");

    assert_eq!(http_status(&internal), Some(500));
    assert_eq!(internal.code(), Some("InternalFailure"), "{internal:?}");
    assert_eq!(http_status(&unavailable), Some(503));
    assert_eq!(
        unavailable.code(),
        Some("ServiceUnavailable"),
        "{unavailable:?}"
    );
}

#[tokio::test]
async fn first_calls_faults_only_the_first_calls_of_that_service() {
    let proxy =
        moto_harness::moto_account_proxy(FaultSchedule::first_calls("ssm", 2, FaultKind::Throttle))
            .await;
    let config = moto_harness::sdk_config_with_retry(&proxy.endpoint(), single_attempt());
    let ssm = aws_sdk_ssm::Client::new(&config);

    describe_clusters(&config)
        .await
        .expect("rds is not faulted");
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let result = ssm.describe_parameters().send().await;
        outcomes.push(
            result
                .err()
                .and_then(|error| error.code().map(str::to_string)),
        );
    }

    assert_eq!(
        outcomes,
        [
            Some("ThrottlingException".to_string()),
            Some("ThrottlingException".to_string()),
            None
        ]
    );
}

#[tokio::test]
async fn standard_retries_ride_out_a_fifty_percent_throttle() {
    let proxy =
        moto_harness::moto_account_proxy(FaultSchedule::random(7, 0.5, &[FaultKind::Throttle]))
            .await;
    // sdk_config: standard mode, 5 attempts, short backoffs.
    let config = moto_harness::sdk_config(&proxy.endpoint());

    moto_harness::seed_root(&config, "retried-root").await;
    for _ in 0..10 {
        describe_clusters(&config).await.expect("retries succeed");
    }
    assert!(moto_harness::cluster_exists(&config, "retried-root").await);

    let stats = proxy.stats();
    let throttled = stats.faults.get("throttle").copied().unwrap_or(0);
    assert!(
        throttled >= 5,
        "a 50% schedule over {} calls throttled only {throttled}",
        stats.requests
    );
}

#[tokio::test]
async fn a_dropped_connection_surfaces_as_a_dispatch_failure() {
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::random(
        3,
        1.0,
        &[FaultKind::DropConnection],
    ))
    .await;
    let config = moto_harness::sdk_config_with_retry(&proxy.endpoint(), single_attempt());

    let error = describe_clusters(&config)
        .await
        .expect_err("the connection is dropped");

    // The SDK sees the connection close mid-exchange (hyper's IncompleteMessage) and
    // classifies it as a transient dispatch failure, which its retries then cover.
    match &error {
        SdkError::DispatchFailure(failure) => assert!(
            failure.is_io() || failure.as_other() == Some(ErrorKind::TransientError),
            "expected an I/O or transient failure: {error:?}"
        ),
        other => panic!("expected a dispatch failure, got {other:?}"),
    }
    assert_eq!(proxy.stats().faults.get("drop_connection"), Some(&1));
}

#[tokio::test]
async fn a_slow_fault_delays_the_call_and_then_forwards_it() {
    let delay = Duration::from_millis(700);
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::first_calls(
        "rds",
        1,
        FaultKind::Slow(delay),
    ))
    .await;
    let config = moto_harness::sdk_config_with_retry(&proxy.endpoint(), single_attempt());

    let started = Instant::now();
    describe_clusters(&config)
        .await
        .expect("a slow call still succeeds");

    assert!(started.elapsed() >= delay, "took {:?}", started.elapsed());
    assert_eq!(proxy.stats().faults.get("slow"), Some(&1));
}

#[tokio::test]
async fn moto_api_calls_are_never_faulted() {
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::random(
        5,
        1.0,
        &[FaultKind::ServerError500, FaultKind::DropConnection],
    ))
    .await;

    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("{}/moto-api/", proxy.endpoint()))
        .send()
        .await
        .expect("moto's own API is reachable");

    assert_eq!(response.status().as_u16(), 200);
    let stats = proxy.stats();
    assert_eq!(stats.faults_total(), 0);
    assert_eq!(stats.service("moto-api").requests, 1);
}

#[test]
fn a_random_schedule_is_a_function_of_its_seed() {
    let kinds = [FaultKind::Throttle, FaultKind::ServerError500];
    let decisions = |seed| {
        let schedule = FaultSchedule::random(seed, 0.3, &kinds);
        (0..200)
            .map(|call| schedule.fault_for("rds", call, call))
            .collect::<Vec<_>>()
    };

    assert_eq!(decisions(11), decisions(11));
    assert_ne!(decisions(11), decisions(12));
    let faulted = decisions(11).iter().filter(|fault| fault.is_some()).count();
    assert!((30..=90).contains(&faulted), "{faulted} of 200 at p=0.3");
    let restricted = FaultSchedule::random(11, 1.0, &kinds).only_services(&["ssm"]);
    assert_eq!(restricted.fault_for("rds", 0, 0), None);
    assert!(restricted.fault_for("ssm", 0, 0).is_some());
}

#[tokio::test]
async fn the_capture_records_an_empty_content_type_as_present() {
    let capture = moto_harness::response_capture().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let body = r#"{"Status":"SUCCESS","PhysicalResourceId":"arn:aws:rds:x","Data":{}}"#;

    let with_empty = http
        .put(capture.url("empty-type"))
        .header("content-type", "")
        .body(body)
        .send()
        .await
        .expect("PUT");
    let without = http
        .put(capture.url("no-type"))
        .body("not json")
        .send()
        .await
        .expect("PUT");

    assert_eq!(with_empty.status().as_u16(), 200);
    assert_eq!(without.status().as_u16(), 200);
    let empty = capture
        .wait_for("empty-type", 1, Duration::from_secs(5))
        .await;
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].content_type.as_deref(), Some(""));
    assert_eq!(empty[0].body_len, body.len());
    assert_eq!(empty[0].status(), Some("SUCCESS"));
    assert_eq!(empty[0].json["PhysicalResourceId"], "arn:aws:rds:x");
    let absent = capture.responses_for("no-type");
    assert_eq!(absent[0].content_type, None);
    assert_eq!(absent[0].json, serde_json::Value::Null);
    assert_eq!(absent[0].body, "not json");
    assert_eq!(capture.responses().len(), 2);
}

#[tokio::test]
async fn the_capture_fails_the_first_puts_when_asked() {
    let capture = moto_harness::response_capture().await;
    capture.fail_next_puts(2);
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = http
            .put(capture.url("flaky"))
            .header("content-type", "")
            .body("{}")
            .send()
            .await
            .expect("PUT");
        statuses.push(response.status().as_u16());
    }

    assert_eq!(statuses, [500, 500, 200]);
    let recorded: Vec<u16> = capture
        .responses_for("flaky")
        .iter()
        .map(|response| response.answered_status)
        .collect();
    assert_eq!(recorded, [500, 500, 200]);
}

#[tokio::test]
#[should_panic(expected = "waiting for 1 response(s) to \"never\"")]
async fn waiting_for_a_response_that_never_comes_panics_with_what_was_seen() {
    let capture = moto_harness::response_capture().await;
    capture
        .wait_for("never", 1, Duration::from_millis(100))
        .await;
}

#[tokio::test]
async fn events_put_on_the_default_bus_reach_the_queue() {
    let proxy = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
    let config = moto_harness::sdk_config(&proxy.endpoint());
    let queue = moto_harness::event_queue(&config, "aurora-clone-manager").await;
    let entry = |source: &str| {
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(source)
            .detail_type("lifecycle-event/instance-ready")
            .detail(r#"{"clusterId":"clone-1","port":5432}"#)
            .resources("arn:aws:rds:us-east-1:123456789012:cluster:clone-1")
            .build()
    };

    let put = aws_sdk_eventbridge::Client::new(&config)
        .put_events()
        .entries(entry("aurora-clone-manager"))
        .entries(entry("someone-else"))
        .send()
        .await
        .expect("put events");

    assert_eq!(put.failed_entry_count(), 0);
    let events = queue.drain().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["source"], "aurora-clone-manager");
    assert_eq!(events[0]["detail-type"], "lifecycle-event/instance-ready");
    assert_eq!(events[0]["detail"]["clusterId"], "clone-1");
    assert_eq!(
        queue.drain().await.len(),
        1,
        "a second drain returns the same events, not duplicates"
    );
}
