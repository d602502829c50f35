//! Plans as golden files: the dry-run output (the plan as JSON) of a set of scenarios is
//! kept under `crates/planning/tests/fixtures/plans/` and compared, so that any change to what the planner
//! decides shows up as a diff in review. After an intended change, re-bless them with
//! `BLESS=1 cargo test -p aurora-clone-planning plan::golden` and review the diff.

use aurora_clone_model::ClusterStatus;
use std::path::PathBuf;

use chrono::TimeDelta;
use serde::Serialize;

use crate::plan::capacity::CapacityRequest;
use crate::plan::inventory::Inventory;
use crate::plan::maintenance::RootTarget;
use crate::plan::request::CloneProperties;
use crate::plan::tests::{config, maintain, plan_for, request, root_with_clones};
use aurora_clone_model::testing::{cluster, copy_of, now, tagged_clone};

/// Compares `value`, as pretty JSON, with `crates/planning/tests/fixtures/plans/<name>.json`, or writes it
/// there when `BLESS` is set.
fn assert_golden(name: &str, value: &impl Serialize) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plans")
        .join(format!("{name}.json"));
    let actual = format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("a plan serialises")
    );
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a fixtures folder")).expect("mkdir");
        std::fs::write(&path, &actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run `BLESS=1 cargo test -p aurora-clone-planning plan::golden` to write it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "the plan of '{name}' changed; if that is intended, re-bless with \
         `BLESS=1 cargo test -p aurora-clone-planning plan::golden` and review the diff.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

fn target(cluster_id: &str, target_clone_slots: u32) -> RootTarget {
    RootTarget {
        cluster_id: cluster_id.to_string(),
        target_clone_slots,
        dry_run: false,
        max_copy_age: None,
        instance_class: None,
        purge_obsolete_copies: true,
        max_clones_per_source: None,
        clone_ttl: None,
        copy_capacity: None,
        refresh_schedule: None,
        max_concurrent_refreshes: None,
    }
}

#[test]
fn a_clone_of_a_root_with_an_empty_pool() {
    let inventory = Inventory::new(root_with_clones(0));
    let mut properties = CloneProperties::for_source("prod");
    properties.set_password = true;
    properties.access_principal_arns = vec!["arn:aws:iam::123456789012:role/developer".into()];
    let outcome = plan_for(&request(properties), &inventory, &config());
    assert_golden("clone-empty-pool", &outcome.expect("a plan"));
}

#[test]
fn a_clone_when_the_root_is_full_comes_from_the_fresh_copy() {
    let mut clusters = root_with_clones(15);
    let root = clusters[0].clone();
    clusters.push(copy_of(
        "acm",
        "prod-copy-a",
        &root,
        now() - TimeDelta::hours(6),
    ));
    let inventory = Inventory::new(clusters);
    let outcome = plan_for(
        &request(CloneProperties::for_source("prod")),
        &inventory,
        &config(),
    );
    assert_golden("clone-full-root", &outcome.expect("a plan"));
}

#[test]
fn maintenance_purges_stale_copies_and_makes_new_ones() {
    let mut clusters = root_with_clones(5);
    let root = clusters[0].clone();
    clusters.push(copy_of(
        "acm",
        "prod-copy-old",
        &root,
        now() - TimeDelta::days(5),
    ));
    clusters.push(copy_of(
        "acm",
        "prod-copy-older",
        &root,
        now() - TimeDelta::days(9),
    ));
    let inventory = Inventory::new(clusters);
    assert_golden(
        "maintain-stale-copies",
        &maintain(&inventory, &[target("prod", 30)]),
    );
}

#[test]
fn maintenance_counts_a_clone_group_filled_by_someone_else() {
    let mut root = cluster("prod");
    root.clone_group_id = Some("g-prod".into());
    let mut clusters = vec![root.clone()];
    for index in 0..12 {
        let mut foreign = cluster(&format!("someone-elses-{index}"));
        foreign.clone_group_id = Some("g-prod".into());
        clusters.push(foreign);
    }
    let mut ours = tagged_clone("acm", "app-db-1", &root);
    ours.clone_group_id = Some("g-prod".into());
    clusters.push(ours);
    let inventory = Inventory::new(clusters);
    assert_golden(
        "maintain-foreign-clone-group",
        &maintain(&inventory, &[target("prod", 10)]),
    );
}

#[test]
fn maintenance_with_a_failed_copy() {
    let mut clusters = root_with_clones(15);
    let root = clusters[0].clone();
    let mut failed = copy_of(
        "acm",
        "prod-copy-failed",
        &root,
        now() - TimeDelta::hours(2),
    );
    failed.status = ClusterStatus::IncompatibleRestore;
    clusters.push(failed);
    let inventory = Inventory::new(clusters);
    assert_golden(
        "maintain-failed-copy",
        &maintain(&inventory, &[target("prod", 5)]),
    );
}

#[test]
fn a_serverless_clone_of_a_root_whose_version_cannot_scale_to_zero() {
    let mut clusters = root_with_clones(0);
    clusters[0].engine_version = Some("14.9".into());
    let inventory = Inventory::new(clusters);
    let mut properties = CloneProperties::for_source("prod");
    properties.serverless = Some(CapacityRequest {
        min_acu: 0.0,
        max_acu: 4.0,
        auto_pause_seconds: Some(600),
    });
    let outcome = plan_for(&request(properties), &inventory, &config());
    assert_golden(
        "clone-serverless-no-scale-to-zero",
        &outcome.expect("a plan"),
    );
}

#[test]
fn maintenance_makes_serverless_copies_that_scale_to_zero() {
    let mut clusters = root_with_clones(5);
    clusters[0].engine_version = Some("16.3".into());
    let inventory = Inventory::new(clusters);
    let mut serverless = target("prod", 20);
    serverless.copy_capacity = Some(CapacityRequest {
        min_acu: 0.0,
        max_acu: 4.0,
        auto_pause_seconds: Some(600),
    });
    assert_golden(
        "maintain-serverless-copies",
        &maintain(&inventory, &[serverless]),
    );
}
