//! Leases in SSM parameters: one invocation at a time may plan and start restores for a
//! root (so clone slots are never handed out twice) or finish a given clone.
//!
//! A lease is a parameter created with Overwrite=false holding a holder token and an
//! expiry. A lease past its expiry may be taken over; the takeover wins only if its write
//! is the very next version, so two takers can never both win.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::TryRng;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, Params};
use crate::clock::Clock;

/// How often a waiting invocation looks at a busy lease again.
const LEASE_POLL_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseRecord {
    holder: String,
    expires: DateTime<Utc>,
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

    /// Takes the lease, waiting up to `wait` for a holder to give it back or for it to
    /// expire.
    pub async fn acquire(&self, name: &str, wait: Duration) -> Result<Lease, LeaseError> {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(lease) = self.try_acquire(name).await? {
                return Ok(lease);
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(LeaseError::Busy {
                    name: self.parameter_name(name),
                    waited,
                });
            }
            // A little jitter keeps many waiters from retrying in lock step.
            let jitter = Duration::from_millis(u64::from(random_u32() % 200));
            tokio::time::sleep(
                (LEASE_POLL_INTERVAL + jitter)
                    .min(wait.saturating_sub(waited).max(Duration::from_millis(1))),
            )
            .await;
        }
    }

    /// Takes the lease if it is free or expired; `Ok(None)` when someone else holds it.
    pub async fn try_acquire(&self, name: &str) -> Result<Option<Lease>, LeaseError> {
        self.try_acquire_for(name, self.ttl).await
    }

    /// Like [`Leases::try_acquire`], for a lease that lives `ttl` unless renewed.
    pub async fn try_acquire_for(
        &self,
        name: &str,
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
        let record = LeaseRecord {
            holder: holder.clone(),
            expires: self.clock.now()
                + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::minutes(2)),
        };
        let expires = record.expires;
        let value = serde_json::to_string(&record).expect("a lease record serialises");
        if self
            .params
            .put_if_absent(&parameter, &value)
            .await
            .map_err(aws)?
            .is_some()
        {
            return Ok(Some(Lease {
                name: parameter,
                holder,
                expires,
            }));
        }
        let Some(current) = self.params.get(&parameter).await.map_err(aws)? else {
            // Released between our two calls: try once more from the start next time.
            return Ok(None);
        };
        let expired = match serde_json::from_str::<LeaseRecord>(&current.value) {
            Ok(existing) => existing.expires <= self.clock.now(),
            // Unreadable content is treated as a stale lease rather than a lock forever.
            Err(_) => true,
        };
        if !expired {
            return Ok(None);
        }
        let version = self.params.put(&parameter, &value).await.map_err(aws)?;
        if version == current.version + 1 {
            tracing::info!(lease = %parameter, "took over an expired lease");
            Ok(Some(Lease {
                name: parameter,
                holder,
                expires,
            }))
        } else {
            Ok(None)
        }
    }

    /// Extends a held lease by `ttl` from now. `Ok(false)` when it is no longer ours (it
    /// lapsed and someone else took it over).
    pub async fn renew(&self, lease: &mut Lease, ttl: Duration) -> Result<bool, AwsError> {
        let Some(current) = self.params.get(&lease.name).await? else {
            return Ok(false);
        };
        let ours = serde_json::from_str::<LeaseRecord>(&current.value)
            .map(|record| record.holder == lease.holder)
            .unwrap_or(false);
        if !ours {
            return Ok(false);
        }
        let record = LeaseRecord {
            holder: lease.holder.clone(),
            expires: self.clock.now()
                + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::minutes(2)),
        };
        let value = serde_json::to_string(&record).expect("a lease record serialises");
        self.params.put(&lease.name, &value).await?;
        lease.expires = record.expires;
        Ok(true)
    }

    /// Gives the lease back, unless someone else holds it by now.
    pub async fn release(&self, lease: Lease) -> Result<(), AwsError> {
        let Some(current) = self.params.get(&lease.name).await? else {
            return Ok(());
        };
        let ours = serde_json::from_str::<LeaseRecord>(&current.value)
            .map(|record| record.holder == lease.holder)
            .unwrap_or(false);
        if ours {
            self.params.delete(&lease.name).await?;
        }
        Ok(())
    }
}

fn random_u32() -> u32 {
    rand::rngs::SysRng.try_next_u32().unwrap_or(0x5eed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::FakeAws;
    use crate::clock::TokioClock;

    fn leases(fake: &Arc<FakeAws>, clock: Arc<dyn Clock>) -> Leases {
        Leases::new(fake.clone(), clock, "/acm/leases/", Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_keeps_others_out_until_released() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let held = leases.try_acquire("prod").await.unwrap().unwrap();
        assert!(leases.try_acquire("prod").await.unwrap().is_none());
        assert!(leases.try_acquire("other").await.unwrap().is_some());
        leases.release(held).await.unwrap();
        assert!(leases.try_acquire("prod").await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_lease_is_taken_over_and_its_old_holder_cannot_release_it() {
        let fake = FakeAws::new();
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let leases = leases(&fake, clock);
        let stale = leases.try_acquire("prod").await.unwrap().unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        let fresh = leases.try_acquire("prod").await.unwrap().unwrap();
        leases.release(stale).await.unwrap();
        assert!(
            leases.try_acquire("prod").await.unwrap().is_none(),
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
        let _held = leases.try_acquire("prod").await.unwrap().unwrap();
        let error = leases
            .acquire("prod", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(error, LeaseError::Busy { .. }));
        assert!(error.to_string().contains("/acm/leases/prod"));
    }
}
