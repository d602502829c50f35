//! Leases in SSM parameters: one invocation at a time may plan and start restores for a
//! root (so clone slots are never handed out twice) or finish a given clone.
//!
//! A lease is a parameter created with Overwrite=false holding a holder token, an expiry,
//! and the work the holder does (a CloudFormation request, say). A lease past its expiry,
//! or one held for the very same work (Lambda retrying an invocation that died), may be
//! taken over. SSM has no compare-and-swap, so a takeover is an overwrite that records the
//! version it replaces; it wins only if it landed as the very next version. Readers apply
//! the same rule, so a losing overwrite never counts as the holder even though it is the
//! latest value: two takers can never both win, and the loser leaves nobody locked out.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::TryRng;
use serde::{Deserialize, Serialize};

use crate::aws::clock::Clock;
use crate::aws::{AwsError, AwsErrorKind, ParameterValue, Params};
use crate::backoff::{Backoff, retry};

/// How often a waiting invocation looks at a busy lease again: about once a second keeps a
/// handful of waiters well inside SSM's shared per-account throughput.
const LEASE_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Random extra wait on each poll, so that many waiters do not retry in lock step.
const LEASE_POLL_JITTER_MS: u32 = 250;

/// First pause after SSM throttled a lease call; doubled on each further throttle.
const THROTTLE_FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Longest pause between throttled attempts.
const THROTTLE_MAX_BACKOFF: Duration = Duration::from_secs(4);

/// How long one lease call keeps retrying while SSM throttles it before giving up. The
/// throughput is shared by the whole account, so throttling is a busy moment to wait out,
/// not a failure of the request.
const THROTTLE_PATIENCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseRecord {
    holder: String,
    expires: DateTime<Utc>,
    /// The work the holder is doing; a retry of the same work may take over at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    work: Option<String>,
    /// On a takeover write: the version it replaces. Such a write holds the lease only if
    /// it is that version + 1; a later one lost the race and is ignored by every reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    takes_over: Option<i64>,
}

/// The lease as every reader must see it.
struct CurrentLease {
    /// The parameter's latest version: a takeover must land right after it.
    latest_version: i64,
    /// The holder's record; `None` when the content is unreadable (treated as stale).
    record: Option<LeaseRecord>,
}

/// A held lease; give it back with [`Leases::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    holder: String,
    /// When the lease lapses unless renewed.
    pub expires: DateTime<Utc>,
}

/// Could not get a lease.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("lease {name} is held by another invocation; gave up after waiting {waited:?}")]
    Busy { name: String, waited: Duration },
    #[error("lease {name}: {source}")]
    Aws {
        name: String,
        #[source]
        source: AwsError,
    },
}

/// Takes and gives back leases under one parameter prefix.
#[derive(Clone)]
pub struct Leases {
    params: Arc<dyn Params>,
    clock: Arc<dyn Clock>,
    prefix: String,
    ttl: Duration,
}

impl Leases {
    pub fn new(
        params: Arc<dyn Params>,
        clock: Arc<dyn Clock>,
        prefix: &str,
        ttl: Duration,
    ) -> Leases {
        Leases {
            params,
            clock,
            prefix: prefix.to_string(),
            ttl,
        }
    }

    fn parameter_name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Takes the lease for `work`, waiting up to `wait` for a holder to give it back or for
    /// it to expire. A lease held for the same `work` is taken over at once.
    pub async fn acquire(
        &self,
        name: &str,
        work: Option<&str>,
        wait: Duration,
    ) -> Result<Lease, LeaseError> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(lease) = self.try_acquire_for(name, work, self.ttl).await? {
                return Ok(lease);
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(LeaseError::Busy {
                    name: self.parameter_name(name),
                    waited,
                });
            }
            let jitter = Duration::from_millis(u64::from(random_u32() % LEASE_POLL_JITTER_MS));
            tokio::time::sleep(
                (LEASE_POLL_INTERVAL + jitter)
                    .min(wait.saturating_sub(waited).max(Duration::from_millis(1))),
            )
            .await;
        }
    }

    /// Takes the lease if it is free, expired, or held for the same `work`; `Ok(None)`
    /// when someone else holds it. The lease lives `ttl` unless renewed.
    pub async fn try_acquire_for(
        &self,
        name: &str,
        work: Option<&str>,
        ttl: Duration,
    ) -> Result<Option<Lease>, LeaseError> {
        let parameter = self.parameter_name(name);
        let aws = |source| LeaseError::Aws {
            name: parameter.clone(),
            source,
        };
        let holder = format!(
            "{:016x}",
            (u64::from(random_u32()) << 32) | u64::from(random_u32())
        );
        let mut record = LeaseRecord {
            holder: holder.clone(),
            expires: self.expiry(ttl),
            work: work.map(str::to_string),
            takes_over: None,
        };
        let value = serde_json::to_string(&record).expect("a lease record serialises");
        let created = patiently(|| self.params.put_if_absent(&parameter, &value))
            .await
            .map_err(aws)?;
        if created.is_some() {
            return Ok(Some(self.held(parameter, holder, &record)));
        }
        let Some(current) = self.current(&parameter).await.map_err(aws)? else {
            // Released between our two calls: try once more from the start next time.
            return Ok(None);
        };
        let may_take_over = match &current.record {
            None => true,
            Some(existing) => {
                existing.expires <= self.clock.now()
                    || (work.is_some() && existing.work.as_deref() == work)
            }
        };
        if !may_take_over {
            return Ok(None);
        }
        record.takes_over = Some(current.latest_version);
        let value = serde_json::to_string(&record).expect("a lease record serialises");
        let version = patiently(|| self.params.put(&parameter, &value))
            .await
            .map_err(aws)?;
        if version == current.latest_version + 1 {
            tracing::info!(lease = %parameter, "took over an expired or retried lease");
            Ok(Some(self.held(parameter, holder, &record)))
        } else {
            Ok(None)
        }
    }

    /// Extends a held lease by `ttl` from now. `Ok(false)` when it is no longer ours (it
    /// lapsed and someone else took it over).
    pub async fn renew(&self, lease: &mut Lease, ttl: Duration) -> Result<bool, AwsError> {
        let Some(current) = self.current(&lease.name).await? else {
            return Ok(false);
        };
        let Some(mut record) = current
            .record
            .filter(|record| record.holder == lease.holder)
        else {
            return Ok(false);
        };
        record.expires = self.expiry(ttl);
        record.takes_over = None;
        let value = serde_json::to_string(&record).expect("a lease record serialises");
        patiently(|| self.params.put(&lease.name, &value)).await?;
        lease.expires = record.expires;
        Ok(true)
    }

    /// Gives the lease back, unless someone else holds it by now.
    pub async fn release(&self, lease: Lease) -> Result<(), AwsError> {
        let Some(current) = self.current(&lease.name).await? else {
            return Ok(());
        };
        if current
            .record
            .is_some_and(|record| record.holder == lease.holder)
        {
            patiently(|| self.params.delete(&lease.name)).await?;
        }
        Ok(())
    }

    /// The lease as it stands: the latest version, unless that is a takeover write that
    /// lost its race, in which case the winner's version (the one right after the version
    /// both replaced) holds it.
    async fn current(&self, parameter: &str) -> Result<Option<CurrentLease>, AwsError> {
        let Some(latest) = patiently(|| self.params.get(parameter)).await? else {
            return Ok(None);
        };
        let latest_version = latest.version;
        let record = parse_record(&latest);
        let winner_version = match &record {
            Some(LeaseRecord {
                takes_over: Some(replaced),
                ..
            }) if *replaced + 1 != latest_version => *replaced + 1,
            _ => {
                return Ok(Some(CurrentLease {
                    latest_version,
                    record,
                }));
            }
        };
        let winner = patiently(|| self.params.get_version(parameter, winner_version)).await?;
        Ok(Some(CurrentLease {
            latest_version,
            // Without the winner's version (the parameter was recreated meanwhile) the
            // latest write is the best evidence there is.
            record: winner.as_ref().map_or(record, parse_record),
        }))
    }

    fn expiry(&self, ttl: Duration) -> DateTime<Utc> {
        self.clock.now() + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::minutes(2))
    }

    fn held(&self, name: String, holder: String, record: &LeaseRecord) -> Lease {
        Lease {
            name,
            holder,
            expires: record.expires,
        }
    }
}

fn parse_record(value: &ParameterValue) -> Option<LeaseRecord> {
    serde_json::from_str(&value.value).ok()
}

/// Runs one SSM call, waiting out throttling with exponential backoff for up to
/// [`THROTTLE_PATIENCE`]; any other error, or throttling beyond that, is returned.
async fn patiently<T, Call, Attempt>(call: Call) -> Result<T, AwsError>
where
    Call: Fn() -> Attempt,
    Attempt: Future<Output = Result<T, AwsError>>,
{
    let backoff = Backoff {
        first: THROTTLE_FIRST_BACKOFF,
        max: THROTTLE_MAX_BACKOFF,
        patience: THROTTLE_PATIENCE,
    };
    retry(
        backoff,
        |error: &AwsError| error.kind() == AwsErrorKind::Throttled,
        call,
    )
    .await
    .map_err(|gave_up| gave_up.error)
}

fn random_u32() -> u32 {
    rand::rngs::SysRng.try_next_u32().unwrap_or(0x5eed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::clock::TokioClock;
    use crate::aws::fake::FakeAws;

    fn leases(fake: &Arc<FakeAws>, clock: Arc<dyn Clock>) -> Leases {
        Leases::new(fake.clone(), clock, "/acm/leases/", Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_keeps_others_out_until_released() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let held = leases
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert!(
            leases
                .try_acquire_for("prod", None, Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            leases
                .try_acquire_for("other", None, Duration::from_secs(60))
                .await
                .unwrap()
                .is_some()
        );
        leases.release(held).await.unwrap();
        assert!(
            leases
                .try_acquire_for("prod", None, Duration::from_secs(60))
                .await
                .unwrap()
                .is_some()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_lease_is_taken_over_and_its_old_holder_cannot_release_it() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let stale = leases
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        let fresh = leases
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        leases.release(stale).await.unwrap();
        assert!(
            leases
                .try_acquire_for("prod", None, Duration::from_secs(60))
                .await
                .unwrap()
                .is_none(),
            "still held by the new holder"
        );
        leases.release(fresh).await.unwrap();
        assert!(fake.parameters().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_is_bounded_and_reported() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let _held = leases
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        let error = leases
            .acquire("prod", None, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(error, LeaseError::Busy { .. }));
        assert!(error.to_string().contains("/acm/leases/prod"));
    }
    #[tokio::test(start_paused = true)]
    async fn a_losing_takeover_write_neither_holds_the_lease_nor_locks_out_the_winner() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let ttl = Duration::from_secs(60);
        let _dead = leases
            .try_acquire_for("prod", None, ttl)
            .await
            .unwrap()
            .unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        // Two invocations see the same expired version 1; the winner's overwrite lands as
        // version 2, the loser's right after it as version 3.
        let mut winner = leases
            .try_acquire_for("prod", None, ttl)
            .await
            .unwrap()
            .unwrap();
        let loser = LeaseRecord {
            holder: "loser".into(),
            expires: Utc::now() + chrono::TimeDelta::hours(1),
            work: None,
            takes_over: Some(1),
        };
        let version = fake
            .put("/acm/leases/prod", &serde_json::to_string(&loser).unwrap())
            .await
            .unwrap();
        assert_eq!(version, 3);
        assert!(
            leases.renew(&mut winner, ttl).await.unwrap(),
            "the winner still holds the lease"
        );
        assert!(
            leases
                .try_acquire_for("prod", None, ttl)
                .await
                .unwrap()
                .is_none(),
            "nobody else gets it while the winner holds it"
        );
        leases.release(winner).await.unwrap();
        assert!(fake.parameters().is_empty(), "the winner gave it back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_of_the_same_work_takes_over_at_once_and_other_work_waits() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let ttl = Duration::from_secs(60);
        let _crashed = leases
            .try_acquire_for("prod", Some("request-1"), ttl)
            .await
            .unwrap()
            .unwrap();
        assert!(
            leases
                .try_acquire_for("prod", Some("request-2"), ttl)
                .await
                .unwrap()
                .is_none(),
            "another request must wait"
        );
        assert!(
            leases
                .try_acquire_for("prod", None, ttl)
                .await
                .unwrap()
                .is_none(),
            "work without an identity must wait"
        );
        let retried = leases
            .try_acquire_for("prod", Some("request-1"), ttl)
            .await
            .unwrap();
        assert!(
            retried.is_some(),
            "the retry of request-1 carries on at once"
        );
        assert!(
            leases
                .try_acquire_for("prod", Some("request-2"), ttl)
                .await
                .unwrap()
                .is_none(),
            "and then holds it against others"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_lease_calls_back_off_instead_of_failing() {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let fake = FakeAws::with_clock(clock.clone());
        fake.configure(|settings| settings.ssm_calls_per_second = Some(1));
        let leases = leases(&fake, clock);
        let mut held = Vec::new();
        for name in ["a", "b", "c", "d"] {
            let lease = leases
                .acquire(name, None, Duration::from_secs(30))
                .await
                .expect("throttling is waited out");
            held.push(lease);
        }
        for lease in held {
            leases
                .release(lease)
                .await
                .expect("throttling is waited out");
        }
        assert!(fake.parameters().is_empty());
        assert!(
            fake.call_counts()[crate::model::operations::SSM_PUT_PARAMETER.name] >= 4,
            "every lease was written"
        );
    }
}
