//! The real binary under a Lambda runtime API stand-in on 127.0.0.1, with AWS pointed at
//! moto: a CloudFormation Create, a scheduled event, a dry-run action and an unknown event
//! each get the right answer. The binary is `LAMBDA_BOOTSTRAP` when set (the release
//! bootstrap that build.sh makes with cargo-lambda), else this build's binary.

use crate::moto_harness;

use std::process::Stdio;
use std::time::Duration;

use moto_harness::*;
use serde_json::json;

fn bootstrap_path() -> String {
    std::env::var("LAMBDA_BOOTSTRAP")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_aurora-clone-manager").to_string())
}

/// Starts the binary as Lambda would, with AWS pointed at `endpoint`.
fn start_function(runtime: &RuntimeApi, endpoint: &str, configured: bool) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(bootstrap_path());
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "acm")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/acm")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_SESSION_TOKEN", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("POLL_INTERVAL_SECONDS", "1")
        .env("LOG_LEVEL", "info")
        // The capture server is on 127.0.0.1.
        .env("ALLOW_LOCAL_RESPONSE_URLS", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if configured {
        command
            .env("STACK_NAME", "acm")
            .env("STATE_TABLE", crate::moto_harness::MOTO_STATE_TABLE);
    }
    command.spawn().expect("start the bootstrap binary")
}

#[tokio::test]
async fn a_misconfigured_function_still_answers_cloudformation_failed_with_the_reason() {
    let capture = response_capture().await;
    let runtime = runtime_api().await;
    let _function = start_function(&runtime, "http://127.0.0.1:9", false);
    runtime.wait_first_poll(Duration::from_secs(30)).await;
    let create = runtime.invoke(json!({
        "RequestType": "Create", "ResponseURL": capture.url("create"), "StackId": STACK_ID,
        "RequestId": "req-1", "ResourceType": "Custom::AuroraClone", "LogicalResourceId": "TestDb",
        "ResourceProperties": {"SourceClusterId": "prod-db"}
    }));
    assert!(matches!(
        runtime.result(&create, Duration::from_secs(30)).await,
        InvocationResult::Error(_)
    ));
    let answers = capture.wait_for("create", 1, Duration::from_secs(5)).await;
    assert_eq!(answers[0].status(), Some("FAILED"));
    assert!(
        answers[0].reason().unwrap().contains("STACK_NAME"),
        "{}",
        answers[0].body
    );
}

#[tokio::test]
async fn the_binary_serves_cloudformation_schedule_and_manual_events_under_a_lambda_runtime() {
    let proxy = moto_account_proxy(FaultSchedule::none()).await;
    let sdk = sdk_config(&proxy.endpoint());
    seed_root(&sdk, "prod-db").await;
    crate::moto_harness::create_state_table(&sdk, crate::moto_harness::MOTO_STATE_TABLE).await;
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/acm/maintenance-config")
        .value(r#"{:clusters [{:cluster-id "prod-db" :target-clone-slots 20}]}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let capture = response_capture().await;
    let runtime = runtime_api().await;

    let mut function = start_function(&runtime, &proxy.endpoint(), true);
    runtime.wait_first_poll(Duration::from_secs(30)).await;

    let create = runtime.invoke(json!({
        "RequestType": "Create",
        "ResponseURL": capture.url("create"),
        "StackId": STACK_ID,
        "RequestId": "req-1",
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": "TestDb",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:acm", "SourceClusterId": "prod-db"}
    }));
    let InvocationResult::Response(result) =
        runtime.result(&create, Duration::from_secs(120)).await
    else {
        panic!("the Create invocation failed");
    };
    assert_eq!(result["handled"], "cloudformation");
    let answers = capture.wait_for("create", 1, Duration::from_secs(5)).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].status(), Some("SUCCESS"), "{}", answers[0].body);
    assert_eq!(answers[0].content_type.as_deref(), Some(""));

    let scheduled = runtime.invoke(json!({
        "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/acm-maintenance"], "detail": {}
    }));
    let InvocationResult::Response(report) =
        runtime.result(&scheduled, Duration::from_secs(120)).await
    else {
        panic!("the scheduled invocation failed");
    };
    assert_eq!(report["roots"][0]["clusterId"], "prod-db");
    assert_eq!(
        report["roots"][0]["copiesCreated"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{report}"
    );

    let dry_run = runtime.invoke(json!({"action": "maintain", "dryRun": true}));
    let InvocationResult::Response(plan) = runtime.result(&dry_run, Duration::from_secs(60)).await
    else {
        panic!("the dry run failed");
    };
    assert_eq!(plan["dryRun"], true);
    assert!(
        plan["plan"]["roots"][0]["copies"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{plan}"
    );

    let unknown = runtime.invoke(json!({"hello": "world"}));
    let InvocationResult::Error(error) = runtime.result(&unknown, Duration::from_secs(30)).await
    else {
        panic!("an unknown event must be an error");
    };
    assert!(error.to_string().contains("unrecognised event"), "{error}");

    function.start_kill().ok();
    let output = function
        .wait_with_output()
        .await
        .expect("the function's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\"Namespace\":\"AuroraCloneManager\""),
        "EMF metrics on stdout"
    );
}
