//! The password never reaches a log line, an answer, an event or a metric. The log capture
//! is this test's thread's default subscriber: the test runs on a current-thread runtime,
//! so every task of the flow logs on that thread, and no other test's lines mix in.

use crate::fake_harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use fake_harness::*;
use serde_json::json;

const READER: &str = "arn:aws:iam::123456789012:role/developer";

/// A `MakeWriter` that keeps everything written, to search the logs.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(start_paused = true)]
async fn the_password_appears_in_no_log_line_answer_event_or_metric() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _capture = tracing::subscriber::set_default(subscriber);

    let env = FakeEnv::new();
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": READER}),
    ))
    .await;
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    let clone_id = env.managed("clone")[0].id.clone();
    let password = env
        .fake
        .master_password(&clone_id)
        .expect("a password was set");
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("answering CloudFormation"),
        "the logs were captured: {}",
        &logged[..logged.len().min(2000)]
    );
    assert!(!logged.contains(&password), "the password was logged");
    let answers = format!("{:?}", env.responses.responses());
    assert!(!answers.contains(&password));
    let events = format!("{:?}", env.fake.events());
    assert!(!events.contains(&password));
    let metrics = format!("{:?}", env.metrics.lines());
    assert!(!metrics.contains(&password));
}
