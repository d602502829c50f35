//! The one way long work continues past a Lambda invocation's deadline: the work is sent,
//! as a job, to a fresh asynchronous invocation of this function, at most `max_hops` times.
//! The finisher (waiting for a clone to become usable) and a CloudFormation Delete
//! (waiting for a stopped clone to start) both hand over through here, with the same
//! allowance and the same limit.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::aws::AwsError;
use crate::run::machinery::context::{Context, Invocation};

/// Time kept free at the end of an invocation for handing over to the next one: one
/// asynchronous Invoke call.
pub const HANDOVER_ALLOWANCE: Duration = Duration::from_secs(5);

/// Whether this invocation must hand over now rather than wait one more poll.
pub fn must_hand_over(app: &Context, invocation: &Invocation) -> bool {
    invocation
        .time_left(app.config.deadline_margin)
        .is_some_and(|left| left < app.config.poll_interval + HANDOVER_ALLOWANCE)
}

/// How a hand-over went.
#[derive(Debug)]
pub enum HandOver {
    /// A fresh invocation has the job.
    Sent,
    /// The job has already been handed over `max_hops` times.
    TooManyHops { max_hops: u32 },
    /// Not running in Lambda (the CLI): there is no function to continue in.
    NoFunction,
    /// The Invoke call failed.
    Failed(AwsError),
}

/// Sends `{"action": action, "job": job}` to a fresh asynchronous invocation, unless the
/// job is on its hop past `max_hops` or there is no function to invoke.
pub async fn hand_over(
    app: &Context,
    invocation: &Invocation,
    action: &str,
    job: &impl Serialize,
    hop: u32,
) -> HandOver {
    if hop > app.config.max_hops {
        return HandOver::TooManyHops {
            max_hops: app.config.max_hops,
        };
    }
    let Some(function_name) = invocation.function_name.as_deref() else {
        return HandOver::NoFunction;
    };
    let payload = json!({"action": action, "job": job});
    match app
        .ports
        .invoker
        .invoke_async(function_name, &payload)
        .await
    {
        Ok(()) => {
            tracing::info!(action, hop, "handed over to a fresh invocation");
            HandOver::Sent
        }
        Err(error) => HandOver::Failed(error),
    }
}
