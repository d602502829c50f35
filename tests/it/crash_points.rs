//! Crash points: for every step of Create, Delete and maintenance, the run is stopped right
//! after that step, as a Lambda timeout or crash would stop it (every later call blocks and
//! the invocation is dropped, so nothing more happens and nothing is answered). Then the
//! same event is delivered again, as Lambda's retry does, and maintenance runs. The end state
//! must be as if nothing had crashed.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::Params;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::run::machinery::respond::Status;
use fake_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";

fn password_clone() -> Value {
    json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": READER})
}

fn scheduled() -> Value {
    json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
           "resources": [], "detail": {}})
}

/// Runs `event` until `mutations` more changing calls have been made, then stops it dead.
/// Returns whether it was stopped (false: it finished first).
async fn run_and_crash_after(env: &FakeEnv, mutations: u64, event: Value) -> bool {
    env.faults.halt_after_mutations(mutations);
    let crashed = tokio::time::timeout(Duration::from_secs(300), env.send(event))
        .await
        .is_err();
    env.faults.resume();
    crashed
}

/// The number of changing calls one invocation of `event` makes in a fresh environment
/// (hand-overs to further invocations not included).
async fn mutations_of(setup: impl AsyncFnOnce(&FakeEnv), event: Value) -> u64 {
    let env = FakeEnv::new();
    setup(&env).await;
    let before = env.fake.mutation_count();
    env.send(event).await;
    env.fake.mutation_count() - before
}

/// Lets time pass (Lambda's retry delay, lease expiry) and maintenance run, as in production.
async fn aftermath(env: &FakeEnv) {
    tokio::time::advance(Duration::from_secs(3 * 3600)).await;
    for _ in 0..3 {
        env.send(scheduled()).await;
    }
}

fn assert_one_finished_password_clone(env: &FakeEnv, step: u64) {
    let answers = env.answers(&response_url("req-1"));
    assert_eq!(answers.len(), 1, "step {step}: answers {answers:#?}");
    assert_eq!(
        answers[0].status,
        Status::Success,
        "step {step}: {answers:#?}"
    );
    let clones = env.managed("clone");
    assert_eq!(clones.len(), 1, "step {step}: clones {clones:#?}");
    let clone = &clones[0];
    assert_eq!(clone.tags[tags::STATE], "ready", "step {step}");
    let secrets = env.fake.secrets();
    assert_eq!(
        secrets.len(),
        1,
        "step {step}: secrets {:?}",
        secrets.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(
        clone.tags[tags::PASSWORD_SECRET],
        secrets[0].name,
        "step {step}"
    );
    let live_keys: Vec<_> = env
        .fake
        .keys()
        .into_iter()
        .filter(|key| !key.pending_deletion)
        .collect();
    assert_eq!(live_keys.len(), 1, "step {step}: live keys {live_keys:#?}");
    assert_eq!(
        clone.tags[tags::PASSWORD_KEY],
        live_keys[0].key_id,
        "step {step}"
    );
    assert_eq!(env.fake.aliases().len(), 1, "step {step}");
    let document: Value = serde_json::from_str(&secrets[0].value).unwrap();
    assert_eq!(
        env.fake.master_password(&clone.id).as_deref(),
        document["password"].as_str(),
        "step {step}: the master password is the secret's"
    );
    // Announcing and recording it are two calls: a crash between them repeats the event.
    let events = env.fake.events().len();
    assert!((1..=2).contains(&events), "step {step}: {events} events");
}

#[tokio::test(start_paused = true)]
async fn a_create_stopped_after_any_step_ends_as_if_it_had_not_been_stopped() {
    let event = create_event("Db", "req-1", password_clone());
    let total = mutations_of(
        async |env: &FakeEnv| {
            env.seed_root("prod");
        },
        event.clone(),
    )
    .await;
    assert!(total >= 10, "a create makes many changes ({total})");
    let mut crashes = 0;
    for step in 0..total {
        let env = FakeEnv::new();
        env.seed_root("prod");
        if !run_and_crash_after(&env, step, event.clone()).await {
            continue;
        }
        crashes += 1;
        assert!(
            env.answers(&response_url("req-1")).is_empty(),
            "step {step}: a crashed run answered"
        );
        tokio::time::advance(Duration::from_secs(60)).await;
        env.send(event.clone()).await;
        env.run_continuations().await;
        aftermath(&env).await;
        assert_one_finished_password_clone(&env, step);
    }
    assert_eq!(crashes, total, "every step was a crash point");
}

#[tokio::test(start_paused = true)]
async fn a_delete_stopped_after_any_step_ends_with_nothing_left() {
    let setup = async |env: &FakeEnv| {
        env.seed_root("prod");
        env.send(create_event("Db", "req-1", password_clone()))
            .await;
    };
    let physical_of = |env: &FakeEnv| env.only_answer(&response_url("req-1")).physical_resource_id;
    let probe = FakeEnv::new();
    setup(&probe).await;
    let delete = delete_event("Db", "req-2", &physical_of(&probe), json!({}));
    let total = mutations_of(setup, delete.clone()).await;
    assert!(total >= 4, "a delete makes several changes ({total})");
    let mut crashes = 0;
    for step in 0..=total {
        let env = FakeEnv::new();
        setup(&env).await;
        let delete = delete_event("Db", "req-2", &physical_of(&env), json!({}));
        if run_and_crash_after(&env, step, delete.clone()).await {
            crashes += 1;
            tokio::time::advance(Duration::from_secs(60)).await;
            env.send(delete).await;
        }
        let answers = env.answers(&response_url("req-2"));
        assert_eq!(answers.len(), 1, "step {step}: {answers:#?}");
        assert_eq!(answers[0].status, Status::Success, "step {step}");
        aftermath(&env).await;
        assert!(
            env.managed("clone").is_empty(),
            "step {step}: the clone is left"
        );
        assert_no_password_leftovers(&env);
    }
    assert!(
        crashes >= total - 1,
        "only {crashes} of {total} steps were crash points"
    );
}

#[tokio::test(start_paused = true)]
async fn a_maintenance_run_stopped_after_any_step_ends_with_exactly_the_copies_needed() {
    let setup = async |env: &FakeEnv| {
        env.seed_root("prod");
        for index in 0..3 {
            env.send(create_event(
                &format!("Db{index}"),
                &format!("req-{index}"),
                json!({"SourceClusterId": "prod"}),
            ))
            .await;
        }
        env.fake
            .put(
                "/acm/maintenance-config",
                r#"{:clusters [{:cluster-id "prod" :target-clone-slots 40}]}"#,
            )
            .await
            .unwrap();
    };
    let total = mutations_of(setup, scheduled()).await;
    assert!(total >= 4, "a run makes several changes ({total})");
    let mut crashes = 0;
    for step in 0..total {
        let env = FakeEnv::new();
        setup(&env).await;
        if !run_and_crash_after(&env, step, scheduled()).await {
            continue;
        }
        crashes += 1;
        tokio::time::advance(Duration::from_secs(180)).await;
        env.send(scheduled()).await;
        aftermath(&env).await;
        let copies = env.managed("copy");
        assert_eq!(
            copies.len(),
            2,
            "step {step}: copies {:?}",
            copies.iter().map(|c| &c.id).collect::<Vec<_>>()
        );
        for copy in &copies {
            assert_eq!(
                copy.members.len(),
                1,
                "step {step}: {} has {} instances",
                copy.id,
                copy.members.len()
            );
            assert_eq!(copy.tags[tags::STATE], "ready", "step {step}");
        }
        assert_eq!(
            env.managed("clone").len(),
            3,
            "step {step}: clones were touched"
        );
        let leases: Vec<String> = env
            .fake
            .parameters()
            .into_keys()
            .filter(|name| name.contains("/leases/"))
            .collect();
        assert!(leases.is_empty(), "step {step}: leases left {leases:?}");
    }
    assert_eq!(crashes, total, "every step was a crash point");
}

/// Lambda retries an asynchronous invocation that died about a minute later, with the same
/// event: the retry must carry on at once instead of waiting out the dead invocation's
/// leases (the root's, taken before planning; the clone's finish lease, held while polling).
#[tokio::test(start_paused = true)]
async fn a_retried_create_carries_on_at_once_after_its_first_invocation_died() {
    let event = create_event("Db", "req-1", password_clone());
    let total = mutations_of(
        async |env: &FakeEnv| {
            env.seed_root("prod");
        },
        event.clone(),
    )
    .await;
    for step in [1, total / 2, total - 2] {
        // Root leases that outlive the test's patience: waiting one out cannot pass.
        let env = FakeEnv::with_config(|config| {
            config.lease_ttl = Duration::from_secs(900);
            config.lease_wait = Duration::from_secs(900);
        });
        env.seed_root("prod");
        env.faults.halt_after_mutations(step);
        // Dies within a second of virtual time: the dead holder's leases are still fresh.
        let died = tokio::time::timeout(Duration::from_secs(1), env.send(event.clone()))
            .await
            .is_err();
        env.faults.resume();
        assert!(died, "step {step}: the first invocation was stopped");
        let retried_at = tokio::time::Instant::now();
        env.send(event.clone()).await;
        let waited = retried_at.elapsed();
        assert_one_finished_password_clone(&env, step);
        // Finishing takes a few polls of the fake; waiting out the dead invocation's root
        // lease would take 900 s, its finish lease 300 s.
        assert!(
            waited < Duration::from_secs(250),
            "step {step}: the retry waited {waited:?} for its own dead invocation's leases"
        );
    }
}
