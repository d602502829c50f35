//! Copy-pool maintenance against the fake: targets, purges, dry runs, the sweep, orphans,
//! metrics, and slot accounting under concurrent requests.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::Params;
use aurora_clone_manager::aws::fake::FakeClusterSeed;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::model::time::format_timestamp;
use aurora_clone_manager::run::machinery::respond::Status;
use fake_harness::*;
use futures::future::join_all;
use serde_json::{Value, json};

async fn put_config(env: &FakeEnv, text: &str) {
    env.fake.put("/acm/maintenance-config", text).await.unwrap();
}

fn scheduled_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-01T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/acm-maintenance"],
        "detail": {}
    })
}

async fn with_clones(env: &FakeEnv, count: usize) {
    for index in 0..count {
        env.send(create_event(
            &format!("Db{index}"),
            &format!("req-{index}"),
            json!({"SourceClusterId": "prod"}),
        ))
        .await;
    }
}

fn seed_copy(env: &FakeEnv, id: &str, age: chrono::TimeDelta) {
    let root_arn = env.fake.cluster_snapshot("prod").unwrap().arn;
    let mut seed = FakeClusterSeed::root(id);
    seed.tags = [
        (tags::ROLE.to_string(), "copy".to_string()),
        (tags::STACK.to_string(), "acm".to_string()),
        (tags::ROOT_ARN.to_string(), root_arn),
        (
            tags::DATA_TIMESTAMP.to_string(),
            format_timestamp(env.clock.now() - age),
        ),
        (tags::STATE.to_string(), "ready".to_string()),
    ]
    .into();
    env.fake.seed_cluster(seed);
}

#[tokio::test(start_paused = true)]
async fn a_run_makes_the_copies_a_target_needs_and_the_next_run_makes_none() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    with_clones(&env, 3).await;
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 40}]}"#,
    )
    .await;
    let report = env.send(scheduled_event()).await;
    assert_eq!(
        report["roots"][0]["copiesCreated"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{report}"
    );
    let copies = env.managed("copy");
    assert_eq!(copies.len(), 2);
    for copy in &copies {
        assert_eq!(
            copy.tags[tags::ROOT_ARN],
            env.fake.cluster_snapshot("prod").unwrap().arn
        );
        assert!(copy.tags.contains_key(tags::DATA_TIMESTAMP));
    }
    let second = env.send(scheduled_event()).await;
    assert!(
        second["roots"][0]["copiesCreated"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{second}"
    );
    assert_eq!(env.managed("copy").len(), 2);
    assert_eq!(second["plan"]["roots"][0]["freeSlots"], 42);
}

#[tokio::test(start_paused = true)]
async fn an_old_copy_is_purged_and_replaced_only_when_the_target_needs_it() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    with_clones(&env, 3).await;
    seed_copy(&env, "prod-old-copy", chrono::TimeDelta::days(5));
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 10}]}"#,
    )
    .await;
    let report = env.send(scheduled_event()).await;
    assert_eq!(report["roots"][0]["copiesPurged"], json!(["prod-old-copy"]));
    assert!(
        report["roots"][0]["copiesCreated"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(env.managed("copy").is_empty());

    seed_copy(&env, "prod-old-copy-2", chrono::TimeDelta::days(5));
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 20}]}"#,
    )
    .await;
    let report = env.send(scheduled_event()).await;
    assert_eq!(
        report["roots"][0]["copiesPurged"],
        json!(["prod-old-copy-2"])
    );
    assert_eq!(
        report["roots"][0]["copiesCreated"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        env.fake.cluster_snapshot("prod").is_some(),
        "the root is never purged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_changes_nothing_and_returns_the_plan_the_real_run_carries_out() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    with_clones(&env, 3).await;
    seed_copy(&env, "prod-old-copy", chrono::TimeDelta::days(5));
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 40}]}"#,
    )
    .await;
    let before = env.fake.all_clusters();
    let calls_before = env.fake.mutation_count();
    let dry = env
        .send(json!({"action": "maintain", "dryRun": true}))
        .await;
    assert_eq!(env.fake.all_clusters(), before);
    assert_eq!(
        env.fake.mutation_count(),
        calls_before,
        "not one changing call"
    );
    assert_eq!(dry["dryRun"], true);
    let real = env.send(json!({"action": "maintain"})).await;
    assert_eq!(dry["plan"]["roots"], real["plan"]["roots"]);
    let planned: Vec<&str> = dry["plan"]["roots"][0]["copies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|copy| copy["clusterId"].as_str().unwrap())
        .collect();
    let mut made: Vec<String> = env
        .managed("copy")
        .into_iter()
        .map(|copy| copy.id)
        .collect();
    made.sort();
    let mut planned_sorted: Vec<String> = planned.iter().map(|id| id.to_string()).collect();
    planned_sorted.sort();
    assert_eq!(made, planned_sorted);
}

#[tokio::test(start_paused = true)]
async fn per_root_dry_run_is_honoured_and_a_bad_root_does_not_stop_the_others() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.seed_root("reporting");
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "missing-db" :target-clone-slots 20}
                       {:cluster-id "reporting" :target-clone-slots 30 :dry-run? true}
                       {:cluster-id "prod" :target-clone-slots 30}
                       {:cluster-id "prod" :target-clone-slots 0}]}"#,
    )
    .await;
    let report = env
        .send(json!({"source": "events", "action": "maintain!"}))
        .await;
    let roots = report["roots"].as_array().unwrap();
    let by_id = |id: &str| {
        roots
            .iter()
            .find(|root| root["clusterId"] == id)
            .unwrap()
            .clone()
    };
    assert!(
        by_id("missing-db")["failures"][0]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert!(
        by_id("reporting")["copiesCreated"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(by_id("prod")["copiesCreated"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["configProblems"][0]["path"],
        "clusters[3].target-clone-slots"
    );
    let copy_roots: Vec<String> = env
        .managed("copy")
        .into_iter()
        .map(|copy| copy.tags[tags::ROOT_ARN].clone())
        .collect();
    assert_eq!(
        copy_roots,
        vec![env.fake.cluster_snapshot("prod").unwrap().arn]
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_config_there_is_nothing_to_do_and_an_unreadable_one_fails_loudly() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let report = env.send(scheduled_event()).await;
    assert!(report["roots"].as_array().unwrap().is_empty(), "{report}");
    put_config(&env, "{:clusters [").await;
    let report = env.send(scheduled_event()).await;
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("maintenance config"),
        "{report}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_sweep_finishes_clusters_left_unfinished_and_removes_orphans() {
    let env = FakeEnv::with_config(|config| config.orphan_grace = chrono::TimeDelta::hours(1));
    env.seed_root("prod");
    // A clone whose finishing chain died: still pending, no instance yet.
    env.fake
        .configure(|settings| settings.describes_until_available = 0);
    env.send_with(
        create_event(
            "Db",
            "req-1",
            json!({"SourceClusterId": "prod", "SetPassword": "true",
            "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev", "WaitForReady": "false"}),
        ),
        aurora_clone_manager::run::machinery::context::Invocation {
            deadline: Some(tokio::time::Instant::now() + Duration::from_secs(25)),
            function_name: Some("acm".into()),
        },
    )
    .await;
    env.fake.take_invocations();
    let clone = env.managed("clone").remove(0);
    assert_ne!(clone.tags[tags::STATE], "ready", "left unfinished");
    // A secret whose clone someone deleted by hand, long ago.
    let orphan = aurora_clone_manager::aws::SecretRequest {
        name: "/aurora-clone-manager/password/gone-20260101T000000".into(),
        description: "orphan".into(),
        value: aurora_clone_manager::aws::SecretString::new("{}".into()),
        kms_key_id: None,
        tags: [
            (tags::STACK.to_string(), "acm".to_string()),
            (tags::CLUSTER.to_string(), "gone".to_string()),
        ]
        .into(),
    };
    aurora_clone_manager::aws::Secrets::create_secret(env.fake.as_ref(), &orphan)
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(2 * 3600)).await;
    put_config(&env, "{:clusters []}").await;
    let report = env.send(scheduled_event()).await;
    let mut finished = report["finished"].as_array().unwrap().clone();
    finished.extend(report["stillUnfinished"].as_array().unwrap().clone());
    assert!(finished.contains(&json!(clone.id)), "{report}");
    assert_eq!(report["orphansRemoved"], json!([orphan.name]));
    // Passes continue on the next runs until the clone is ready.
    for _ in 0..3 {
        env.send(scheduled_event()).await;
    }
    assert_eq!(env.managed("clone")[0].tags[tags::STATE], "ready");
    assert_eq!(env.fake.secrets().len(), 1, "the live clone's secret stays");
    assert_eq!(env.fake.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_run_emits_metrics_per_root() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    with_clones(&env, 3).await;
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 40}]}"#,
    )
    .await;
    env.send(scheduled_event()).await;
    let lines = env.metrics.lines();
    let root_line = lines
        .iter()
        .find(|line| line["SourceClusterId"] == "prod")
        .expect("a line for the root");
    assert_eq!(root_line["CopiesCreated"], 2);
    assert_eq!(root_line["Clones"], 3);
    assert_eq!(root_line["FreeCloneSlots"], 42);
    assert_eq!(root_line["Copies"], 2);
    assert_eq!(root_line["Failures"], 0);
    assert!(
        lines
            .iter()
            .any(|line| line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == json!([["Stack"]]))
    );
}

#[tokio::test(start_paused = true)]
async fn twenty_concurrent_creates_on_fifteen_free_slots_make_fifteen_clones_and_five_clear_failures()
 {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let requests = (0..20).map(|index| {
        env.send(create_event(
            &format!("Db{index}"),
            &format!("req-{index}"),
            json!({"SourceClusterId": "prod", "CopyOk": "false"}),
        ))
    });
    join_all(requests).await;
    let mut successes = 0;
    let mut failures = 0;
    for index in 0..20 {
        let answer = env.only_answer(&response_url(&format!("req-{index}")));
        match answer.status {
            Status::Success => successes += 1,
            Status::Failed => {
                assert_failed_with(&answer, "no clone slots on prod (15/15 used)");
                failures += 1;
            }
        }
    }
    assert_eq!((successes, failures), (15, 5));
    assert_eq!(env.managed("clone").len(), 15);
    assert!(
        env.fake.silent_full_copies().is_empty(),
        "no source was oversubscribed"
    );
}

#[tokio::test(start_paused = true)]
async fn new_copies_are_followed_until_they_have_their_instance() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    // A full copy takes a while, and RDS refuses the instance until the copy is available.
    env.fake.configure(|settings| {
        settings.describes_until_available = 40;
        settings.instances_wait_for_cluster = false;
    });
    put_config(
        &env,
        r#"{:clusters [{:cluster-id "prod" :target-clone-slots 30}]}"#,
    )
    .await;
    env.send(scheduled_event()).await;
    let copies = env.managed("copy");
    assert_eq!(copies.len(), 1);
    assert!(
        copies[0].members.is_empty(),
        "no instance while the copy is being made"
    );
    assert!(
        env.run_continuations().await >= 1,
        "a finishing chain follows the copy"
    );
    let copy = env.managed("copy").remove(0);
    assert_eq!(copy.members.len(), 1);
    assert_eq!(copy.tags[tags::STATE], "ready");
}

#[tokio::test(start_paused = true)]
async fn keys_of_others_that_cannot_be_read_are_left_alone() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let foreign = aurora_clone_manager::aws::Keys::create_key(
        env.fake.as_ref(),
        &aurora_clone_manager::aws::KeyRequest {
            description: "someone else's".into(),
            // The usual default key policy: the account's IAM policies decide, and the
            // clone manager's role has no IAM rights on keys, so it may not read the tags.
            policy: serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*"
            }]})
            .to_string(),
            tags: [("team".to_string(), "payments".to_string())].into(),
        },
    )
    .await
    .unwrap();
    put_config(&env, "{:clusters []}").await;
    tokio::time::advance(Duration::from_secs(3 * 3600)).await;
    let report = env.send(scheduled_event()).await;
    assert!(report.get("error").is_none(), "{report}");
    assert!(
        report["orphansRemoved"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let key = env
        .fake
        .keys()
        .into_iter()
        .find(|key| key.key_id == foreign.key_id)
        .unwrap();
    assert!(!key.pending_deletion);
}
