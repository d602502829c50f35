//! The fake CloudWatch: `DatabaseConnections` per cluster as hourly maxima that tests
//! record (a cluster publishes nothing while stopped, so tests record nothing then),
//! `ServerlessDatabaseCapacity` as hourly maxima (0 for hours paused throughout), and
//! `VolumeBytesUsed` per cluster as hourly values, read back by GetMetricData in batches of
//! at most 500 clusters, one call counted per batch.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::FakeAws;
use crate::{AwsError, METRIC_QUERIES_PER_CALL, Metrics};

#[derive(Default)]
pub(super) struct MetricsState {
    /// Cluster id → hour → the highest connection count in that hour.
    connections: BTreeMap<String, BTreeMap<DateTime<Utc>, f64>>,
    /// Cluster id → hour → the cluster volume's bytes in that hour.
    volume_bytes: BTreeMap<String, BTreeMap<DateTime<Utc>, f64>>,
    /// Cluster id → hour → the highest Serverless v2 capacity (ACUs) in that hour.
    capacity: BTreeMap<String, BTreeMap<DateTime<Utc>, f64>>,
}

impl FakeAws {
    /// Records `connections` as the highest `DatabaseConnections` of `cluster_id` for every
    /// whole hour from `from` to `to` (as a running cluster publishes it).
    pub fn record_connections(
        &self,
        cluster_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        connections: f64,
    ) {
        let mut state = self.lock();
        let series = state
            .metrics
            .connections
            .entry(cluster_id.to_string())
            .or_default();
        fill_hours(series, from, to, connections);
    }

    /// Records `acus` as the highest `ServerlessDatabaseCapacity` of `cluster_id` for every
    /// whole hour from `from` to `to`: 0 for hours its writer was paused throughout, when
    /// it publishes no `DatabaseConnections` (record none for those hours).
    pub fn record_capacity(
        &self,
        cluster_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        acus: f64,
    ) {
        let mut state = self.lock();
        let series = state
            .metrics
            .capacity
            .entry(cluster_id.to_string())
            .or_default();
        fill_hours(series, from, to, acus);
    }
}

/// Sets `value` for every whole hour from the hour of `from` up to `to`.
fn fill_hours(
    series: &mut BTreeMap<DateTime<Utc>, f64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    value: f64,
) {
    let mut hour = from
        .duration_trunc(TimeDelta::hours(1))
        .expect("an hour divides a timestamp");
    while hour < to {
        series.insert(hour, value);
        hour += TimeDelta::hours(1);
    }
}

/// The points of each cluster's series from `start` to `end`, one GetMetricData call
/// counted per batch of clusters; clusters without points are left out.
fn hourly(
    fake: &FakeAws,
    series_of: impl Fn(&MetricsState) -> &BTreeMap<String, BTreeMap<DateTime<Utc>, f64>>,
    batch: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    result: &mut BTreeMap<String, Vec<(DateTime<Utc>, f64)>>,
) {
    let state = fake.lock();
    for cluster_id in batch {
        let Some(series) = series_of(&state.metrics).get(cluster_id) else {
            continue;
        };
        let points: Vec<(DateTime<Utc>, f64)> = series
            .range(start..end)
            .map(|(hour, value)| (*hour, *value))
            .collect();
        if !points.is_empty() {
            result.insert(cluster_id.clone(), points);
        }
    }
}

impl FakeAws {
    /// Records `bytes` as the `VolumeBytesUsed` of `cluster_id` in the hour of `at`.
    pub fn record_volume_bytes(&self, cluster_id: &str, at: DateTime<Utc>, bytes: f64) {
        let hour = at
            .duration_trunc(TimeDelta::hours(1))
            .expect("an hour divides a timestamp");
        self.lock()
            .metrics
            .volume_bytes
            .entry(cluster_id.to_string())
            .or_default()
            .insert(hour, bytes);
    }
}

#[async_trait]
impl Metrics for FakeAws {
    async fn hourly_max_connections(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        let mut result = BTreeMap::new();
        for batch in cluster_ids.chunks(METRIC_QUERIES_PER_CALL) {
            self.enter(crate::operations::CLOUDWATCH_GET_METRIC_DATA.name)
                .await?;
            hourly(
                self,
                |metrics| &metrics.connections,
                batch,
                start,
                end,
                &mut result,
            );
        }
        Ok(result)
    }

    async fn hourly_max_capacity(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        let mut result = BTreeMap::new();
        for batch in cluster_ids.chunks(METRIC_QUERIES_PER_CALL) {
            self.enter(crate::operations::CLOUDWATCH_GET_METRIC_DATA.name)
                .await?;
            hourly(
                self,
                |metrics| &metrics.capacity,
                batch,
                start,
                end,
                &mut result,
            );
        }
        Ok(result)
    }

    async fn latest_volume_bytes(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, AwsError> {
        let mut result = BTreeMap::new();
        for batch in cluster_ids.chunks(METRIC_QUERIES_PER_CALL) {
            self.enter(crate::operations::CLOUDWATCH_GET_METRIC_DATA.name)
                .await?;
            let state = self.lock();
            for cluster_id in batch {
                let latest = state
                    .metrics
                    .volume_bytes
                    .get(cluster_id)
                    .and_then(|series| series.range(start..end).next_back());
                if let Some((_, bytes)) = latest {
                    result.insert(cluster_id.clone(), *bytes);
                }
            }
        }
        Ok(result)
    }
}
