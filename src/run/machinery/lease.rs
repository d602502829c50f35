//! Leases in the state table: one invocation at a time may plan and start restores for a
//! root (so clone slots are never handed out twice) or finish a given clone.
//!
//! A lease is one item (`pk` "lease", `sk` its name) holding a holder token, an expiry and
//! the work the holder does (a CloudFormation request, say). Every change is a DynamoDB
//! conditional write, so the check and the change are one atomic step: taking needs the
//! item absent, expired, or held for the very same work (Lambda retrying an invocation that
//! died); renewing and releasing need the holder to be us. Expiry is decided in those
//! conditions against the expiry stored in the item, never by DynamoDB's TTL deletion,
//! which only tidies up (it can lag by days).
//!
//! Why two holders can never both act: a holder acts only while its lease has not expired
//! by its own clock, and the expiry it knows is exactly the one stored (renewal changes
//! both, or neither when the condition fails). A taker's write succeeds only once that
//! stored expiry has passed. One clock (ours) decides both sides.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::TryRng;

use crate::aws::clock::Clock;
use crate::aws::{AwsError, AwsErrorKind, StateCondition, StateItem, StateTable, StateValue};
use crate::backoff::{Backoff, retry};
use crate::model::operations::DYNAMODB_PUT_ITEM;

/// The partition key every lease item shares, so that one Query lists them.
pub const LEASE_ITEM_KIND: &str = "lease";

/// How long after its expiry DynamoDB may delete a lease item nobody released.
const TIDY_UP_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// How often a waiting invocation looks at a busy lease again.
const LEASE_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Random extra wait on each poll, so that many waiters do not retry in lock step.
const LEASE_POLL_JITTER_MS: u32 = 250;

/// First pause after DynamoDB throttled a lease call; doubled on each further throttle.
const THROTTLE_FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Longest pause between throttled attempts.
const THROTTLE_MAX_BACKOFF: Duration = Duration::from_secs(4);

/// How long one lease call keeps retrying while it is throttled before giving up:
/// throttling is a busy moment to wait out, not a failure of the request.
const THROTTLE_PATIENCE: Duration = Duration::from_secs(60);

/// A held lease; give it back with [`Leases::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    holder: String,
    /// The work it was taken for, kept on renewal: a retry of it may still take over.
    work: Option<String>,
    /// When the lease lapses unless renewed: exactly the expiry stored in the table.
    pub expires: DateTime<Utc>,
}

/// A held lease renewed in the background every third of its time to live, so that long
/// waits under it (IAM propagation can take minutes) never let it lapse while its holder is
/// alive. [`KeptLease::is_held`] says whether it still holds: check it before a step that
/// only the holder may take. Give it back with [`KeptLease::release`]; dropping it stops
/// the renewals, and the lease then lapses at its expiry.
pub struct KeptLease {
    lease: Lease,
    state: Arc<std::sync::Mutex<KeptState>>,
    renewer: tokio::task::JoinHandle<()>,
}

struct KeptState {
    expires: DateTime<Utc>,
    lost: bool,
}

impl KeptLease {
    /// Whether the lease is still ours at `now`: no renewal found it taken, and the expiry
    /// of the last renewal has not passed (a renewal that could not reach the table leaves
    /// the old expiry in force).
    pub fn is_held(&self, now: DateTime<Utc>) -> bool {
        let state = self.state.lock().expect("the lease state lock");
        !state.lost && state.expires > now
    }

    /// Stops the renewals and gives the lease back, unless someone else holds it by now.
    pub async fn release(self, leases: &Leases) -> Result<(), AwsError> {
        self.renewer.abort();
        leases.release(self.lease.clone()).await
    }
}

impl Drop for KeptLease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
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

/// Takes and gives back leases in one state table.
#[derive(Clone)]
pub struct Leases {
    table: Arc<dyn StateTable>,
    clock: Arc<dyn Clock>,
    table_name: String,
    ttl: Duration,
}

impl Leases {
    pub fn new(
        table: Arc<dyn StateTable>,
        clock: Arc<dyn Clock>,
        table_name: &str,
        ttl: Duration,
    ) -> Leases {
        Leases {
            table,
            clock,
            table_name: table_name.to_string(),
            ttl,
        }
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
                    name: name.to_string(),
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
        let aws = |source| LeaseError::Aws {
            name: name.to_string(),
            source,
        };
        let holder = format!(
            "{:016x}",
            (u64::from(random_u32()) << 32) | u64::from(random_u32())
        );
        let now = self.clock.now();
        let expires = expiry(now, ttl);
        let mut takeable = vec![
            StateCondition::Absent,
            // Expired: the stored expiry is not after now.
            StateCondition::Below(EXPIRES.into(), now.timestamp_millis() + 1),
            // Broken: an item without an expiry would otherwise hold the lease for ever.
            StateCondition::Missing(EXPIRES.into()),
        ];
        if let Some(work) = work {
            takeable.push(StateCondition::Equals(
                WORK.into(),
                StateValue::Text(work.to_string()),
            ));
        }
        let item = lease_item(name, &holder, expires, work);
        let takeable = StateCondition::Any(takeable);
        let taken = self
            .patiently(|| self.table.put_item(&self.table_name, &item, &takeable))
            .await
            .map_err(aws)?;
        Ok(taken.then(|| Lease {
            name: name.to_string(),
            holder,
            work: work.map(str::to_string),
            expires,
        }))
    }

    /// Keeps `lease` renewed for `ttl` at a time until it is released or dropped.
    pub fn keep(&self, lease: Lease, ttl: Duration) -> KeptLease {
        let state = Arc::new(std::sync::Mutex::new(KeptState {
            expires: lease.expires,
            lost: false,
        }));
        let renewer = {
            let leases = self.clone();
            let state = state.clone();
            let mut renewing = lease.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    match leases.renew(&mut renewing, ttl).await {
                        Ok(true) => {
                            state.lock().expect("the lease state lock").expires = renewing.expires
                        }
                        Ok(false) => {
                            tracing::warn!(lease = %renewing.name, "a kept lease was taken over");
                            state.lock().expect("the lease state lock").lost = true;
                            return;
                        }
                        // Tried again at the next round; meanwhile the last expiry holds.
                        Err(error) => {
                            tracing::warn!(lease = %renewing.name, %error, "could not renew a kept lease")
                        }
                    }
                }
            })
        };
        KeptLease {
            lease,
            state,
            renewer,
        }
    }

    /// Writes a lease an earlier version held elsewhere (an SSM parameter), so that the
    /// holder keeps it until its expiry: only when no lease of that name is in the table.
    /// `Ok(false)` when one is (it wins: it was taken in the table, by this version).
    pub async fn carry_over(
        &self,
        name: &str,
        holder: &str,
        expires: DateTime<Utc>,
        work: Option<&str>,
    ) -> Result<bool, AwsError> {
        let item = lease_item(name, holder, expiry(expires, Duration::ZERO), work);
        self.patiently(|| {
            self.table
                .put_item(&self.table_name, &item, &StateCondition::Absent)
        })
        .await
    }

    /// Extends a held lease by `ttl` from now. `Ok(false)` when it is no longer ours (it
    /// lapsed and someone else took it over); the lease is then unchanged.
    pub async fn renew(&self, lease: &mut Lease, ttl: Duration) -> Result<bool, AwsError> {
        let expires = expiry(self.clock.now(), ttl);
        let item = lease_item(&lease.name, &lease.holder, expires, lease.work.as_deref());
        let ours = held_by(&lease.holder);
        let renewed = self
            .patiently(|| self.table.put_item(&self.table_name, &item, &ours))
            .await?;
        if renewed {
            lease.expires = expires;
        }
        Ok(renewed)
    }

    /// Gives the lease back, unless someone else holds it by now.
    pub async fn release(&self, lease: Lease) -> Result<(), AwsError> {
        let ours = held_by(&lease.holder);
        self.patiently(|| {
            self.table
                .delete_item(&self.table_name, LEASE_ITEM_KIND, &lease.name, &ours)
        })
        .await?;
        Ok(())
    }

    /// Runs one call, waiting out throttling with exponential backoff for up to
    /// [`THROTTLE_PATIENCE`]; any other error, or throttling beyond that, is returned.
    async fn patiently<T, Call, Attempt>(&self, call: Call) -> Result<T, AwsError>
    where
        Call: Fn() -> Attempt,
        Attempt: Future<Output = Result<T, AwsError>>,
    {
        if self.table_name.is_empty() {
            return Err(AwsError::new(
                AwsErrorKind::InvalidRequest,
                DYNAMODB_PUT_ITEM.name,
                "no state table is configured: set STATE_TABLE (the CLI also takes \
                 --state-table) to the stack's StateTableName output",
            ));
        }
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
}

/// Attribute names of a lease item.
const HOLDER: &str = "holder";
const EXPIRES: &str = "expires_ms";
const WORK: &str = "work";
const TTL_ATTRIBUTE: &str = "expires_at";

fn lease_item(name: &str, holder: &str, expires: DateTime<Utc>, work: Option<&str>) -> StateItem {
    let mut item = StateItem::new(LEASE_ITEM_KIND, name)
        .with_text(HOLDER, holder)
        .with_number(EXPIRES, expires.timestamp_millis())
        .with_number(TTL_ATTRIBUTE, (expires + TIDY_UP_AFTER).timestamp());
    if let Some(work) = work {
        item = item.with_text(WORK, work);
    }
    item
}

fn held_by(holder: &str) -> StateCondition {
    StateCondition::Equals(HOLDER.into(), StateValue::Text(holder.to_string()))
}

/// `now + ttl`, to the millisecond the table stores, so that the expiry a holder knows is
/// exactly the one takers compare with.
fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    let expires = now + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::minutes(2));
    DateTime::from_timestamp_millis(expires.timestamp_millis()).unwrap_or(expires)
}

fn random_u32() -> u32 {
    rand::rngs::SysRng.try_next_u32().unwrap_or(0x5eed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::clock::TokioClock;
    use crate::aws::fake::FakeAws;

    const TABLE: &str = "acm-StateTable-1";

    fn leases(fake: &Arc<FakeAws>, clock: Arc<dyn Clock>) -> Leases {
        fake.create_state_table(TABLE);
        Leases::new(fake.clone(), clock, TABLE, Duration::from_secs(60))
    }

    fn setup() -> (Arc<FakeAws>, Leases) {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let fake = FakeAws::with_clock(clock.clone());
        let leases = leases(&fake, clock);
        (fake, leases)
    }

    async fn take(leases: &Leases, name: &str, work: Option<&str>) -> Option<Lease> {
        leases
            .try_acquire_for(name, work, Duration::from_secs(60))
            .await
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_lease_keeps_others_out_until_released() {
        let (fake, leases) = setup();
        let held = take(&leases, "prod", None).await.unwrap();
        assert!(take(&leases, "prod", None).await.is_none());
        assert!(take(&leases, "other", None).await.is_some());
        leases.release(held).await.unwrap();
        assert!(take(&leases, "prod", None).await.is_some());
        assert!(
            fake.state_items(TABLE)
                .iter()
                .all(|item| item.pk == LEASE_ITEM_KIND && item.number(TTL_ATTRIBUTE).is_some()),
            "every lease item can be tidied up by the table's TTL"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_lease_is_taken_over_and_its_old_holder_can_neither_renew_nor_release_it() {
        let (fake, leases) = setup();
        let mut stale = take(&leases, "prod", None).await.unwrap();
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(
            take(&leases, "prod", None).await.is_none(),
            "not before its expiry"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        let fresh = take(&leases, "prod", None).await.unwrap();
        assert!(
            !leases
                .renew(&mut stale, Duration::from_secs(60))
                .await
                .unwrap()
        );
        leases.release(stale).await.unwrap();
        assert!(
            take(&leases, "prod", None).await.is_none(),
            "still held by the new holder"
        );
        leases.release(fresh).await.unwrap();
        assert!(fake.state_items(TABLE).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_renewed_lease_outlives_its_first_expiry() {
        let (_fake, leases) = setup();
        let mut held = take(&leases, "prod", Some("request-1")).await.unwrap();
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(
            leases
                .renew(&mut held, Duration::from_secs(60))
                .await
                .unwrap()
        );
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(take(&leases, "prod", None).await.is_none());
        assert!(
            take(&leases, "prod", Some("request-1")).await.is_some(),
            "renewal keeps the work, so a retry of it still carries on at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_is_bounded_and_reported() {
        let (_fake, leases) = setup();
        let _held = take(&leases, "prod", None).await.unwrap();
        let error = leases
            .acquire("prod", None, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(error, LeaseError::Busy { .. }));
        assert!(error.to_string().contains("prod"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dead_holders_lease_is_taken_within_its_expiry() {
        let (_fake, leases) = setup();
        let _dead = take(&leases, "prod", None).await.unwrap();
        let started = tokio::time::Instant::now();
        leases
            .acquire("prod", None, Duration::from_secs(90))
            .await
            .expect("the lease of a dead holder comes free");
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(60) && waited < Duration::from_secs(62),
            "taken {waited:?} after the dead holder took it; it expires after 60 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_of_the_same_work_takes_over_at_once_and_other_work_waits() {
        let (_fake, leases) = setup();
        let _crashed = take(&leases, "prod", Some("request-1")).await.unwrap();
        assert!(
            take(&leases, "prod", Some("request-2")).await.is_none(),
            "another request must wait"
        );
        assert!(
            take(&leases, "prod", None).await.is_none(),
            "work without an identity must wait"
        );
        assert!(
            take(&leases, "prod", Some("request-1")).await.is_some(),
            "the retry of request-1 carries on at once"
        );
        assert!(
            take(&leases, "prod", Some("request-2")).await.is_none(),
            "and then holds it against others"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_missing_state_table_fails_naming_the_setting() {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(Utc::now()));
        let fake = FakeAws::with_clock(clock.clone());
        let unset = Leases::new(fake.clone(), clock.clone(), "", Duration::from_secs(60));
        let error = unset
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("STATE_TABLE"), "{error}");
        let absent = Leases::new(fake, clock, "nope", Duration::from_secs(60));
        let error = absent
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("ResourceNotFoundException"),
            "{error}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_item_without_an_expiry_can_be_taken() {
        let (fake, leases) = setup();
        let broken = StateItem::new(LEASE_ITEM_KIND, "prod").with_text(HOLDER, "someone");
        assert!(
            fake.put_item(TABLE, &broken, &StateCondition::Always)
                .await
                .unwrap()
        );
        assert!(take(&leases, "prod", None).await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_lease_outlives_long_waits_and_keeps_others_out_until_released() {
        let (_fake, leases) = setup();
        let ttl = Duration::from_secs(60);
        let kept = leases.keep(take(&leases, "prod", None).await.unwrap(), ttl);
        // Five times its time to live, as a long IAM propagation wait under it might take.
        tokio::time::sleep(Duration::from_secs(300)).await;
        assert!(kept.is_held(leases.clock.now()));
        assert!(
            take(&leases, "prod", None).await.is_none(),
            "nobody takes a lease whose holder is alive"
        );
        kept.release(&leases).await.unwrap();
        assert!(take(&leases, "prod", None).await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_kept_lease_lapses_at_its_expiry() {
        let (_fake, leases) = setup();
        let ttl = Duration::from_secs(60);
        let kept = leases.keep(take(&leases, "prod", None).await.unwrap(), ttl);
        drop(kept);
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert!(take(&leases, "prod", None).await.is_some());
    }

    /// What one invocation does next in the interleaving test.
    #[derive(Debug, Clone)]
    enum Step {
        /// Takes the lease unless it holds it.
        Take { actor: usize, with_work: bool },
        /// Renews the lease it holds.
        Renew { actor: usize },
        /// Gives the lease back.
        Release { actor: usize },
        /// Dies holding whatever it holds.
        Crash { actor: usize },
        /// Dies, and Lambda retries the same work: a new invocation takes the lease for it.
        Retry { actor: usize },
        /// Time passes.
        Wait { seconds: u64 },
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        let actor = 0..3usize;
        prop_oneof![
            (actor.clone(), any::<bool>())
                .prop_map(|(actor, with_work)| Step::Take { actor, with_work }),
            actor.clone().prop_map(|actor| Step::Renew { actor }),
            actor.clone().prop_map(|actor| Step::Release { actor }),
            actor.clone().prop_map(|actor| Step::Crash { actor }),
            actor.prop_map(|actor| Step::Retry { actor }),
            (0..90u64).prop_map(|seconds| Step::Wait { seconds }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Two invocations never both hold the lease, whatever the order of takes,
        /// renewals, releases, crashes, retries and waits. Each invocation has its own
        /// work; a retry is a new invocation of a dead one's work.
        #[test]
        fn two_holders_never_both_hold_the_lease(steps in proptest::collection::vec(step(), 1..60)) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let (_fake, leases) = setup();
                let ttl = Duration::from_secs(60);
                let work = |actor: usize| format!("request-{actor}");
                let mut held: Vec<Option<Lease>> = vec![None, None, None];
                for step in &steps {
                    match *step {
                        Step::Take { actor, with_work } => {
                            if held[actor].is_none() {
                                let work = with_work.then(|| work(actor));
                                held[actor] = leases
                                    .try_acquire_for("prod", work.as_deref(), ttl)
                                    .await
                                    .unwrap();
                            }
                        }
                        Step::Renew { actor } => {
                            if let Some(lease) = held[actor].as_mut()
                                && !leases.renew(lease, ttl).await.unwrap()
                            {
                                held[actor] = None;
                            }
                        }
                        Step::Release { actor } => {
                            if let Some(lease) = held[actor].take() {
                                leases.release(lease).await.unwrap();
                            }
                        }
                        Step::Crash { actor } => held[actor] = None,
                        Step::Retry { actor } => {
                            held[actor] = leases
                                .try_acquire_for("prod", Some(&work(actor)), ttl)
                                .await
                                .unwrap();
                        }
                        Step::Wait { seconds } => {
                            tokio::time::advance(Duration::from_secs(seconds)).await;
                        }
                    }
                    let now = leases.clock.now();
                    let holders: Vec<usize> = (0..held.len())
                        .filter(|actor| held[*actor].as_ref().is_some_and(|lease| lease.expires > now))
                        .collect();
                    assert!(holders.len() <= 1, "{holders:?} all hold the lease after {step:?}");
                }
            });
        }
    }
}
