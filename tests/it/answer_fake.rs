//! `answer --from-queue` against the fake: a Create whose invocation died after making its
//! clone is answered FAILED with the clone's ARN, so that CloudFormation's rollback deletes
//! the clone instead of leaving it behind.

use crate::fake_harness;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aurora_clone_manager::aws::{AwsError, Queue, QueueMessage};
use aurora_clone_manager::run::machinery::respond::Status;
use aurora_clone_manager::run::workflows::answer::answer_from_queue;
use fake_harness::*;
use serde_json::{Value, json};

/// An in-memory queue: every receive returns what is left, delete removes.
struct MemoryQueue {
    messages: Mutex<Vec<QueueMessage>>,
    received: Mutex<u32>,
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn receive(
        &self,
        _queue_url: &str,
        _visibility: Duration,
    ) -> Result<Vec<QueueMessage>, AwsError> {
        *self.received.lock().unwrap() += 1;
        Ok(self.messages.lock().unwrap().clone())
    }

    async fn delete(&self, _queue_url: &str, receipt_handle: &str) -> Result<(), AwsError> {
        self.messages
            .lock()
            .unwrap()
            .retain(|message| message.receipt_handle != receipt_handle);
        Ok(())
    }
}

fn record(payload: Value) -> String {
    json!({
        "version": "1.0",
        "requestContext": {"requestId": "invocation-1", "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": payload,
    })
    .to_string()
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_invocation_died_after_making_its_clone_is_failed_with_the_clones_arn() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let create = create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "WaitForReady": "false"}),
    );
    env.send(create.clone()).await;
    let clone = env.managed("clone").remove(0);
    let queue = MemoryQueue {
        messages: Mutex::new(vec![QueueMessage {
            message_id: "m-1".into(),
            receipt_handle: "r-1".into(),
            body: record(create),
        }]),
        received: Mutex::new(0),
    };

    let report = answer_from_queue(&env.app, &queue, "queue", false)
        .await
        .unwrap();

    assert_eq!(report.records.len(), 1, "{report:?}");
    assert_eq!(report.records[0].outcome, "answered");
    let answers = env.answers(&response_url("req-1"));
    assert_eq!(
        answers.len(),
        2,
        "the create's own answer, then ours: {answers:#?}"
    );
    assert_eq!(answers[1].status, Status::Failed);
    assert_eq!(answers[1].physical_resource_id, clone.arn);
    assert!(
        queue.messages.lock().unwrap().is_empty(),
        "the answered record is deleted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_answers_nothing_and_keeps_every_record() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let delete = delete_event(
        "Db",
        "req-2",
        "arn:aws:rds:us-east-1:123456789012:cluster:acm-gone",
        json!({}),
    );
    let queue = MemoryQueue {
        messages: Mutex::new(vec![QueueMessage {
            message_id: "m-1".into(),
            receipt_handle: "r-1".into(),
            body: record(delete),
        }]),
        received: Mutex::new(0),
    };

    let report = answer_from_queue(&env.app, &queue, "queue", true)
        .await
        .unwrap();

    assert_eq!(report.records[0].outcome, "would answer");
    assert_eq!(report.records[0].status, Some(Status::Success));
    assert!(env.answers(&response_url("req-2")).is_empty());
    assert_eq!(queue.messages.lock().unwrap().len(), 1);
    assert_eq!(
        *queue.received.lock().unwrap(),
        2,
        "stops once nothing new comes"
    );
}
