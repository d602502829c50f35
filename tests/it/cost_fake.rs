//! Costs in plain sight against the fake: `status` prices the root, its copies and clones
//! from the maintenance config's price table and `VolumeBytesUsed`, and the maintenance run
//! publishes the pool's size and estimated cost.

use crate::fake_harness;

use aurora_clone_manager::aws::Params;
use aurora_clone_manager::aws::fake::FakeClusterSeed;
use aurora_clone_manager::model::operations;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::model::time::format_timestamp;
use aurora_clone_manager::plan::cost::BYTES_PER_GB;
use aurora_clone_manager::run::workflows::status::status;
use fake_harness::FakeEnv;
use serde_json::{Value, json};

const CONFIG: &str = r#"{:clusters [{:cluster-id "prod" :target-clone-slots 1}]
  :prices {:instance-hour {"db.r6g.large" 0.26 "db.t4g.medium" 0.073}
           :acu-hour 0.12 :storage-gb-month 0.10 :currency "USD"}}"#;

/// The root `prod` (db.r6g.large, 100 GB), a copy (db.t4g.medium, 100 GB) with one clone
/// (db.t4g.medium, 1 GB), and a clone of the root whose class has no price and whose volume
/// has no data point.
async fn priced_pool() -> FakeEnv {
    let env = FakeEnv::new();
    let root = env.seed_root("prod");
    let now = env.clock.now();
    let mut copy = FakeClusterSeed::root("acm-prod-copy");
    copy.instance_class = Some("db.t4g.medium".into());
    copy.tags = [
        (tags::ROLE.to_string(), "copy".to_string()),
        (tags::STACK.to_string(), "acm".to_string()),
        (tags::ROOT_ARN.to_string(), root.arn.clone()),
        (
            tags::DATA_TIMESTAMP.to_string(),
            format_timestamp(now - chrono::TimeDelta::hours(5)),
        ),
        (tags::STATE.to_string(), "ready".to_string()),
        (
            tags::INSTANCE_CLASS.to_string(),
            "db.t4g.medium".to_string(),
        ),
    ]
    .into();
    let copy = env.fake.seed_cluster(copy);
    for (id, source_arn, class) in [
        ("acm-c1", copy.arn.clone(), "db.t4g.medium"),
        ("acm-c2", root.arn.clone(), "db.x2g.16xlarge"),
    ] {
        let mut clone = FakeClusterSeed::root(id);
        clone.instance_class = Some(class.into());
        clone.tags = [
            (tags::ROLE.to_string(), "clone".to_string()),
            (tags::STACK.to_string(), "acm".to_string()),
            (tags::SOURCE_ARN.to_string(), source_arn),
            (tags::ROOT_ARN.to_string(), root.arn.clone()),
            (tags::STATE.to_string(), "ready".to_string()),
            (tags::INSTANCE_CLASS.to_string(), class.to_string()),
            (
                tags::EXPIRES_AT.to_string(),
                "2026-11-08T09:00:00Z".to_string(),
            ),
        ]
        .into();
        env.fake.seed_cluster(clone);
    }
    let an_hour_ago = now - chrono::TimeDelta::hours(1);
    env.fake
        .record_volume_bytes("prod", an_hour_ago, 100.0 * BYTES_PER_GB);
    env.fake
        .record_volume_bytes("acm-prod-copy", an_hour_ago, 100.0 * BYTES_PER_GB);
    env.fake
        .record_volume_bytes("acm-c1", an_hour_ago, BYTES_PER_GB);
    env.fake
        .put("/acm/maintenance-config", CONFIG)
        .await
        .unwrap();
    env
}

fn total(cost: &Value) -> Value {
    cost["total"].clone()
}

#[tokio::test(start_paused = true)]
async fn status_prices_every_cluster_from_the_price_table_and_sums_the_pool() {
    let env = priced_pool().await;
    env.fake.reset_call_counts();
    let report = status(&env.app, None).await.unwrap();
    let calls = env.fake.call_counts();
    assert_eq!(
        calls.get(operations::CLOUDWATCH_GET_METRIC_DATA.name),
        Some(&1),
        "one call for every volume: {calls:?}"
    );
    assert_eq!(
        calls.get(operations::RDS_DESCRIBE_DB_INSTANCES.name),
        Some(&1),
        "only the root, whose class no tag records: {calls:?}"
    );
    let json = serde_json::to_value(&report).unwrap();
    let root = &json["roots"][0];
    let source = |id: &str| {
        root["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|source| source["clusterId"] == id)
            .unwrap()
            .clone()
    };
    let clone = |id: &str| {
        root["clones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|clone| clone["clusterId"] == id)
            .unwrap()
            .clone()
    };
    // Root: 0.26 × 730 = 189.80, + 100 GB × 0.10 = 10.00.
    assert_eq!(source("prod")["capacity"], "db.r6g.large");
    assert_eq!(
        total(&source("prod")["monthlyCost"]),
        json!({"low": 199.8, "high": 199.8})
    );
    assert_eq!(source("prod")["monthlyCost"]["estimate"], true);
    // Copy: 0.073 × 730 = 53.29, + 10.00.
    assert_eq!(
        total(&source("acm-prod-copy")["monthlyCost"]),
        json!({"low": 63.29, "high": 63.29})
    );
    assert_eq!(source("acm-prod-copy")["dataAgeSeconds"], 5 * 3600);
    // Clone of the copy: 53.29 + 1 GB × 0.10.
    assert_eq!(
        total(&clone("acm-c1")["monthlyCost"]),
        json!({"low": 53.39, "high": 53.39})
    );
    assert_eq!(clone("acm-c1")["expiresAt"], "2026-11-08T09:00:00Z");
    assert_eq!(clone("acm-c1")["capacity"], "db.t4g.medium");
    // A class the table has no price for, and a volume without data: unknown, never 0.
    let unknown = clone("acm-c2")["monthlyCost"].clone();
    assert_eq!(unknown["total"], Value::Null);
    assert_eq!(unknown["compute"], Value::Null);
    assert_eq!(unknown["storage"], Value::Null);
    // The pool: the copy and both clones; the root is not in it.
    assert_eq!(root["poolCost"]["clusters"], 3);
    assert_eq!(
        root["poolCost"]["total"],
        json!({"low": 116.68, "high": 116.68})
    );
    assert_eq!(root["poolCost"]["incomplete"], json!(["acm-c2"]));
    assert_eq!(json["poolCost"]["total"], root["poolCost"]["total"]);
    assert_eq!(json["prices"]["currency"], "USD");
}

#[tokio::test(start_paused = true)]
async fn the_maintenance_run_publishes_the_pool_size_and_estimated_cost() {
    let env = priced_pool().await;
    let report = env.send(json!({"action": "maintain"})).await;
    assert!(
        report["failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let lines = env.metrics.lines();
    let line = lines
        .iter()
        .find(|line| line.get("EstimatedMonthlyCost").is_some())
        .unwrap_or_else(|| panic!("no pool cost line in {lines:?}"));
    assert_eq!(line["SourceClusterId"], "prod");
    assert_eq!(line["PoolClusters"], 3);
    assert_eq!(line["PoolStorageGB"], 101.0);
    assert_eq!(line["EstimatedMonthlyCost"], 116.68);
    assert_eq!(line["EstimatedMonthlyCostMax"], 116.68);
    assert_eq!(line["UnpricedClusters"], 1);
    assert_eq!(line["Currency"], "USD");
}

#[tokio::test(start_paused = true)]
async fn a_serverless_copy_is_priced_from_its_capacity_range_minimum_to_maximum() {
    let env = FakeEnv::new();
    env.seed_root("prod");
    env.fake.modify_cluster("prod", |root| {
        root.engine_version = Some("16.3".to_string())
    });
    env.fake
        .put(
            "/acm/maintenance-config",
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 20
                            :copy-capacity {:min 0.5 :max 4}}]}"#,
        )
        .await
        .unwrap();
    env.send(json!({"action": "maintain"})).await;
    env.run_continuations().await;
    let copies = env.managed("copy");
    assert_eq!(copies.len(), 1);
    let copy_id = copies[0].id.clone();
    env.fake.record_volume_bytes(
        &copy_id,
        env.clock.now() - chrono::TimeDelta::minutes(30),
        10.0 * BYTES_PER_GB,
    );

    let report = serde_json::to_value(status(&env.app, Some("prod")).await.unwrap()).unwrap();
    let copy = report["roots"][0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|source| source["clusterId"] == copy_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(copy["capacity"], "db.serverless 0.5-4 ACU");
    // 0.5 × 0.12 × 730 = 43.80 to 4 × 0.12 × 730 = 350.40, + 10 GB × 0.10 = 1.00.
    assert_eq!(
        copy["monthlyCost"]["compute"],
        json!({"low": 43.8, "high": 350.4})
    );
    assert_eq!(
        copy["monthlyCost"]["total"],
        json!({"low": 44.8, "high": 351.4})
    );
    assert_eq!(
        report["roots"][0]["poolCost"]["total"],
        json!({"low": 44.8, "high": 351.4})
    );

    env.send(json!({"action": "maintain"})).await;
    let lines = env.metrics.lines();
    let line = lines
        .iter()
        .rev()
        .find(|line| line.get("EstimatedMonthlyCost").is_some())
        .unwrap();
    assert_eq!(line["EstimatedMonthlyCost"], 44.8);
    assert_eq!(line["EstimatedMonthlyCostMax"], 351.4);
    assert_eq!(line["PoolClusters"], 1);
}
