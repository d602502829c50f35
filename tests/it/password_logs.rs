//! The password never reaches a log line, an answer, an event or a metric.
//!
//! The flow runs in a test process of its own, with a global subscriber installed before
//! anything logs. Sharing a process with the other tests loses lines: tracing caches for
//! each log statement whether anyone listens, process-wide, and a statement another test
//! reached first can stay disabled for this test whatever subscriber it installs.

use crate::fake_harness;

use std::io::Write;
use std::sync::{Arc, Mutex};

use fake_harness::*;
use serde_json::json;

const READER: &str = "arn:aws:iam::123456789012:role/developer";

/// The test that runs the flow, by its full name in this binary.
const FLOW_TEST: &str = "password_logs::flow_logs_no_password";

/// Everything written, to search the logs.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

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

#[test]
fn the_password_appears_in_no_log_line_answer_event_or_metric() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([FLOW_TEST, "--exact", "--ignored", "--nocapture"])
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the flow failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the flow ran exactly once:\n{stdout}"
    );
}

/// The flow itself; run only by the test above, in a process where nothing else logs.
#[ignore = "runs in its own process, started by the_password_appears_in_no_log_line_answer_event_or_metric"]
#[tokio::test(start_paused = true)]
async fn flow_logs_no_password() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("nothing else in this process installed a subscriber");

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

    let logged = logs.text();
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
