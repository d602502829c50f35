//! What every handler works with: the configuration, the ports, the clock and the
//! CloudFormation responder, plus the facts of the current invocation.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::aws::clock::Clock;
use crate::aws::{AwsError, CallerIdentity, Ports};
use crate::metrics::{MetricsSink, NoMetrics};
use crate::model::config::Config;
use crate::plan::provision::Placement;
use crate::run::machinery::lease::Leases;
use crate::run::machinery::respond::Responder;

/// Shared, long-lived context: built once per process.
pub struct Context {
    pub config: Config,
    pub ports: Ports,
    pub responder: Arc<dyn Responder>,
    pub clock: Arc<dyn Clock>,
    pub region: String,
    pub metrics: Arc<dyn MetricsSink>,
    caller: tokio::sync::OnceCell<CallerIdentity>,
}

impl Context {
    pub fn new(
        config: Config,
        ports: Ports,
        responder: Arc<dyn Responder>,
        clock: Arc<dyn Clock>,
        region: &str,
    ) -> Context {
        Context {
            config,
            ports,
            responder,
            clock,
            region: region.to_string(),
            metrics: Arc::new(NoMetrics),
            caller: tokio::sync::OnceCell::new(),
        }
    }

    /// Sends metrics to `sink` instead of dropping them.
    pub fn with_metrics(mut self, sink: Arc<dyn MetricsSink>) -> Context {
        self.metrics = sink;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Who we are, asked of STS once per process.
    async fn caller(&self) -> Result<&CallerIdentity, AwsError> {
        self.caller
            .get_or_try_init(|| self.ports.identity.caller())
            .await
    }

    /// The account, partition and region.
    pub async fn placement(&self) -> Result<Placement, AwsError> {
        let caller = self.caller().await?;
        Ok(Placement {
            partition: caller.partition().to_string(),
            region: self.region.clone(),
            account_id: caller.account_id.clone(),
        })
    }

    /// The principals the key and secret policies we write name as the clone manager: the
    /// function's role, and the caller itself where the configuration says so (the CLI) or
    /// no role is known.
    pub async fn policy_managers(&self) -> Result<Vec<String>, AwsError> {
        let mut managers: Vec<String> = self.config.function_role_arn.iter().cloned().collect();
        if self.config.policies_name_caller || managers.is_empty() {
            let caller = self.caller().await?.principal_arn();
            if !managers.contains(&caller) {
                managers.push(caller);
            }
        }
        Ok(managers)
    }

    pub fn leases(&self) -> Leases {
        Leases::new(
            self.ports.state.clone(),
            self.clock.clone(),
            &self.config.state_table,
            self.config.lease_ttl,
        )
    }
}

/// Facts of one invocation.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// When Lambda will stop this invocation; `None` when running without a limit (CLI).
    pub deadline: Option<tokio::time::Instant>,
    /// This function's name, for handing work over to a fresh invocation; `None` outside
    /// Lambda, where the work simply continues in the same process.
    pub function_name: Option<String>,
}

impl Invocation {
    /// An invocation without a deadline or a function to hand over to (the CLI).
    pub fn unbounded() -> Invocation {
        Invocation::default()
    }

    /// Time left before the deadline, less `margin`; `None` when unbounded.
    pub fn time_left(&self, margin: Duration) -> Option<Duration> {
        self.deadline.map(|deadline| {
            deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .saturating_sub(margin)
        })
    }
}
