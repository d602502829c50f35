//! Retrying a call while AWS answers with a refusal that time will clear (throttling, IAM
//! propagation), with exponential backoff and a bound on the total wait.

use std::future::Future;
use std::time::Duration;

/// How to space out attempts and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Pause after the first refusal; doubled after each further one.
    pub first: Duration,
    /// Longest pause between attempts.
    pub max: Duration,
    /// No attempt starts after this much time has passed since the first.
    pub patience: Duration,
}

/// The last refusal, after waiting as long as the [`Backoff`] allows.
#[derive(Debug)]
pub struct GaveUp<E> {
    pub error: E,
    pub waited: Duration,
}

/// Runs `call` until it succeeds, fails with an error `worth_waiting_for` does not accept,
/// or the patience runs out. Sleeps on the tokio clock, so paused-time tests run instantly.
pub async fn retry<T, E, Call, Attempt>(
    backoff: Backoff,
    worth_waiting_for: impl Fn(&E) -> bool,
    call: Call,
) -> Result<T, GaveUp<E>>
where
    E: std::fmt::Display,
    Call: Fn() -> Attempt,
    Attempt: Future<Output = Result<T, E>>,
{
    let started = tokio::time::Instant::now();
    let mut pause = backoff.first;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error)
                if worth_waiting_for(&error) && started.elapsed() + pause <= backoff.patience =>
            {
                tracing::info!(%error, ?pause, "refused for now; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(backoff.max);
            }
            Err(error) => {
                return Err(GaveUp {
                    error,
                    waited: started.elapsed(),
                });
            }
        }
    }
}
