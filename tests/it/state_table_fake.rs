//! The state table after an upgrade: what an earlier version kept in SSM parameters (its
//! leases and its clones waiting for a copy) is carried over by the first maintenance run,
//! and still counts: a carried lease keeps others out until its own expiry, and a carried
//! waiting clone is still made.

use crate::fake_harness;

use std::time::Duration;

use aurora_clone_manager::aws::{Params, StateCondition, StateItem, StateTable};
use fake_harness::*;
use serde_json::json;

const READER: &str = "arn:aws:iam::123456789012:role/developer";

fn scheduled_run() -> serde_json::Value {
    json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": "2026-11-01T03:00:00Z", "region": "us-east-1",
           "resources": [], "detail": {}})
}

#[tokio::test(start_paused = true)]
async fn an_earlier_versions_lease_is_carried_over_and_keeps_others_out_until_its_expiry() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    let now = env.app.now();
    let held = json!({"holder": "old-invocation", "expires": now + chrono::TimeDelta::minutes(5),
                      "work": "request-9"});
    let lapsed =
        json!({"holder": "dead-invocation", "expires": now - chrono::TimeDelta::minutes(1)});
    env.fake
        .put("/acm/leases/prod", &held.to_string())
        .await
        .unwrap();
    env.fake
        .put("/acm/leases/other", &lapsed.to_string())
        .await
        .unwrap();

    env.send(scheduled_run()).await;

    assert!(env.fake.parameters().is_empty(), "the SSM leases are gone");
    let items = env.fake.state_items(&env.app.config.state_table);
    assert_eq!(items.len(), 1, "only the live lease is carried: {items:?}");
    assert_eq!(items[0].sk, "prod");
    assert_eq!(items[0].text("holder"), Some("old-invocation"));
    let leases = env.app.leases();
    assert!(
        leases
            .try_acquire_for("prod", None, Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "the earlier version's holder keeps it"
    );
    assert!(
        leases
            .try_acquire_for("prod", Some("request-9"), Duration::from_secs(60))
            .await
            .unwrap()
            .is_some(),
        "and a retry of its work may take it over, as before the upgrade"
    );
}

#[tokio::test(start_paused = true)]
async fn an_earlier_versions_waiting_clone_is_carried_over_and_still_made() {
    let env = FakeEnv::new();
    env.fake
        .configure(|settings| settings.describes_until_available = 20);
    env.seed_root("prod");
    env.add_foreign_clones("prod", 15);
    let properties = json!({"SourceClusterId": "prod", "CopyOk": "true", "WaitForReady": "false",
                            "SetPassword": "true", "AccessPrincipalArns": READER});
    // An invocation that hands over before the copy can be ready.
    let short = aurora_clone_manager::run::machinery::context::Invocation {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(60)),
        function_name: Some("acm".into()),
    };
    env.send_with(create_event("Db", "req-1", properties), short)
        .await;
    assert_success(&env.only_answer(&response_url("req-1")));
    env.fake.take_invocations();
    // Turn the record into what the earlier version wrote: an SSM parameter.
    let table = env.app.config.state_table.clone();
    let record = env
        .fake
        .state_items(&table)
        .into_iter()
        .find(|item| item.pk == "deferred-clone")
        .expect("the clone waits for its copy");
    assert!(
        env.fake
            .delete_item(&table, &record.pk, &record.sk, &StateCondition::Always)
            .await
            .unwrap()
    );
    env.fake
        .put(
            &format!("/acm/deferred-clones/{}", record.sk),
            record.text("job").unwrap(),
        )
        .await
        .unwrap();

    for _ in 0..40 {
        if !env.managed("clone").is_empty() {
            break;
        }
        tokio::time::advance(Duration::from_secs(600)).await;
        env.send(scheduled_run()).await;
        env.fake.take_invocations();
    }
    assert!(env.fake.parameters().is_empty(), "the SSM record is gone");
    let clones = env.managed("clone");
    assert_eq!(clones.len(), 1, "the carried-over clone was made");
    assert_eq!(clones[0].id, record.sk);
}

/// A Create whose reader IAM takes longer to accept than the root lease lives: the lease
/// is kept renewed under the wait, so no other request takes the root meanwhile, and the
/// clone is made.
#[tokio::test(start_paused = true)]
async fn the_root_lease_outlives_a_long_iam_wait_under_it() {
    let env = FakeEnv::with_config(|config| config.lease_ttl = Duration::from_secs(30));
    env.seed_root("prod");
    env.fake
        .principal_created_now(READER, Duration::from_secs(100));
    let app = env.app.clone();
    let competitor = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        app.leases()
            .try_acquire_for("prod", Some("another-request"), Duration::from_secs(30))
            .await
            .unwrap()
    });
    let properties = json!({"SourceClusterId": "prod", "SetPassword": "true",
                            "AccessPrincipalArns": READER});
    env.send(create_event("Db", "req-1", properties)).await;
    assert_success(&env.only_answer(&response_url("req-1")));
    assert!(
        competitor.await.unwrap().is_none(),
        "another request took the root's lease while the Create waited under it"
    );
}

/// If the root lease is lost under the wait all the same (its item overwritten, as by a
/// holder that wrongly thought it free), the restore is never sent: the Create fails
/// saying so and leaves nothing behind.
#[tokio::test(start_paused = true)]
async fn a_create_that_lost_its_root_lease_sends_no_restore_and_leaves_nothing() {
    let env = FakeEnv::with_config(|config| config.lease_ttl = Duration::from_secs(30));
    env.seed_root("prod");
    env.fake
        .principal_created_now(READER, Duration::from_secs(100));
    let fake = env.fake.clone();
    let table = env.app.config.state_table.clone();
    let usurper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(40)).await;
        let far = chrono::Utc::now() + chrono::TimeDelta::hours(1);
        let item = StateItem::new("lease", "prod")
            .with_text("holder", "usurper")
            .with_number("expires_ms", far.timestamp_millis());
        fake.put_item(&table, &item, &StateCondition::Always)
            .await
            .unwrap();
    });
    let properties = json!({"SourceClusterId": "prod", "SetPassword": "true",
                            "AccessPrincipalArns": READER});
    env.send(create_event("Db", "req-1", properties)).await;
    usurper.await.unwrap();
    assert_failed_with(&env.only_answer(&response_url("req-1")), "lease was lost");
    assert!(env.fake.restores().is_empty(), "no restore was sent");
    assert!(env.managed("clone").is_empty());
    assert_no_password_leftovers(&env);
}
