//! Hostile and malformed CloudFormation requests: each gets exactly one FAILED answer whose
//! reason names the problem, and nothing is made.

use crate::fake_harness;

use aurora_clone_manager::lambda::handler::handle_payload;
use fake_harness::*;
use serde_json::{Value, json};

fn base() -> Value {
    create_event("Db", "req", json!({"SourceClusterId": "prod"}))
}

fn with_property(name: &str, value: Value) -> Value {
    let mut event = base();
    event["ResourceProperties"][name] = value;
    event
}

fn without(field: &str) -> Value {
    let mut event = base();
    event.as_object_mut().unwrap().remove(field);
    event
}

fn with_field(field: &str, value: Value) -> Value {
    let mut event = base();
    event[field] = value;
    event
}

#[tokio::test(start_paused = true)]
async fn every_malformed_request_gets_one_failed_answer_naming_the_problem() {
    let many_tags: serde_json::Map<String, Value> =
        (0..60).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "no properties",
            without("ResourceProperties"),
            "SourceClusterId: is required",
        ),
        (
            "properties not an object",
            with_field("ResourceProperties", json!("prod")),
            "ResourceProperties",
        ),
        (
            "no source",
            with_property("SourceClusterId", Value::Null),
            "SourceClusterId: is required",
        ),
        (
            "source starts with a digit",
            with_property("SourceClusterId", json!(123)),
            "SourceClusterId",
        ),
        (
            "source with underscore",
            with_property("SourceClusterId", json!("prod_db")),
            "SourceClusterId",
        ),
        (
            "source too long",
            with_property("SourceClusterId", json!("a".repeat(64))),
            "SourceClusterId",
        ),
        (
            "source with double hyphen",
            with_property("SourceClusterId", json!("a--b")),
            "SourceClusterId",
        ),
        (
            "source a list",
            with_property("SourceClusterId", json!(["prod"])),
            "SourceClusterId",
        ),
        (
            "cluster id trailing hyphen",
            with_property("ClusterId", json!("clone-")),
            "ClusterId",
        ),
        (
            "cluster id equals source",
            with_property("ClusterId", json!("prod")),
            "ClusterId",
        ),
        (
            "copy ok not a boolean",
            with_property("CopyOk", json!("yes")),
            "CopyOk",
        ),
        (
            "purge a number",
            with_property("PurgeObsoleteCopies", json!(5)),
            "PurgeObsoleteCopies",
        ),
        (
            "wait a list",
            with_property("WaitForReady", json!([])),
            "WaitForReady",
        ),
        (
            "max age in months",
            with_property("MaxCopyAge", json!("P1M")),
            "MaxCopyAge",
        ),
        (
            "max age in words",
            with_property("MaxCopyAge", json!("forever")),
            "MaxCopyAge",
        ),
        (
            "created since in words",
            with_property("CopyCreatedSince", json!("yesterday")),
            "CopyCreatedSince",
        ),
        (
            "password without readers",
            with_property("SetPassword", json!("true")),
            "AccessPrincipalArns",
        ),
        (
            "wildcard reader",
            {
                let mut event = with_property("SetPassword", json!("true"));
                event["ResourceProperties"]["AccessPrincipalArns"] = json!("*");
                event
            },
            "AccessPrincipalArns",
        ),
        (
            "readers of numbers",
            with_property("AccessPrincipalArns", json!([1, 2])),
            "AccessPrincipalArns[0]",
        ),
        (
            "reader not an arn",
            with_property("AccessPrincipalArns", json!("arn:aws:iam::1:role/x")),
            "AccessPrincipalArns",
        ),
        (
            "instance class",
            with_property("InstanceClass", json!("huge")),
            "InstanceClass",
        ),
        (
            "tags as text",
            with_property("Tags", json!("team=data")),
            "Tags",
        ),
        (
            "huge tags",
            with_property("Tags", Value::Object(many_tags)),
            "Tags",
        ),
        (
            "reserved tag",
            with_property("Tags", json!({"aurora-clone-manager:role": "copy"})),
            "Tags",
        ),
        (
            "long tag value",
            with_property("Tags", json!({"team": "x".repeat(300)})),
            "Tags",
        ),
        (
            "nested tag value",
            with_property("Tags", json!({"team": {"a": 1}})),
            "Tags.team",
        ),
        (
            "security group",
            with_property("VpcSecurityGroupIds", json!(["default"])),
            "VpcSecurityGroupIds",
        ),
        (
            "misspelt property",
            with_property("SourceClusterID", json!("prod")),
            "SourceClusterID",
        ),
        (
            "secret prefix",
            with_property("SecretPrefix", json!("no-slashes")),
            "SecretPrefix",
        ),
        (
            "secret prefix not allowed",
            with_property("SecretPrefix", json!("/elsewhere/")),
            "SecretPrefix",
        ),
        (
            "unknown request type",
            with_field("RequestType", json!("Replace")),
            "RequestType",
        ),
        (
            "request type a number",
            with_field("RequestType", json!(5)),
            "RequestType",
        ),
        ("no stack id", without("StackId"), "StackId"),
        ("no request id", without("RequestId"), "RequestId"),
        (
            "no logical id",
            without("LogicalResourceId"),
            "LogicalResourceId",
        ),
        ("no resource type", without("ResourceType"), "ResourceType"),
        (
            "update without physical id",
            with_field("RequestType", json!("Update")),
            "PhysicalResourceId",
        ),
        (
            "delete without physical id",
            with_field("RequestType", json!("Delete")),
            "PhysicalResourceId",
        ),
        (
            "missing source cluster",
            with_property("SourceClusterId", json!("nope")),
            "source cluster 'nope' does not exist",
        ),
    ];
    assert!(cases.len() >= 25);
    for (name, event, expected) in cases {
        let env = FakeEnv::new();
        env.seed_root("prod");
        env.send(event).await;
        let answers = env.answers(&response_url("req"));
        assert_eq!(
            answers.len(),
            1,
            "{name}: expected one answer, got {answers:#?}"
        );
        assert_failed_with(&answers[0], expected);
        assert!(
            env.managed("clone").is_empty(),
            "{name}: something was made"
        );
        assert!(
            env.fake.restores().is_empty(),
            "{name}: a restore was started"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_that_is_not_json_is_still_answered_when_its_response_url_can_be_read() {
    let env = FakeEnv::new();
    let text = format!(
        "{{\"RequestType\": \"Create\", \"ResponseURL\": \"{}\", \"StackId\": \"{STACK_ID}\", \"RequestId\": \"req\", \"ResourceProperties\": {{",
        response_url("req")
    );
    let result = handle_payload(env.app.clone(), lambda_invocation(), text.as_bytes()).await;
    assert!(result.is_err());
    let answer = env.only_answer(&response_url("req"));
    assert_failed_with(&answer, "not valid JSON");
    assert_eq!(answer.request_id, "req");
    assert!(
        handle_payload(env.app.clone(), lambda_invocation(), b"\xff\xfe garbage")
            .await
            .is_err()
    );
    assert_eq!(env.responses.responses().len(), 1);
}
