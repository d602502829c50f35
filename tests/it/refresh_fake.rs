//! Refresh in place against the in-process fake: the clone keeps its identifier, endpoint
//! and secret and gets newer data; a crash after any step, followed by running the refresh
//! again, ends with one usable clone and nothing else; a failure before the swap leaves the
//! old clone as it was; and how long the endpoint does not answer, on the fake's clock.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::failure::Fault;
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::run::workflows::refresh::{RefreshError, refresh};
use fake_harness::*;
use serde_json::{Value, json};

const READER: &str = "arn:aws:iam::123456789012:role/developer";

/// A clone of `prod` with its own password, made through CloudFormation; its identifier.
async fn password_clone(env: &FakeEnv) -> String {
    env.seed_root("prod");
    env.send(create_event(
        "Db",
        "req-1",
        json!({"SourceClusterId": "prod", "SetPassword": "true", "AccessPrincipalArns": READER,
               "Tags": {"team": "data"}}),
    ))
    .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    env.managed("clone").remove(0).id
}

fn secret_document(env: &FakeEnv) -> Value {
    let secrets = env.fake.secrets();
    assert_eq!(secrets.len(), 1, "one secret");
    serde_json::from_str(&secrets[0].value).unwrap()
}

/// Lets pending deletions complete.
async fn settle(env: &FakeEnv) {
    for _ in 0..10 {
        env.fake.describe_for_test().await;
    }
}

/// Exactly one clone of ours, under `clone_id`, available with an available writer, and no
/// other cluster or instance of ours.
async fn assert_one_usable_clone(env: &FakeEnv, clone_id: &str, context: &str) {
    settle(env).await;
    let clones = env.managed("clone");
    assert_eq!(
        clones.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![clone_id],
        "{context}"
    );
    let clone = &clones[0];
    assert_eq!(
        clone.status,
        aurora_clone_manager::model::ClusterStatus::Available,
        "{context}"
    );
    let writer = clone.writer_instance_id().unwrap();
    let instances: Vec<_> = env
        .fake
        .all_instances()
        .into_iter()
        .filter(|instance| instance.id != "prod-writer")
        .collect();
    assert_eq!(instances.len(), 1, "{context}: {instances:#?}");
    assert_eq!(instances[0].id, writer, "{context}");
    assert_eq!(instances[0].status, "available", "{context}");
    assert!(
        env.fake
            .endpoint_answers(clone.endpoint.as_deref().unwrap()),
        "{context}"
    );
    assert!(
        !clone.tags.contains_key(tags::REFRESH_OF),
        "{context}: {:?}",
        clone.tags
    );
}

#[tokio::test(start_paused = true)]
async fn a_refresh_keeps_identifier_endpoint_and_secret_and_brings_newer_data() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let before = env.fake.cluster_snapshot(&clone_id).unwrap();
    let writer_before = before.writer_instance_id().unwrap().to_string();
    let document_before = secret_document(&env);
    let password = env.fake.master_password(&clone_id).unwrap();
    tokio::time::advance(Duration::from_secs(3 * 24 * 3600)).await;

    let report = refresh(&env.app, &clone_id, true).await.unwrap();
    assert!(report.done, "{report:?}");
    assert_one_usable_clone(&env, &clone_id, "after the refresh").await;

    let after = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert_ne!(after.created_at, before.created_at, "a new cluster");
    assert_eq!(after.endpoint, before.endpoint);
    // The writer is never renamed (a rename reboots it): the new clone's has its own name.
    let writer_after = after.writer_instance_id().unwrap();
    assert_ne!(writer_after, writer_before);
    assert!(
        writer_after.starts_with(&format!("{clone_id}-r")),
        "{writer_after}"
    );
    assert!(after.tag(tags::DATA_TIMESTAMP) > before.tag(tags::DATA_TIMESTAMP));
    assert_eq!(
        report.previous_data_timestamp.as_deref(),
        before.tag(tags::DATA_TIMESTAMP)
    );
    // The clone's identity moved over: owner, request, password, user tags.
    for key in [
        tags::OWNER,
        tags::REQUEST,
        tags::PASSWORD_SECRET,
        tags::PASSWORD_KEY,
        "team",
    ] {
        assert_eq!(after.tag(key), before.tag(key), "{key}");
    }
    assert_eq!(after.tag(tags::STATE), Some("ready"));
    // The same secret, the same password, now also the new cluster's.
    let document_after = secret_document(&env);
    assert_eq!(document_after["password"], document_before["password"]);
    assert_eq!(document_after["host"], json!(after.endpoint));
    assert_eq!(env.fake.master_password(&clone_id).unwrap(), password);
    assert!(env.fake.keys().iter().all(|key| !key.pending_deletion));

    let refreshed: Vec<_> = env
        .fake
        .events()
        .into_iter()
        .filter(|event| event.detail_type == "lifecycle-event/clone-refreshed")
        .collect();
    assert_eq!(refreshed.len(), 1);
    let detail = &refreshed[0].detail;
    assert_eq!(detail["clusterId"], json!(clone_id));
    assert_eq!(
        detail["dataTimestamp"],
        json!(after.tag(tags::DATA_TIMESTAMP))
    );
    assert_eq!(
        detail["previousDataTimestamp"],
        json!(before.tag(tags::DATA_TIMESTAMP))
    );
    assert_eq!(detail["owner"], json!(before.tag(tags::OWNER)));
    // A new cluster, so a new DbClusterResourceId: IAM database authentication policies
    // must follow it, and the event and status say which it is.
    assert!(after.resource_id.is_some());
    assert_ne!(after.resource_id, before.resource_id);
    assert_eq!(detail["resourceId"], json!(after.resource_id));
    assert_eq!(detail["previousResourceId"], json!(before.resource_id));
    let status = env.send(json!({"action": "status"})).await;
    let clones = status["roots"][0]["clones"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown = clones
        .iter()
        .find(|clone| clone["clusterId"] == json!(clone_id))
        .unwrap_or_else(|| panic!("the clone in {status}"));
    assert_eq!(shown["resourceId"], json!(after.resource_id));

    // The CloudFormation resource still deletes the clone with its secret.
    let physical = env.only_answer(&response_url("req-1")).physical_resource_id;
    env.send(delete_event("Db", "req-2", &physical, json!({})))
        .await;
    env.run_continuations().await;
    assert_success(&env.only_answer(&response_url("req-2")));
    assert_no_password_leftovers(&env);
}

#[tokio::test(start_paused = true)]
async fn without_wait_a_refresh_starts_and_running_it_again_continues_it() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    // The new clone stays `creating` for a few describes, so the first pass has to wait.
    env.fake
        .configure(|settings| settings.describes_until_available = 5);
    let started = refresh(&env.app, &clone_id, false).await.unwrap();
    assert!(!started.done);
    assert!(
        env.fake
            .cluster_snapshot(&format!("{clone_id}-next"))
            .is_some()
    );
    // The old clone is untouched while the new one is made.
    assert!(
        env.fake.endpoint_answers(
            &env.fake
                .cluster_snapshot(&clone_id)
                .unwrap()
                .endpoint
                .unwrap()
        )
    );
    let finished = refresh(&env.app, &clone_id, true).await.unwrap();
    assert!(finished.done);
    assert_one_usable_clone(&env, &clone_id, "continued").await;
}

#[tokio::test(start_paused = true)]
async fn a_failure_before_the_swap_keeps_the_old_clone_and_removes_the_new_one() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let before = env.fake.cluster_snapshot(&clone_id).unwrap();
    env.faults
        .inject(operations::RDS_CREATE_DB_INSTANCE, Fault::Denied, 1);
    let error = refresh(&env.app, &clone_id, true).await.unwrap_err();
    assert!(matches!(error, RefreshError::Abandoned { .. }), "{error}");
    env.faults.clear_faults();
    assert_one_usable_clone(&env, &clone_id, "after the failure").await;
    let after = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert_eq!(after.created_at, before.created_at, "the old cluster");
    assert_eq!(after.tags, before.tags);
    assert_eq!(env.fake.secrets().len(), 1);
}

/// Throttling or a service fault is a busy moment, not a reason to throw the new clone
/// away: the next pass tries again and the refresh completes.
#[tokio::test(start_paused = true)]
async fn a_passing_error_before_the_swap_is_tried_again_and_the_refresh_completes() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    env.faults
        .inject(operations::RDS_CREATE_DB_INSTANCE, Fault::Throttle, 2);
    env.faults
        .inject(operations::RDS_MODIFY_DB_CLUSTER, Fault::ServerError, 1);
    let report = refresh(&env.app, &clone_id, true).await.unwrap();
    assert!(report.done, "{report:?}");
    assert_one_usable_clone(&env, &clone_id, "after passing errors").await;
    assert_eq!(
        env.fake.restores().len(),
        2,
        "the clone and one new clone, not two"
    );
}

/// Two refreshes of the same clone at once (say `refresh --wait` and the sweep): one
/// pass at a time, one new clone, and both end with the clone refreshed.
#[tokio::test(start_paused = true)]
async fn two_refreshes_of_one_clone_at_once_make_one_new_clone_and_both_finish() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    // Every call takes a moment, so that the two refreshes' calls interleave.
    env.faults.set_latency(Duration::from_millis(200));
    let (first, second) = tokio::join!(
        refresh(&env.app, &clone_id, true),
        refresh(&env.app, &clone_id, true)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(
        first.done || first.last_step == aurora_clone_manager::plan::refresh::RefreshStep::Idle
    );
    assert!(
        second.done || second.last_step == aurora_clone_manager::plan::refresh::RefreshStep::Idle
    );
    assert!(first.done || second.done, "{first:?} {second:?}");
    assert_eq!(env.fake.restores().len(), 2, "one new clone");
    assert_one_usable_clone(&env, &clone_id, "after two refreshes at once").await;
}

/// A refresh right after another one finishes too: the second's writer is new, never
/// the first one's.
#[tokio::test(start_paused = true)]
async fn two_refreshes_in_a_row_both_finish() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let mut writers = vec![];
    for round in 0..2 {
        tokio::time::advance(Duration::from_secs(24 * 3600)).await;
        let report = refresh(&env.app, &clone_id, true).await.unwrap();
        assert!(report.done, "round {round}: {report:?}");
        assert_one_usable_clone(&env, &clone_id, &format!("round {round}")).await;
        let clone = env.fake.cluster_snapshot(&clone_id).unwrap();
        writers.push(clone.writer_instance_id().unwrap().to_string());
        let document = secret_document(&env);
        assert_eq!(
            env.fake.master_password(&clone_id).as_deref(),
            document["password"].as_str(),
            "round {round}"
        );
    }
    assert_ne!(writers[0], writers[1]);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_of_a_cluster_that_is_not_ours_is_refused() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let error = refresh(&env.app, "prod", true).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a clone of this clone manager"),
        "{error}"
    );
    assert_eq!(env.fake.all_clusters().len(), 1);
}

/// The changing calls one refresh makes from start to end.
async fn mutations_of_a_refresh() -> u64 {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let before = env.fake.mutation_count();
    refresh(&env.app, &clone_id, true).await.unwrap();
    env.fake.mutation_count() - before
}

#[tokio::test(start_paused = true)]
async fn a_refresh_stopped_after_any_step_ends_with_one_usable_clone_and_nothing_else() {
    let steps = mutations_of_a_refresh().await;
    assert!(steps >= 10, "a refresh makes {steps} changing calls");
    for step in 0..steps {
        let env = FakeEnv::new();
        let clone_id = password_clone(&env).await;
        let before = env.fake.cluster_snapshot(&clone_id).unwrap();
        env.faults.halt_after_mutations(step);
        let crashed = tokio::time::timeout(
            Duration::from_secs(3600),
            refresh(&env.app, &clone_id, true),
        )
        .await
        .is_err();
        env.faults.resume();
        assert!(
            crashed,
            "step {step}: the refresh finished before the crash"
        );
        // Usable at once: the old clone or the new one answers, or the swap is under way
        // and running the refresh again completes it.
        refresh(&env.app, &clone_id, true)
            .await
            .unwrap_or_else(|error| panic!("step {step}: {error}"));
        let context = format!("step {step}");
        assert_one_usable_clone(&env, &clone_id, &context).await;
        let after = env.fake.cluster_snapshot(&clone_id).unwrap();
        for key in [tags::OWNER, tags::PASSWORD_SECRET, "team"] {
            assert_eq!(after.tag(key), before.tag(key), "{context}: {key}");
        }
        assert_eq!(env.fake.secrets().len(), 1, "{context}");
        let document = secret_document(&env);
        assert_eq!(
            env.fake.master_password(&clone_id).as_deref(),
            document["password"].as_str(),
            "{context}"
        );
    }
}

/// The endpoint's outage is the cluster rename's (no instance is renamed), and whenever
/// the endpoint answers, the secret's password works on the cluster behind it: checked
/// every second of the fake's clock.
#[tokio::test(start_paused = true)]
async fn the_outage_is_the_cluster_rename_and_the_secrets_password_works_whenever_the_endpoint_answers()
 {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let host = env
        .fake
        .cluster_snapshot(&clone_id)
        .unwrap()
        .endpoint
        .unwrap();
    let password = secret_document(&env)["password"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    let app = env.app.clone();
    let id = clone_id.clone();
    let task = tokio::spawn(async move { refresh(&app, &id, true).await });
    let mut silent = 0u64;
    let mut longest = 0u64;
    let mut windows = 0;
    let mut answered = 0;
    while !task.is_finished() {
        if env.fake.endpoint_answers(&host) {
            silent = 0;
            answered += 1;
            assert_eq!(
                env.fake.master_password(&clone_id).as_deref(),
                Some(password.as_str()),
                "the endpoint answers with a password the secret does not hold"
            );
        } else {
            if silent == 0 {
                windows += 1;
            }
            silent += 1;
            longest = longest.max(silent);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    task.await.unwrap().unwrap();
    assert!(env.fake.endpoint_answers(&host));
    assert!(answered > 0);
    let rename = aurora_clone_manager::aws::fake::CLUSTER_RENAME_TAKES.num_seconds() as u64;
    // One window only, as long as the new cluster's rename and at most one polling
    // interval more; sampled once a second, so up to a second shorter.
    let poll = env.app.config.poll_interval.as_secs();
    assert_eq!(windows, 1, "the endpoint went silent {windows} times");
    assert!(
        (rename - 1..=rename + poll).contains(&longest),
        "the endpoint was silent for {longest} s"
    );
    println!("rename window: {longest} s of the fake's clock");
}

#[tokio::test(start_paused = true)]
async fn an_update_that_changes_only_the_refresh_token_refreshes_the_clone_in_place() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let properties = json!({"SourceClusterId": "prod", "SetPassword": "true",
                            "AccessPrincipalArns": READER, "RefreshToken": "1"});
    env.send(create_event("Db", "req-1", properties.clone()))
        .await;
    let created = env.only_answer(&response_url("req-1"));
    assert_success(&created);
    let clone_id = env.managed("clone").remove(0).id;
    let before = env.fake.cluster_snapshot(&clone_id).unwrap();
    tokio::time::advance(Duration::from_secs(24 * 3600)).await;
    // The new clone stays `creating` for a few describes: the Update is answered while
    // the refresh has only started.
    env.fake
        .configure(|settings| settings.describes_until_available = 5);

    let mut changed = properties.clone();
    changed["RefreshToken"] = json!("2");
    env.send(update_event(
        "Db",
        "req-2",
        &created.physical_resource_id,
        changed,
        properties,
    ))
    .await;
    let updated = env.only_answer(&response_url("req-2"));
    assert_success(&updated);
    assert_eq!(updated.physical_resource_id, created.physical_resource_id);
    assert!(
        env.fake
            .cluster_snapshot(&format!("{clone_id}-next"))
            .is_some()
    );
    // Each sweep moves the refresh on.
    for _ in 0..40 {
        env.send(json!({"action": "sweep"})).await;
        tokio::time::advance(Duration::from_secs(60)).await;
    }
    assert_one_usable_clone(&env, &clone_id, "after the sweeps").await;
    let after = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert!(after.tag(tags::DATA_TIMESTAMP) > before.tag(tags::DATA_TIMESTAMP));
    assert_eq!(after.tag(tags::OWNER), before.tag(tags::OWNER));
    assert_eq!(env.fake.secrets().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_roots_refresh_schedule_makes_maintenance_refresh_its_old_clones() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let before = env.fake.cluster_snapshot(&clone_id).unwrap();
    use aurora_clone_manager::aws::Params;
    env.fake
        .put(
            "/acm/maintenance-config",
            "{:clusters [{:cluster-id \"prod\" :target-clone-slots 1 :refresh-schedule \"P1D\"}]}",
        )
        .await
        .unwrap();
    let scheduled = json!({"version": "0", "id": "1", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-01T03:00:00Z",
        "region": "us-east-1", "resources": [], "detail": {}});
    // Data younger than a day: nothing to do.
    let report = env.send(scheduled.clone()).await;
    assert!(report.get("refreshesStarted").is_none(), "{report}");
    tokio::time::advance(Duration::from_secs(25 * 3600)).await;
    let report = env.send(scheduled).await;
    assert_eq!(report["refreshesStarted"], json!([clone_id]), "{report}");
    for _ in 0..40 {
        env.send(json!({"action": "sweep"})).await;
        tokio::time::advance(Duration::from_secs(60)).await;
    }
    assert_one_usable_clone(&env, &clone_id, "after the scheduled refresh").await;
    let after = env.fake.cluster_snapshot(&clone_id).unwrap();
    assert!(after.tag(tags::DATA_TIMESTAMP) > before.tag(tags::DATA_TIMESTAMP));
}

#[tokio::test(start_paused = true)]
async fn a_cluster_that_only_has_a_refresh_name_is_never_touched() {
    let env = FakeEnv::new();
    let clone_id = password_clone(&env).await;
    let mut stranger =
        aurora_clone_manager::aws::fake::FakeClusterSeed::root(&format!("{clone_id}-old"));
    stranger.tags = env.fake.cluster_snapshot(&clone_id).unwrap().tags;
    env.fake.seed_cluster(stranger);
    for _ in 0..3 {
        env.send(json!({"action": "sweep"})).await;
    }
    let error = refresh(&env.app, &clone_id, true).await.unwrap_err();
    assert!(
        error.to_string().contains("is not part of a refresh"),
        "{error}"
    );
    settle(&env).await;
    let mut ids: Vec<String> = env.managed("clone").into_iter().map(|c| c.id).collect();
    ids.sort();
    assert_eq!(ids, vec![clone_id.clone(), format!("{clone_id}-old")]);
    assert_eq!(env.fake.secrets().len(), 1);
}
