//! Clones that look after themselves, against the in-process fake: expiry through the
//! sweep (warned once, then deleted with secret and key), protection, in-place changes of
//! the expiry, and what the sweep costs in API calls.

use crate::fake_harness;
use aurora_clone_manager::model::ClusterStatus;

use std::time::Duration;

use aurora_clone_manager::aws::BusEvent;
use aurora_clone_manager::aws::fake::FakeClusterSeed;
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::model::time::format_timestamp;
use aurora_clone_manager::run::workflows::lifecycle::{self, ChangeError};
use aurora_clone_manager::run::workflows::status;
use chrono::TimeDelta;
use fake_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";

fn sweep_event() -> Value {
    json!({"action": "sweep"})
}

fn lifecycle_events(env: &FakeEnv, name: &str) -> Vec<BusEvent> {
    env.fake
        .events()
        .into_iter()
        .filter(|event| event.detail_type == format!("lifecycle-event/{name}"))
        .collect()
}

async fn pass(hours: u64) {
    tokio::time::advance(Duration::from_secs(hours * 3600)).await;
}

async fn created(env: &FakeEnv, request: &str, properties: Value) -> String {
    env.send(create_event("Db", request, properties)).await;
    let answer = env.only_answer(&response_url(request));
    assert_success(&answer);
    answer.physical_resource_id
}

#[tokio::test(start_paused = true)]
async fn a_clone_expiring_after_two_hours_is_warned_about_once_then_deleted_with_its_secret_and_key()
 {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let properties = json!({
        "SourceClusterId": "prod",
        "ExpiresAfter": "PT2H",
        "SetPassword": "true",
        "AccessPrincipalArns": READER,
    });
    let physical = created(&env, "req-1", properties.clone()).await;
    let clone = env.managed("clone").remove(0);
    let made_at = clone.created_at.unwrap();
    let expires_at = clone.tags[tags::EXPIRES_AT].clone();
    assert_eq!(expires_at, format_timestamp(made_at + TimeDelta::hours(2)));
    assert_eq!(env.fake.secrets().len(), 1);

    // Within the warning time (24 h by default): announced once, recorded in a tag.
    env.send(sweep_event()).await;
    env.send(sweep_event()).await;
    let expiring = lifecycle_events(&env, "clone-expiring");
    assert_eq!(expiring.len(), 1, "sent once");
    assert_eq!(expiring[0].source, "aurora-clone-manager");
    assert_eq!(expiring[0].detail["clusterId"], json!(clone.id));
    assert_eq!(expiring[0].detail["expiresAt"], json!(expires_at));
    assert_eq!(
        expiring[0].detail["owner"],
        json!(clone.tags[tags::OWNER]),
        "the shared schema"
    );
    assert_eq!(
        env.fake.cluster_snapshot(&clone.id).unwrap().tags[tags::EXPIRING_NOTICE],
        expires_at
    );
    assert!(lifecycle_events(&env, "clone-expired").is_empty());
    assert_eq!(env.managed("clone").len(), 1, "not before its time");

    pass(2).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(
        report["expired"][0]["clusterId"],
        json!(clone.id),
        "{report}"
    );
    let expired = lifecycle_events(&env, "clone-expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].detail["clusterId"], json!(clone.id));
    for _ in 0..5 {
        env.fake.describe_for_test().await;
    }
    assert!(env.fake.cluster_snapshot(&clone.id).is_none(), "deleted");
    assert_no_password_leftovers(&env);

    // The stack's later Delete finds the clone gone and succeeds.
    env.send(delete_event("Db", "req-2", &physical, properties))
        .await;
    assert_success(&env.only_answer(&response_url("req-2")));
}

#[tokio::test(start_paused = true)]
async fn a_protected_clone_is_not_expired_until_its_protection_ends() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT2H"}),
    )
    .await;
    let clone = env.managed("clone").remove(0);
    let until = env.app.now() + TimeDelta::hours(10);
    let change = lifecycle::protect(&env.app, &clone.id, until)
        .await
        .unwrap();
    assert_eq!(change.protected_until, Some(until));

    pass(3).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["planned"][0]["action"], "protected", "{report}");
    assert!(report["expired"].as_array().unwrap().is_empty());
    assert_eq!(env.managed("clone").len(), 1, "kept while protected");

    pass(8).await;
    env.send(sweep_event()).await;
    assert!(env.managed("clone").is_empty(), "expired once unprotected");
}

#[tokio::test(start_paused = true)]
async fn extending_a_clone_moves_its_expiry_and_it_is_announced_again() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT2H"}),
    )
    .await;
    let clone = env.managed("clone").remove(0);
    let expires_at = clone.created_at.unwrap() + TimeDelta::hours(2);
    env.send(sweep_event()).await;
    assert_eq!(lifecycle_events(&env, "clone-expiring").len(), 1);

    let change = lifecycle::extend(&env.app, &clone.id, TimeDelta::days(3))
        .await
        .unwrap();
    assert_eq!(change.expires_at, Some(expires_at + TimeDelta::days(3)));
    pass(3).await;
    env.send(sweep_event()).await;
    assert_eq!(env.managed("clone").len(), 1, "not expired at the old time");
    assert_eq!(
        lifecycle_events(&env, "clone-expiring").len(),
        1,
        "the new expiry is days away"
    );
    pass(3 * 24 - 3 - 2).await;
    env.send(sweep_event()).await;
    let expiring = lifecycle_events(&env, "clone-expiring");
    assert_eq!(expiring.len(), 2, "announced again before the new time");
    assert_eq!(
        expiring[1].detail["expiresAt"],
        json!(format_timestamp(expires_at + TimeDelta::days(3)))
    );

    let report = status::status(&env.app, Some("prod")).await.unwrap();
    let shown = &report.roots[0].clones[0];
    assert_eq!(shown.expires_at, change.expires_at);
    assert_eq!(shown.protected_until, None);
}

#[tokio::test(start_paused = true)]
async fn extend_and_protect_refuse_what_they_must_not_change() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    let forever = env.managed("clone").remove(0);
    assert!(matches!(
        lifecycle::extend(&env.app, &forever.id, TimeDelta::days(1)).await,
        Err(ChangeError::NoExpiry(_))
    ));
    assert!(matches!(
        lifecycle::extend(&env.app, "prod", TimeDelta::days(1)).await,
        Err(ChangeError::Refused(_))
    ));
    assert!(matches!(
        lifecycle::protect(&env.app, "acm-missing", env.app.now() + TimeDelta::days(1)).await,
        Err(ChangeError::NotFound(_))
    ));
    assert!(matches!(
        lifecycle::protect(&env.app, &forever.id, env.app.now() - TimeDelta::hours(1)).await,
        Err(ChangeError::InThePast(_))
    ));
    assert!(
        !env.fake
            .cluster_snapshot("prod")
            .unwrap()
            .tags
            .contains_key(tags::PROTECTED_UNTIL),
        "the root is untouched"
    );
}

#[tokio::test(start_paused = true)]
async fn start_starts_only_a_stopped_clone_and_announces_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    let clone = env.managed("clone").remove(0);
    assert!(matches!(
        lifecycle::start(&env.app, &clone.id).await,
        Err(ChangeError::NotStopped { ref status, .. }) if status == "available"
    ));
    env.fake.stop_cluster(&clone.id, 1);
    for _ in 0..3 {
        env.fake.describe_for_test().await;
    }
    lifecycle::start(&env.app, &clone.id).await.unwrap();
    assert_eq!(
        env.fake.cluster_snapshot(&clone.id).unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Starting
    );
    let started = lifecycle_events(&env, "clone-started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].detail["clusterId"], json!(clone.id));
    assert!(matches!(
        lifecycle::start(&env.app, "prod").await,
        Err(ChangeError::Refused(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_stopped_expired_clone_is_started_by_one_sweep_and_deleted_by_a_later_one() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT1H"}),
    )
    .await;
    let clone = env.managed("clone").remove(0);
    env.fake.stop_cluster(&clone.id, 1);
    for _ in 0..3 {
        env.fake.describe_for_test().await;
    }
    assert_eq!(
        env.fake.cluster_snapshot(&clone.id).unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Stopped
    );

    pass(2).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["pending"].as_array().unwrap().len(), 1, "{report}");
    assert!(lifecycle_events(&env, "clone-expired").is_empty());

    let mut sweeps = 0;
    while env
        .fake
        .cluster_snapshot(&clone.id)
        .is_some_and(|c| c.status != ClusterStatus::Deleting)
    {
        sweeps += 1;
        assert!(sweeps < 10, "never deleted");
        tokio::time::advance(Duration::from_secs(15 * 60)).await;
        env.send(sweep_event()).await;
    }
    assert_eq!(lifecycle_events(&env, "clone-expired").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn changing_the_expiry_in_an_update_retags_the_same_clone() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let old = json!({"SourceClusterId": "prod", "ExpiresAfter": "PT2H"});
    let physical = created(&env, "req-1", old.clone()).await;
    let clone = env.managed("clone").remove(0);
    env.send(sweep_event()).await;
    assert!(
        env.fake
            .cluster_snapshot(&clone.id)
            .unwrap()
            .tags
            .contains_key(tags::EXPIRING_NOTICE)
    );

    let new = json!({"SourceClusterId": "prod", "ExpiresAt": "2026-12-24T00:00:00Z"});
    env.send(update_event("Db", "req-2", &physical, new.clone(), old))
        .await;
    let answer = env.only_answer(&response_url("req-2"));
    assert_success(&answer);
    assert_eq!(answer.physical_resource_id, physical, "not replaced");
    let tagged = env.fake.cluster_snapshot(&clone.id).unwrap().tags;
    assert_eq!(tagged[tags::EXPIRES_AT], "2026-12-24T00:00:00Z");
    assert!(
        !tagged.contains_key(tags::EXPIRING_NOTICE),
        "announced again"
    );

    let forever = json!({"SourceClusterId": "prod"});
    env.send(update_event("Db", "req-3", &physical, forever, new))
        .await;
    assert_success(&env.only_answer(&response_url("req-3")));
    let tagged = env.fake.cluster_snapshot(&clone.id).unwrap().tags;
    assert!(!tagged.contains_key(tags::EXPIRES_AT), "no expiry left");
}

#[tokio::test(start_paused = true)]
async fn a_clone_owned_by_a_stack_never_gets_the_stack_default_lifetime() {
    let env = FakeEnv::with_config(|config| config.default_clone_ttl = Some(TimeDelta::days(7)));
    env.seed_root("prod");
    created(&env, "req-1", json!({"SourceClusterId": "prod"})).await;
    let clone = env.managed("clone").remove(0);
    assert!(!clone.tags.contains_key(tags::EXPIRES_AT));

    // A manual provision gets it.
    let planned_at = env.app.now();
    env.send(
        json!({"action": "provision", "SourceClusterId": "prod", "ClusterId": "acm-manual-1"}),
    )
    .await;
    let manual = env.fake.cluster_snapshot("acm-manual-1").unwrap();
    assert_eq!(
        manual.tags[tags::EXPIRES_AT],
        format_timestamp(planned_at + TimeDelta::days(7))
    );
}

#[tokio::test(start_paused = true)]
async fn the_roots_clone_ttl_beats_the_stack_default_for_manual_clones() {
    let env = FakeEnv::with_config(|config| config.default_clone_ttl = Some(TimeDelta::days(7)));
    env.seed_root("prod");
    env.fake
        .ports()
        .params
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 1 :clone-ttl "PT12H"}]}"#,
        )
        .await
        .unwrap();
    let planned_at = env.app.now();
    env.send(
        json!({"action": "provision", "SourceClusterId": "prod", "ClusterId": "acm-manual-1"}),
    )
    .await;
    let manual = env.fake.cluster_snapshot("acm-manual-1").unwrap();
    assert_eq!(
        manual.tags[tags::EXPIRES_AT],
        format_timestamp(planned_at + TimeDelta::hours(12))
    );
}

/// One sweep over `clones` clones of which `due` have expired and `due` more expire within
/// the warning time: (total calls, calls by operation).
async fn calls_for_a_sweep(clones: usize, due: usize) -> (u64, Vec<(String, u64)>) {
    let env = FakeEnv::new();
    let root = env.seed_root("prod");
    let now = env.app.now();
    for index in 0..clones {
        let expires_at = if index < due {
            now - TimeDelta::minutes(5)
        } else if index < 2 * due {
            now + TimeDelta::hours(2)
        } else {
            now + TimeDelta::days(30)
        };
        let mut seed = FakeClusterSeed::root(&format!("acm-c-{index}"));
        seed.tags = [
            (tags::ROLE.to_string(), "clone".to_string()),
            (tags::STACK.to_string(), "acm".to_string()),
            (tags::SOURCE_ARN.to_string(), root.arn.clone()),
            (tags::EXPIRES_AT.to_string(), format_timestamp(expires_at)),
        ]
        .into();
        env.fake.seed_cluster(seed);
    }
    env.fake.reset_call_counts();
    let report = env.send(sweep_event()).await;
    assert_eq!(report["expired"].as_array().unwrap().len(), due, "{report}");
    assert_eq!(report["warned"].as_array().unwrap().len(), due, "{report}");
    let by_operation = env
        .fake
        .call_counts()
        .into_iter()
        .map(|(name, count)| (name.to_string(), count))
        .collect();
    (env.fake.total_calls(), by_operation)
}

#[tokio::test(start_paused = true)]
async fn a_quiet_sweep_costs_one_call_per_hundred_clusters_and_acting_costs_per_clone_acted_on() {
    let mut rows = vec![
        "| clones | due (expired + warned) | calls per sweep | calls per day at 96 sweeps | by operation |".to_string(),
        "|---|---|---|---|---|".to_string(),
    ];
    for clones in [10, 100, 1_000] {
        // The root plus the clones, 100 clusters a DescribeDBClusters page.
        let pages = (clones as u64 + 1).div_ceil(100);
        let (quiet, by_operation) = calls_for_a_sweep(clones, 0).await;
        assert_eq!(
            quiet, pages,
            "a quiet sweep over {clones} clones: {by_operation:?}"
        );
        rows.push(format!(
            "| {clones} | 0 | {quiet} | {} | {} |",
            quiet * 96,
            describe_counts(&by_operation)
        ));
        let (busy, by_operation) = calls_for_a_sweep(clones, 2).await;
        let acting = busy - pages;
        let (again, _) = calls_for_a_sweep(clones, 2).await;
        assert_eq!(busy, again, "the same sweep costs the same");
        assert!(acting > 0 && acting < 40, "{by_operation:?}");
        rows.push(format!(
            "| {clones} | 2 + 2 | {busy} | — | {} |",
            describe_counts(&by_operation)
        ));
    }
    println!("{}", rows.join("\n"));
}

fn describe_counts(by_operation: &[(String, u64)]) -> String {
    by_operation
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test(start_paused = true)]
async fn an_expired_clone_that_asked_for_a_final_snapshot_gets_one() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT1H", "FinalSnapshot": "true"}),
    )
    .await;
    created(
        &env,
        "req-2",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT1H", "ClusterId": "acm-plain"}),
    )
    .await;
    pass(2).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["expired"].as_array().unwrap().len(), 2, "{report}");
    let snapshots = env.fake.final_snapshots();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    assert!(!snapshots[0].starts_with("acm-plain"), "{snapshots:?}");
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_sweep_changes_nothing() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "ExpiresAfter": "PT1H"}),
    )
    .await;
    pass(2).await;
    let before = env.fake.mutation_count();
    let report = env.send(json!({"action": "sweep", "dryRun": true})).await;
    assert_eq!(report["planned"][0]["action"], "expire", "{report}");
    assert_eq!(env.fake.mutation_count(), before);
    assert_eq!(env.managed("clone").len(), 1);
}

/// Lets status transitions finish.
async fn settle(env: &FakeEnv) {
    for _ in 0..5 {
        env.fake.describe_for_test().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_fake_stops_only_an_available_cluster() {
    use aurora_clone_manager::aws::{AwsErrorKind, Rds};
    let env = FakeEnv::new();
    env.seed_root("prod");
    Rds::stop_cluster(env.fake.as_ref(), "prod").await.unwrap();
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Stopping
    );
    let refused = Rds::stop_cluster(env.fake.as_ref(), "prod")
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    settle(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot("prod").unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Stopped
    );
    let missing = Rds::stop_cluster(env.fake.as_ref(), "nope")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), AwsErrorKind::NotFound);
}

#[tokio::test(start_paused = true)]
async fn an_idle_clone_is_stopped_and_stopped_again_after_aws_restarts_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT2H"}),
    )
    .await;
    let clone = env.managed("clone").remove(0);
    assert_eq!(clone.tags[tags::IDLE], "PT2H stop");
    let made = env.app.now();
    env.fake
        .record_connections(&clone.id, made, made + TimeDelta::hours(1), 3.0);
    pass(2).await;
    env.send(sweep_event()).await;
    assert!(
        lifecycle_events(&env, "clone-stopped").is_empty(),
        "it had connections within its two hours"
    );

    env.fake.record_connections(
        &clone.id,
        made + TimeDelta::hours(1),
        made + TimeDelta::hours(5),
        0.0,
    );
    pass(2).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["stopped"], json!([clone.id]), "{report}");
    let stopped = lifecycle_events(&env, "clone-stopped");
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].detail["idleAfter"], "PT2H");
    settle(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot(&clone.id).unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Stopped
    );
    env.send(sweep_event()).await;
    assert_eq!(
        lifecycle_events(&env, "clone-stopped").len(),
        1,
        "left alone while stopped"
    );

    // Aurora starts a cluster stopped for seven days by itself.
    pass(7 * 24).await;
    settle(&env).await;
    assert_eq!(
        env.fake.cluster_snapshot(&clone.id).unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Available
    );
    let restarted = env.app.now();
    env.send(sweep_event()).await;
    assert_eq!(
        lifecycle_events(&env, "clone-stopped").len(),
        1,
        "not idle for a whole window since the restart yet"
    );
    env.fake
        .record_connections(&clone.id, restarted, restarted + TimeDelta::hours(4), 0.0);
    pass(3).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["stopped"], json!([clone.id]), "{report}");
    assert_eq!(lifecycle_events(&env, "clone-stopped").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_idle_clone_with_idle_action_delete_is_deleted_and_a_protected_one_is_kept() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT1H", "IdleAction": "delete",
               "SetPassword": "true", "AccessPrincipalArns": READER}),
    )
    .await;
    created(
        &env,
        "req-2",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT1H", "ClusterId": "acm-kept"}),
    )
    .await;
    let made = env.app.now();
    let until = made + TimeDelta::days(1);
    lifecycle::protect(&env.app, "acm-kept", until)
        .await
        .unwrap();
    for clone in env.managed("clone") {
        env.fake
            .record_connections(&clone.id, made, made + TimeDelta::hours(3), 0.0);
    }
    pass(2).await;
    let report = env.send(sweep_event()).await;
    assert_eq!(report["expired"].as_array().unwrap().len(), 1, "{report}");
    assert_ne!(report["expired"][0]["clusterId"], "acm-kept");
    assert!(report["stopped"].as_array().unwrap().is_empty(), "{report}");
    let expired = lifecycle_events(&env, "clone-expired");
    assert_eq!(expired[0].detail["reason"], "idle");
    settle(&env).await;
    assert_eq!(
        env.managed("clone").len(),
        1,
        "only the protected one is left"
    );
    assert!(env.fake.secrets().is_empty(), "the secret went with it");
}

/// A Serverless v2 clone that scales to zero pauses and then sends no connection count at
/// all: its paused hours count as idle when the rule deletes it, and never when the rule
/// would stop it (stopping a paused clone saves nothing).
#[tokio::test(start_paused = true)]
async fn a_paused_scale_to_zero_clone_is_deleted_when_idle_but_never_stopped() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    created(
        &env,
        "req-1",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT2H", "IdleAction": "delete",
               "ClusterId": "acm-paused-delete"}),
    )
    .await;
    created(
        &env,
        "req-2",
        json!({"SourceClusterId": "prod", "IdleAfter": "PT2H", "ClusterId": "acm-paused-stop"}),
    )
    .await;
    let made = env.app.now();
    for clone in env.managed("clone") {
        // Paused throughout: capacity 0, and no DatabaseConnections point at all.
        env.fake
            .record_capacity(&clone.id, made, made + TimeDelta::hours(3), 0.0);
    }
    pass(3).await;
    let report = env.send(sweep_event()).await;
    let expired: Vec<_> = report["expired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["clusterId"].clone())
        .collect();
    assert_eq!(expired, vec![json!("acm-paused-delete")], "{report}");
    assert!(report["stopped"].as_array().unwrap().is_empty(), "{report}");
    assert_eq!(
        lifecycle_events(&env, "clone-expired")[0].detail["reason"],
        "idle"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_read_in_one_call_per_five_hundred_candidates() {
    let env = FakeEnv::new();
    let root = env.seed_root("prod");
    for index in 0..501 {
        let mut seed = FakeClusterSeed::root(&format!("acm-c-{index}"));
        seed.tags = [
            (tags::ROLE.to_string(), "clone".to_string()),
            (tags::STACK.to_string(), "acm".to_string()),
            (tags::SOURCE_ARN.to_string(), root.arn.clone()),
            (tags::IDLE.to_string(), "PT12H stop".to_string()),
        ]
        .into();
        env.fake.seed_cluster(seed);
    }
    env.fake.reset_call_counts();
    let report = env.send(sweep_event()).await;
    assert!(
        report["stopped"].as_array().unwrap().is_empty(),
        "no data: not idle"
    );
    let calls = env.fake.call_counts();
    assert_eq!(
        calls.get(operations::CLOUDWATCH_GET_METRIC_DATA.name),
        Some(&2),
        "{calls:?}"
    );
    assert_eq!(
        calls.get(operations::RDS_DESCRIBE_DB_CLUSTERS.name),
        Some(&6),
        "{calls:?}"
    );
}
