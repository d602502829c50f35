//! In-process fakes of every port, faithful to AWS where the tests need it and where the
//! local emulator is not: clone groups and the silent full copy after 15 clones,
//! `creating → available` after a number of describes, pagination, identifier clashes.
//! Injected failures, latency and halts are not the fake's: [`crate::failure`] wraps
//! its ports (or any others) with them.
//!
//! May import: the port traits of this crate, and the model's types, rules and operations.
//! Must not import: the SDK adapters (`crate::sdk`); the planner is out of reach (a planner
//! rule the fake borrowed could hide its own bug), since this crate does not depend on it.

mod dynamodb;
mod kms;
mod metrics;
mod policy;
mod rds;
mod services;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};
use crate::{AwsError, AwsErrorKind, BusEvent, Ports};

pub use kms::{IdentityKeyCondition, IdentityKeyRight, KMS_TAG_AND_ALIAS_AUTHORIZATION_DELAY};
pub use rds::{CLUSTER_RENAME_TAKES, FakeClusterSeed};

/// The state table the test harnesses create in the fake and name in the configuration.
pub const FAKE_STATE_TABLE: &str = "acm-StateTable-FAKE";

/// Tunables of the fake.
#[derive(Debug, Clone)]
pub struct FakeSettings {
    /// How many Describe* calls a cluster or instance stays `creating` (and the like) for.
    pub describes_until_available: u32,
    /// False (the default, as AWS behaves): CreateDBInstance in a cluster that is still
    /// `creating` fails with `InvalidState`; AWS adds instances to a restored cluster only
    /// once it is available (RestoreDBClusterToPointInTime, API reference). True is a
    /// leniency for the one test that needs an instance in a creating cluster.
    pub instances_wait_for_cluster: bool,
    pub account_id: String,
    pub region: String,
    /// SSM calls (all parameter operations together) answered per second before the rest
    /// are throttled; `None` for no limit. The account's SSM throughput is shared by every
    /// caller, so a busy account throttles calls of ours that alone would be few.
    pub ssm_calls_per_second: Option<u32>,
    /// How long a new secret stays out of ListSecrets: "ListSecrets is eventually
    /// consistent … might not reflect changes from the last five minutes" (Secrets Manager
    /// API reference, ListSecrets).
    pub list_secrets_lag: Duration,
    /// Who the ports act as (GetCallerIdentity); `None` is an IAM user of the account. Key
    /// and secret policies are evaluated for this principal.
    pub caller_arn: Option<String>,
    /// What the caller's own IAM policies allow on keys whose policy delegates to the
    /// account; empty by default, as the clone manager's role has no such rights.
    pub identity_key_rights: Vec<IdentityKeyRight>,
}

impl Default for FakeSettings {
    fn default() -> Self {
        FakeSettings {
            describes_until_available: 2,
            instances_wait_for_cluster: false,
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            ssm_calls_per_second: None,
            list_secrets_lag: Duration::from_secs(300),
            caller_arn: None,
            identity_key_rights: Vec::new(),
        }
    }
}

/// All fakes in one object; [`FakeAws::ports`] hands it out as every port.
pub struct FakeAws {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct State {
    settings: FakeSettings,
    rds: rds::RdsState,
    services: services::ServiceState,
    dynamo: dynamodb::DynamoState,
    kms: kms::KmsState,
    metrics: metrics::MetricsState,
    calls: BTreeMap<&'static str, u64>,
    mutations: u64,
    sequence: u64,
    /// IAM principals created moments ago, with the time from which policies may name them.
    propagating_principals: BTreeMap<String, DateTime<Utc>>,
}

impl FakeAws {
    pub fn new() -> Arc<FakeAws> {
        FakeAws::with_clock(Arc::new(SystemClock))
    }

    pub fn with_clock(clock: Arc<dyn Clock>) -> Arc<FakeAws> {
        Arc::new(FakeAws {
            state: Mutex::new(State::default()),
            clock,
        })
    }

    /// This fake as every port.
    pub fn ports(self: &Arc<Self>) -> Ports {
        Ports {
            rds: self.clone(),
            params: self.clone(),
            state: self.clone(),
            identity: self.clone(),
            secrets: self.clone(),
            keys: self.clone(),
            events: self.clone(),
            invoker: self.clone(),
            metrics: self.clone(),
        }
    }

    pub fn configure(&self, change: impl FnOnce(&mut FakeSettings)) {
        change(&mut self.lock().settings);
    }

    pub fn settings(&self) -> FakeSettings {
        self.lock().settings.clone()
    }

    /// Models an IAM principal created moments ago: until `propagation` has passed, a
    /// resource or key policy naming it is refused with MalformedPolicyDocumentException,
    /// as Secrets Manager and KMS refuse principals IAM has not propagated yet.
    pub fn principal_created_now(&self, principal_arn: &str, propagation: Duration) {
        let ready_at =
            self.now() + chrono::TimeDelta::from_std(propagation).unwrap_or(chrono::TimeDelta::MAX);
        self.lock()
            .propagating_principals
            .insert(principal_arn.to_string(), ready_at);
    }

    /// Refuses a policy that names a principal IAM has not propagated yet.
    fn check_principals_propagated(
        &self,
        operation: &'static str,
        policy: &str,
        message: &str,
    ) -> Result<(), AwsError> {
        let now = self.now();
        let state = self.lock();
        let unpropagated = state
            .propagating_principals
            .iter()
            .any(|(arn, ready_at)| *ready_at > now && policy.contains(arn.as_str()));
        if unpropagated {
            return Err(AwsError::with_code(
                AwsErrorKind::InvalidRequest,
                operation,
                "MalformedPolicyDocumentException",
                message,
            ));
        }
        Ok(())
    }

    /// Calls made so far, by operation.
    pub fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        self.lock().calls.clone()
    }

    pub fn total_calls(&self) -> u64 {
        self.lock().calls.values().sum()
    }

    pub fn reset_call_counts(&self) {
        self.lock().calls.clear();
    }

    /// How many changing calls have completed (the step counter crash tests use).
    pub fn mutation_count(&self) -> u64 {
        self.lock().mutations
    }

    /// Events put on any bus so far.
    pub fn events(&self) -> Vec<BusEvent> {
        self.lock().services.events.clone()
    }

    /// Asynchronous invocations made so far, oldest first, and forgets them.
    pub fn take_invocations(&self) -> Vec<(String, serde_json::Value)> {
        std::mem::take(&mut self.lock().services.invocations)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Every call passes here and is counted; a call that changes state (as the operations
    /// table says) also counts as a step.
    async fn enter(&self, operation: &'static str) -> Result<(), AwsError> {
        let changes_state = crate::operations::by_name(operation)
            .unwrap_or_else(|| panic!("{operation} is not in the operations table"))
            .changes_state;
        let mut state = self.lock();
        *state.calls.entry(operation).or_insert(0) += 1;
        if changes_state {
            state.mutations += 1;
        }
        Ok(())
    }
}

impl State {
    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// The caller's ARN as GetCallerIdentity reports it.
    fn caller_arn(&self) -> String {
        self.settings
            .caller_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{}:user/fake", self.settings.account_id))
    }
}

fn not_found(operation: &'static str, what: String) -> AwsError {
    AwsError::new(AwsErrorKind::NotFound, operation, what)
}
