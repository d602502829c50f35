//! Faults around any port: [`Faults`] is a [`Hook`] that, before each call reaches the
//! port, applies what a test or benchmark scheduled: an AWS error (throttling, a server
//! error, a refusal) or a panic for the next calls of an operation, latency on every call,
//! and a halt after a number of changing calls that models a Lambda killed mid-step.
//! [`Faults::wrap`] hooks every port of a [`Ports`] bundle, so the same faults apply to the
//! in-process fake, a recorder, or any other implementation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::hooks::{Call, Hook};
use crate::{AwsError, AwsErrorKind, Operation, Ports};

/// A failure to inject into calls of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttle,
    ServerError,
    NotFound,
    Denied,
    InvalidState,
    /// The call panics, as a bug would.
    Panic,
}

impl Fault {
    fn into_error(self, operation: &'static str) -> AwsError {
        let (kind, message) = match self {
            Fault::Throttle => (AwsErrorKind::Throttled, "Rate exceeded (injected)"),
            Fault::ServerError => (AwsErrorKind::Other, "Internal failure (injected)"),
            Fault::NotFound => (AwsErrorKind::NotFound, "Not found (injected)"),
            Fault::Denied => (AwsErrorKind::Denied, "Access denied (injected)"),
            Fault::InvalidState => (AwsErrorKind::InvalidState, "Invalid state (injected)"),
            Fault::Panic => panic!("injected panic in {operation}"),
        };
        AwsError::new(kind, operation, message)
    }
}

#[derive(Debug, Clone)]
struct FaultRule {
    /// `None` matches every operation.
    operation: Option<Operation>,
    fault: Fault,
    skip: u32,
    remaining: u32,
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<FaultRule>,
    /// Faults returned so far, by operation.
    fired: BTreeMap<&'static str, u64>,
    latency: Duration,
    /// Changing calls let through so far: the step counter of a halt.
    mutations: u64,
    halt_after_mutations: Option<u64>,
}

/// The faults scheduled for the calls of one or more wrapped ports.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<FaultState>,
    halted: tokio::sync::Notify,
}

impl Faults {
    pub fn new() -> Arc<Faults> {
        Arc::new(Faults::default())
    }

    /// Every port of `ports`, wrapped so that these faults apply to its calls.
    pub fn wrap(self: &Arc<Self>, ports: Ports) -> Ports {
        ports.hooked(self.clone())
    }

    /// Makes the next `times` calls of `operation` fail.
    pub fn inject(&self, operation: Operation, fault: Fault, times: u32) {
        self.inject_after(operation, fault, 0, times);
    }

    /// Like [`Faults::inject`], but lets `skip` calls through first.
    pub fn inject_after(&self, operation: Operation, fault: Fault, skip: u32, times: u32) {
        self.push_rule(Some(operation), fault, skip, times);
    }

    /// Makes the next `times` calls, of any operation, fail.
    pub fn inject_every(&self, fault: Fault, times: u32) {
        self.push_rule(None, fault, 0, times);
    }

    fn push_rule(&self, operation: Option<Operation>, fault: Fault, skip: u32, times: u32) {
        self.lock().rules.push(FaultRule {
            operation,
            fault,
            skip,
            remaining: times,
        });
    }

    pub fn clear_faults(&self) {
        self.lock().rules.clear();
    }

    /// How many injected faults each operation has returned: proof that a test's fault
    /// was reached.
    pub fn fired(&self) -> BTreeMap<&'static str, u64> {
        self.lock().fired.clone()
    }

    /// Every call waits this long before it reaches the port.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// After `mutations` more changing calls, every further call blocks until
    /// [`Faults::resume`], as if the process had been killed; the test drops the caller's
    /// future.
    pub fn halt_after_mutations(&self, mutations: u64) {
        let mut state = self.lock();
        state.halt_after_mutations = Some(state.mutations + mutations);
    }

    /// Lets calls through again after a halt.
    pub fn resume(&self) {
        self.lock().halt_after_mutations = None;
        self.halted.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every wrapped call passes here: honours a halt, waits the latency, and returns an
    /// injected failure when one is due; a changing call let through counts as a step.
    async fn enter(&self, operation: Operation) -> Result<(), AwsError> {
        let (latency, halted) = {
            let state = self.lock();
            let halted = state
                .halt_after_mutations
                .is_some_and(|limit| state.mutations >= limit);
            (state.latency, halted)
        };
        if halted {
            loop {
                let notified = self.halted.notified();
                if self.lock().halt_after_mutations.is_none() {
                    break;
                }
                notified.await;
            }
        }
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        for rule in state.rules.iter_mut() {
            if rule.remaining == 0 || rule.operation.is_some_and(|only| only != operation) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            rule.remaining -= 1;
            let fault = rule.fault;
            *state.fired.entry(operation.name).or_insert(0) += 1;
            drop(state);
            return Err(fault.into_error(operation.name));
        }
        if operation.changes_state {
            state.mutations += 1;
        }
        Ok(())
    }
}

#[async_trait]
impl Hook for Faults {
    async fn before(&self, call: &Call<'_>) -> Result<(), AwsError> {
        self.enter(call.operation).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeAws;
    use crate::operations;

    fn wrapped() -> (Arc<FakeAws>, Arc<Faults>, Ports) {
        let fake = FakeAws::new();
        let faults = Faults::new();
        let ports = faults.wrap(fake.ports());
        (fake, faults, ports)
    }

    #[tokio::test]
    async fn an_injected_fault_reaches_the_caller_and_never_the_wrapped_port() {
        let (fake, faults, ports) = wrapped();
        faults.inject(operations::SSM_GET_PARAMETER, Fault::Throttle, 1);
        let error = ports.params.get("/acm/x").await.unwrap_err();
        assert_eq!(error.kind(), AwsErrorKind::Throttled);
        assert_eq!(error.operation(), operations::SSM_GET_PARAMETER.name);
        assert_eq!(
            fake.call_counts().get(operations::SSM_GET_PARAMETER.name),
            None
        );
        assert_eq!(
            faults.fired().get(operations::SSM_GET_PARAMETER.name),
            Some(&1)
        );
        assert_eq!(ports.params.get("/acm/x").await.unwrap(), None);
        assert_eq!(
            fake.call_counts().get(operations::SSM_GET_PARAMETER.name),
            Some(&1)
        );
    }

    #[tokio::test]
    async fn a_fault_after_skipped_calls_matches_only_its_operation() {
        let (_fake, faults, ports) = wrapped();
        faults.inject_after(operations::SSM_PUT_PARAMETER, Fault::Denied, 1, 1);
        ports.params.get("/acm/x").await.unwrap();
        ports.params.put("/acm/x", "1").await.unwrap();
        let error = ports.params.put("/acm/x", "2").await.unwrap_err();
        assert_eq!(error.kind(), AwsErrorKind::Denied);
        ports.params.put("/acm/x", "3").await.unwrap();
        faults.inject_every(Fault::ServerError, 1);
        assert_eq!(
            ports.identity.caller().await.unwrap_err().operation(),
            operations::STS_GET_CALLER_IDENTITY.name
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_halt_stops_calls_after_the_given_changing_calls_until_resumed() {
        let (fake, faults, ports) = wrapped();
        faults.halt_after_mutations(1);
        ports.params.get("/acm/x").await.unwrap();
        ports.params.put("/acm/x", "1").await.unwrap();
        let blocked = tokio::time::timeout(Duration::from_secs(60), ports.params.get("/acm/x"));
        assert!(blocked.await.is_err(), "a halted call returned");
        assert_eq!(fake.mutation_count(), 1);
        faults.resume();
        assert!(ports.params.get("/acm/x").await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn latency_delays_every_call_before_it_reaches_the_port() {
        let (_fake, faults, ports) = wrapped();
        faults.set_latency(Duration::from_millis(250));
        let started = tokio::time::Instant::now();
        ports.params.get("/acm/x").await.unwrap();
        ports.rds.describe_cluster("nothing").await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
