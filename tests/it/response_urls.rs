//! A CloudFormation response names the clone, its endpoint and its secret: it goes only to
//! CloudFormation's response bucket. An event that names any other ResponseURL (forged by
//! whoever may invoke the function) gets nothing sent there; a local emulator's 127.0.0.1
//! is answered only when the deployment allows it, which the template never does.

use crate::moto_harness::response_capture;

use std::time::Duration;

use aurora_clone_manager::input::cfn::Envelope;
use aurora_clone_manager::run::machinery::respond::{
    CfnResponse, HttpResponder, Responder, ResponseError,
};
use serde_json::json;

fn response_to(url: &str) -> CfnResponse {
    let event = json!({"RequestType": "Create", "ResponseURL": url,
                       "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1",
                       "RequestId": "req-1", "LogicalResourceId": "Db",
                       "ResourceType": "Custom::AuroraClone"});
    let envelope = Envelope::read(&event);
    CfnResponse::failed(&envelope, "acm-app-db", "a reason")
}

#[tokio::test]
async fn a_response_url_that_is_not_cloudformations_is_never_contacted() {
    let capture = response_capture().await;
    let forged = capture.url("forged");
    let responder = HttpResponder::new(false);
    let error = responder
        .send(&forged, &response_to(&forged))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ResponseError::NotCloudFormation(_)),
        "{error}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        capture.responses().is_empty(),
        "the forged URL was contacted"
    );
}

#[tokio::test]
async fn a_local_emulator_is_answered_only_when_the_deployment_allows_it() {
    let capture = response_capture().await;
    let local = capture.url("local");
    HttpResponder::new(true)
        .send(&local, &response_to(&local))
        .await
        .unwrap();
    assert_eq!(
        capture
            .wait_for("local", 1, Duration::from_secs(10))
            .await
            .len(),
        1
    );
}
