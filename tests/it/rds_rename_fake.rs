//! Renaming clusters against the in-process fake: what a rename keeps (tags, membership),
//! what it changes (identifier, ARN, endpoint), what AWS refuses, and how long the endpoint
//! does not answer, on the fake's clock. Instances are never renamed.

use std::sync::Arc;
use std::time::Duration;

use aurora_clone_manager::aws::clock::{Clock, TokioClock};
use aurora_clone_manager::aws::fake::{CLUSTER_RENAME_TAKES, FakeAws, FakeClusterSeed};
use aurora_clone_manager::aws::{AwsErrorKind, Rds, Tags};
use chrono::{TimeZone, Utc};

fn fake() -> Arc<FakeAws> {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
    ));
    FakeAws::with_clock(clock)
}

/// An available cluster `id` with the writer `<id>-writer` and one tag.
fn seeded(fake: &FakeAws, id: &str) {
    let mut seed = FakeClusterSeed::root(id);
    seed.tags = Tags::from([("team".to_string(), "data".to_string())]);
    fake.seed_cluster(seed);
}

/// Seconds of the fake's clock until `host` answers, polling every second, at most an hour.
async fn seconds_until_answering(fake: &FakeAws, host: &str) -> u64 {
    for second in 0..3600 {
        if fake.endpoint_answers(host) {
            return second;
        }
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    panic!("{host} never answered");
}

#[tokio::test(start_paused = true)]
async fn a_renamed_cluster_keeps_its_tags_and_instances_and_gets_a_new_arn_and_endpoint() {
    let fake = fake();
    seeded(&fake, "acm-app");
    let before = fake.cluster_snapshot("acm-app").unwrap();
    Rds::rename_cluster(fake.as_ref(), "acm-app", "acm-app-Old")
        .await
        .unwrap();
    assert!(fake.cluster_snapshot("acm-app").is_none());
    // RDS stores the new identifier in lower case.
    let after = fake.cluster_snapshot("acm-app-old").unwrap();
    assert_eq!(
        after.status,
        aurora_clone_manager::model::ClusterStatus::Renaming
    );
    assert_eq!(after.tags, before.tags);
    assert_eq!(
        after.arn,
        "arn:aws:rds:us-east-1:123456789012:cluster:acm-app-old"
    );
    assert_ne!(after.endpoint, before.endpoint);
    assert!(
        after
            .endpoint
            .as_deref()
            .unwrap()
            .starts_with("acm-app-old.")
    );
    assert_eq!(after.writer_instance_id(), Some("acm-app-writer"));
    let instance = Rds::describe_instance(fake.as_ref(), "acm-app-writer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(instance.cluster_id.as_deref(), Some("acm-app-old"));

    tokio::time::advance(CLUSTER_RENAME_TAKES.to_std().unwrap()).await;
    let cluster = Rds::describe_cluster(fake.as_ref(), "acm-app-old")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        cluster.status,
        aurora_clone_manager::model::ClusterStatus::Available
    );
    assert_eq!(cluster.writer_instance_id(), Some("acm-app-writer"));
}

#[tokio::test(start_paused = true)]
async fn the_endpoint_of_a_renamed_cluster_answers_only_after_the_rename_settles() {
    let fake = fake();
    seeded(&fake, "acm-app");
    let old_host = fake.cluster_snapshot("acm-app").unwrap().endpoint.unwrap();
    assert!(fake.endpoint_answers(&old_host));
    Rds::rename_cluster(fake.as_ref(), "acm-app", "acm-app-next")
        .await
        .unwrap();
    // The old name is gone at once; the new one answers once the rename is in effect.
    assert!(!fake.endpoint_answers(&old_host));
    let new_host = fake
        .cluster_snapshot("acm-app-next")
        .unwrap()
        .endpoint
        .unwrap();
    let waited = seconds_until_answering(&fake, &new_host).await;
    assert_eq!(waited, CLUSTER_RENAME_TAKES.num_seconds() as u64);
    assert!(!fake.endpoint_answers(&old_host));
}

#[tokio::test(start_paused = true)]
async fn the_fake_refuses_a_rename_to_an_identifier_rds_refuses() {
    let fake = fake();
    seeded(&fake, "acm-app");
    for bad in ["1acm", "acm--x", "acm-x-", "acm_x"] {
        let refused = Rds::rename_cluster(fake.as_ref(), "acm-app", bad)
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), AwsErrorKind::InvalidRequest, "{bad}");
        assert_eq!(refused.code(), Some("InvalidParameterValue"), "{bad}");
        assert!(refused.to_string().contains("rds-new-cluster-identifier"));
    }
    assert_eq!(
        fake.cluster_snapshot("acm-app").unwrap().status,
        aurora_clone_manager::model::ClusterStatus::Available
    );
}

#[tokio::test(start_paused = true)]
async fn the_fake_refuses_a_rename_to_a_name_in_use() {
    let fake = fake();
    seeded(&fake, "acm-app");
    seeded(&fake, "acm-other");
    let refused = Rds::rename_cluster(fake.as_ref(), "acm-app", "acm-other")
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::AlreadyExists);
    assert_eq!(refused.code(), Some("DBClusterAlreadyExistsFault"));
    // Nothing moved.
    assert!(fake.cluster_snapshot("acm-app").is_some());
    assert_eq!(
        fake.cluster_snapshot("acm-other")
            .unwrap()
            .writer_instance_id(),
        Some("acm-other-writer")
    );
    let missing = Rds::rename_cluster(fake.as_ref(), "acm-gone", "acm-gone-old")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), AwsErrorKind::NotFound);
}

#[tokio::test(start_paused = true)]
async fn the_fake_renames_only_an_available_cluster() {
    let fake = fake();
    seeded(&fake, "acm-app");
    Rds::rename_cluster(fake.as_ref(), "acm-app", "acm-app-old")
        .await
        .unwrap();
    // Still `renaming`: a second rename is refused until it is in effect.
    let refused = Rds::rename_cluster(fake.as_ref(), "acm-app-old", "acm-app-older")
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), AwsErrorKind::InvalidState);
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
    tokio::time::advance(CLUSTER_RENAME_TAKES.to_std().unwrap()).await;
    Rds::describe_cluster(fake.as_ref(), "acm-app-old")
        .await
        .unwrap();
    Rds::rename_cluster(fake.as_ref(), "acm-app-old", "acm-app-older")
        .await
        .unwrap();

    // A stopped cluster is not renamed either.
    seeded(&fake, "acm-idle");
    fake.stop_cluster("acm-idle", 0);
    Rds::describe_cluster(fake.as_ref(), "acm-idle")
        .await
        .unwrap();
    let refused = Rds::rename_cluster(fake.as_ref(), "acm-idle", "acm-idle-old")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("InvalidDBClusterStateFault"));
}
