//! The fake CloudWatch: `DatabaseConnections` per cluster as hourly maxima that tests
//! record (a cluster publishes nothing while stopped, so tests record nothing then), and
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
        let mut hour = from
            .duration_trunc(TimeDelta::hours(1))
            .expect("an hour divides a timestamp");
        while hour < to {
            series.insert(hour, connections);
            hour += TimeDelta::hours(1);
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
            let state = self.lock();
            for cluster_id in batch {
                let Some(series) = state.metrics.connections.get(cluster_id) else {
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
