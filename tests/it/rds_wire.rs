//! The RDS adapter on the wire: a small scripted RDS endpoint records the query-protocol
//! form the SDK really sends and answers as RDS does, so that these tests see the
//! parameters our requests carry (PubliclyAccessible, Port, IAM authentication, storage
//! type, log exports, the Serverless v2 capacity range) and how the adapter reads AWS's
//! errors in AWS's own words.

use crate::moto_harness;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use aurora_clone_manager::aws::sdk::SdkRds;
use aurora_clone_manager::aws::{
    AwsErrorKind, InstanceRequest, Rds, RestoreRequest, RestoreSettings, RestoreType,
    ServerlessV2Scaling, Tags,
};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const XMLNS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

/// One query-protocol request as it arrived: its parameters, decoded.
type Form = BTreeMap<String, String>;

/// How the endpoint answers one action: HTTP status and XML body.
type Script = Arc<dyn Fn(&str, &Form) -> (u16, String) + Send + Sync>;

/// A scripted RDS endpoint on 127.0.0.1; it stops when dropped.
struct ScriptedRds {
    endpoint: String,
    requests: Arc<Mutex<Vec<Form>>>,
    server: JoinHandle<()>,
}

impl Drop for ScriptedRds {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl ScriptedRds {
    async fn start(script: Script) -> ScriptedRds {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let script = script.clone();
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let script = script.clone();
                        let recorded = recorded.clone();
                        async move {
                            let body = request.into_body().collect().await?.to_bytes();
                            let form = decode_form(&String::from_utf8_lossy(&body));
                            recorded.lock().unwrap().push(form.clone());
                            let action = form.get("Action").cloned().unwrap_or_default();
                            let (status, xml) = script(&action, &form);
                            let mut response = Response::new(Full::new(Bytes::from(xml)));
                            *response.status_mut() = StatusCode::from_u16(status).unwrap();
                            response
                                .headers_mut()
                                .insert("content-type", "text/xml".parse().unwrap());
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ScriptedRds {
            endpoint,
            requests,
            server,
        }
    }

    fn rds(&self) -> SdkRds {
        SdkRds::new(aws_sdk_rds::Client::new(&moto_harness::sdk_config(
            &self.endpoint,
        )))
    }

    /// Every request with this `Action`, in arrival order.
    fn requests(&self, action: &str) -> Vec<Form> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|form| form.get("Action").map(String::as_str) == Some(action))
            .cloned()
            .collect()
    }
}

/// `application/x-www-form-urlencoded` into a map.
fn decode_form(body: &str) -> Form {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                decoded.push(u8::from_str_radix(hex, 16).unwrap());
                index += 3;
            }
            b'+' => {
                decoded.push(b' ');
                index += 1;
            }
            byte => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap()
}

fn ok(action: &str, result: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn refused(code: &str, message: &str) -> (u16, String) {
    (
        400,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>"
        ),
    )
}

fn instance_xml(id: &str, status: &str) -> String {
    format!(
        "<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier>\
         <DBClusterIdentifier>clone-1</DBClusterIdentifier>\
         <DBInstanceStatus>{status}</DBInstanceStatus>\
         <DBInstanceClass>db.r6g.large</DBInstanceClass><Engine>aurora-postgresql</Engine>\
         </DBInstance>"
    )
}

fn restore_request(settings: RestoreSettings) -> RestoreRequest {
    RestoreRequest {
        cluster_id: "clone-1".into(),
        source_cluster_id: "prod".into(),
        restore_type: RestoreType::CopyOnWrite,
        tags: Tags::from([("aurora-clone-manager:role".to_string(), "clone".to_string())]),
        db_subnet_group_name: Some("db-subnets".into()),
        vpc_security_group_ids: vec!["sg-0123".into()],
        db_cluster_parameter_group_name: None,
        settings,
    }
}

fn instance_request(publicly_accessible: bool) -> InstanceRequest {
    InstanceRequest {
        instance_id: "clone-1-1".into(),
        cluster_id: "clone-1".into(),
        instance_class: "db.serverless".into(),
        engine: "aurora-postgresql".into(),
        db_parameter_group_name: None,
        publicly_accessible,
        tags: Tags::new(),
    }
}

/// Answers restores and instance creations as accepted.
fn accepting() -> Script {
    Arc::new(|action: &str, form: &Form| match action {
        "RestoreDBClusterToPointInTime" => ok(
            action,
            &format!(
                "<DBCluster><DBClusterIdentifier>{}</DBClusterIdentifier>\
                 <Status>creating</Status><Engine>aurora-postgresql</Engine></DBCluster>",
                form["DBClusterIdentifier"]
            ),
        ),
        "CreateDBInstance" => ok(
            action,
            &instance_xml(&form["DBInstanceIdentifier"], "creating"),
        ),
        other => refused("InvalidAction", &format!("not scripted: {other}")),
    })
}

#[tokio::test]
async fn a_restore_sends_the_roots_port_iam_auth_storage_type_log_exports_and_scaling() {
    let endpoint = ScriptedRds::start(accepting()).await;
    let settings = RestoreSettings {
        port: Some(6543),
        enable_iam_database_authentication: true,
        storage_type: Some("aurora-iopt1".into()),
        enable_cloudwatch_logs_exports: vec!["postgresql".into(), "instance".into()],
        serverless_v2_scaling: Some(ServerlessV2Scaling {
            min_capacity: Some(0.5),
            max_capacity: Some(16.0),
            seconds_until_auto_pause: Some(600),
        }),
    };
    endpoint
        .rds()
        .restore_cluster(&restore_request(settings))
        .await
        .unwrap();
    let sent = endpoint.requests("RestoreDBClusterToPointInTime");
    assert_eq!(sent.len(), 1);
    let form = &sent[0];
    let expected = [
        ("Port", "6543"),
        ("EnableIAMDatabaseAuthentication", "true"),
        ("StorageType", "aurora-iopt1"),
        ("EnableCloudwatchLogsExports.member.1", "postgresql"),
        ("EnableCloudwatchLogsExports.member.2", "instance"),
        ("ServerlessV2ScalingConfiguration.MinCapacity", "0.5"),
        ("ServerlessV2ScalingConfiguration.MaxCapacity", "16.0"),
        (
            "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause",
            "600",
        ),
        ("RestoreType", "copy-on-write"),
        ("UseLatestRestorableTime", "true"),
    ];
    for (key, value) in expected {
        assert_eq!(
            form.get(key).map(String::as_str),
            Some(value),
            "{key} in {form:#?}"
        );
    }
}

#[tokio::test]
async fn a_restore_of_a_root_with_defaults_still_says_iam_auth_is_off_and_sends_nothing_else() {
    let endpoint = ScriptedRds::start(accepting()).await;
    endpoint
        .rds()
        .restore_cluster(&restore_request(RestoreSettings::default()))
        .await
        .unwrap();
    let form = &endpoint.requests("RestoreDBClusterToPointInTime")[0];
    assert_eq!(
        form.get("EnableIAMDatabaseAuthentication")
            .map(String::as_str),
        Some("false")
    );
    for absent in ["Port", "StorageType", "EnableCloudwatchLogsExports"] {
        assert!(
            !form.keys().any(|key| key.starts_with(absent)),
            "{absent} sent: {form:#?}"
        );
    }
    assert!(
        !form
            .keys()
            .any(|key| key.starts_with("ServerlessV2ScalingConfiguration")),
        "{form:#?}"
    );
}

#[tokio::test]
async fn an_instance_is_created_with_publicly_accessible_always_sent() {
    let endpoint = ScriptedRds::start(accepting()).await;
    let rds = endpoint.rds();
    rds.create_instance(&instance_request(false)).await.unwrap();
    rds.create_instance(&instance_request(true)).await.unwrap();
    let sent = endpoint.requests("CreateDBInstance");
    let public: Vec<_> = sent
        .iter()
        .map(|form| form.get("PubliclyAccessible").cloned())
        .collect();
    assert_eq!(
        public,
        vec![Some("false".to_string()), Some("true".to_string())],
        "{sent:#?}"
    );
    assert_eq!(sent[0]["DBInstanceClass"], "db.serverless");
}

/// The endpoint refuses DeleteDBInstance with `message` and describes the instance with
/// `status`.
fn refusing_delete(message: &'static str, status: &'static str) -> Script {
    Arc::new(move |action: &str, form: &Form| match action {
        "DeleteDBInstance" => refused("InvalidDBInstanceState", message),
        "DescribeDBInstances" => ok(
            action,
            &format!(
                "<DBInstances>{}</DBInstances>",
                instance_xml(&form["DBInstanceIdentifier"], status)
            ),
        ),
        other => refused("InvalidAction", &format!("not scripted: {other}")),
    })
}

#[tokio::test]
async fn an_instance_already_being_deleted_counts_as_deleted_when_aws_says_so_in_its_own_words() {
    // AWS's wording, as reported by users of the API (for example
    // hashicorp/terraform-provider-aws#5624); the status decides, not the words.
    let endpoint = ScriptedRds::start(refusing_delete(
        "Instance clone-1-1 is already being deleted.",
        "deleting",
    ))
    .await;
    endpoint.rds().delete_instance("clone-1-1").await.unwrap();
    assert_eq!(endpoint.requests("DescribeDBInstances").len(), 1);
}

#[tokio::test]
async fn a_refused_instance_delete_stays_an_error_while_the_instance_is_not_being_deleted() {
    // A message that happens to contain "deleting" must not pass for "already being deleted".
    let endpoint = ScriptedRds::start(refusing_delete(
        "Instance clone-1-1 cannot be deleted while its cluster is not deleting or available.",
        "stopped",
    ))
    .await;
    let error = endpoint
        .rds()
        .delete_instance("clone-1-1")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), AwsErrorKind::InvalidState);
    assert_eq!(error.code(), Some("InvalidDBInstanceState"));
}

#[tokio::test]
async fn starting_a_cluster_sends_start_db_cluster_and_maps_its_refusal() {
    let endpoint = ScriptedRds::start(Arc::new(|action: &str, form: &Form| match action {
        "StartDBCluster" if form["DBClusterIdentifier"] == "stopped-1" => ok(
            action,
            "<DBCluster><DBClusterIdentifier>stopped-1</DBClusterIdentifier>\
             <Status>starting</Status></DBCluster>",
        ),
        "StartDBCluster" => refused(
            "InvalidDBClusterStateFault",
            "DbCluster running-1 is in available state but expected it to be one of stopped.",
        ),
        other => refused("InvalidAction", &format!("not scripted: {other}")),
    }))
    .await;
    let rds = endpoint.rds();
    rds.start_cluster("stopped-1").await.unwrap();
    let error = rds.start_cluster("running-1").await.unwrap_err();
    assert_eq!(error.kind(), AwsErrorKind::InvalidState);
    assert_eq!(endpoint.requests("StartDBCluster").len(), 2);
}

#[tokio::test]
async fn stopping_a_cluster_sends_stop_db_cluster_and_maps_its_refusal() {
    let endpoint = ScriptedRds::start(Arc::new(|action: &str, form: &Form| match action {
        "StopDBCluster" if form["DBClusterIdentifier"] == "running-1" => ok(
            action,
            "<DBCluster><DBClusterIdentifier>running-1</DBClusterIdentifier>\
             <Status>stopping</Status></DBCluster>",
        ),
        "StopDBCluster" => refused(
            "InvalidDBClusterStateFault",
            "DbCluster stopped-1 is in stopped state but expected it to be one of available.",
        ),
        other => refused("InvalidAction", &format!("not scripted: {other}")),
    }))
    .await;
    let rds = endpoint.rds();
    rds.stop_cluster("running-1").await.unwrap();
    let error = rds.stop_cluster("stopped-1").await.unwrap_err();
    assert_eq!(error.kind(), AwsErrorKind::InvalidState);
    assert_eq!(error.code(), Some("InvalidDBClusterStateFault"));
    assert_eq!(endpoint.requests("StopDBCluster").len(), 2);
}

#[tokio::test]
async fn renames_send_the_new_identifier_with_apply_immediately_and_map_refusals() {
    let endpoint = ScriptedRds::start(Arc::new(|action: &str, form: &Form| {
        match (
            action,
            form.get("DBClusterIdentifier"),
            form.get("DBInstanceIdentifier"),
        ) {
            ("ModifyDBCluster", Some(id), _) if id == "clone-1" => ok(
                action,
                "<DBCluster><DBClusterIdentifier>clone-1</DBClusterIdentifier>\
                 <Status>available</Status></DBCluster>",
            ),
            ("ModifyDBCluster", _, _) => {
                refused("DBClusterAlreadyExistsFault", "DB Cluster already exists")
            }
            (other, _, _) => refused("InvalidAction", &format!("not scripted: {other}")),
        }
    }))
    .await;
    let rds = endpoint.rds();
    rds.rename_cluster("clone-1", "clone-1-old").await.unwrap();
    let cluster = &endpoint.requests("ModifyDBCluster")[0];
    assert_eq!(cluster["NewDBClusterIdentifier"], "clone-1-old");
    assert_eq!(cluster["ApplyImmediately"], "true");
    assert!(!cluster.contains_key("MasterUserPassword"));

    let error = rds.rename_cluster("clone-2", "clone-1").await.unwrap_err();
    assert_eq!(error.kind(), AwsErrorKind::AlreadyExists);
    assert_eq!(error.code(), Some("DBClusterAlreadyExistsFault"));
}

#[tokio::test]
async fn a_restore_that_scales_to_zero_sends_a_minimum_of_zero_and_the_pause_interval() {
    let endpoint = ScriptedRds::start(accepting()).await;
    let settings = RestoreSettings {
        serverless_v2_scaling: Some(ServerlessV2Scaling {
            min_capacity: Some(0.0),
            max_capacity: Some(4.0),
            seconds_until_auto_pause: Some(600),
        }),
        ..RestoreSettings::default()
    };
    endpoint
        .rds()
        .restore_cluster(&restore_request(settings))
        .await
        .unwrap();
    let form = &endpoint.requests("RestoreDBClusterToPointInTime")[0];
    let scaling: Vec<(&str, &str)> = form
        .iter()
        .filter(|(key, _)| key.starts_with("ServerlessV2ScalingConfiguration."))
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(
        scaling,
        vec![
            ("ServerlessV2ScalingConfiguration.MaxCapacity", "4.0"),
            ("ServerlessV2ScalingConfiguration.MinCapacity", "0.0"),
            (
                "ServerlessV2ScalingConfiguration.SecondsUntilAutoPause",
                "600"
            ),
        ],
        "{form:#?}"
    );
}
