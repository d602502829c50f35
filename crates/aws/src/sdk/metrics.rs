//! The Metrics port on the CloudWatch SDK: `DatabaseConnections` and `VolumeBytesUsed` of
//! many clusters in as few GetMetricData calls as possible.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::primitives::DateTime as SmithyDateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use chrono::{DateTime, Utc};

use super::{collect_pages, map_sdk_error, to_chrono};
use crate::{AwsError, METRIC_QUERIES_PER_CALL, Metrics};

/// One data point per hour: the queries ask for the hourly maximum or average.
const PERIOD_SECONDS: i32 = 3600;

pub struct SdkMetrics {
    client: aws_sdk_cloudwatch::Client,
}

impl SdkMetrics {
    pub fn new(client: aws_sdk_cloudwatch::Client) -> SdkMetrics {
        SdkMetrics { client }
    }
}

/// The query of one metric of one cluster: its id is `m<index>` (ids must start with a
/// lowercase letter and hold letters, digits and underscores; cluster identifiers hold
/// hyphens). `DBClusterIdentifier` is the dimension that filters `AWS/RDS` metrics by Aurora
/// cluster (Aurora user guide, "Amazon CloudWatch dimensions for Aurora",
/// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html); that
/// `DatabaseConnections` is published under it is unverified. `VolumeBytesUsed` is a
/// cluster-level metric (Aurora user guide, "Amazon CloudWatch metrics for Amazon Aurora",
/// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html).
fn query(index: usize, cluster_id: &str, metric_name: &str, stat: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(format!("m{index}"))
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/RDS")
                        .metric_name(metric_name)
                        .dimensions(
                            Dimension::builder()
                                .name("DBClusterIdentifier")
                                .value(cluster_id)
                                .build(),
                        )
                        .build(),
                )
                .period(PERIOD_SECONDS)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

fn smithy_time(time: DateTime<Utc>) -> SmithyDateTime {
    SmithyDateTime::from_secs(time.timestamp())
}

impl SdkMetrics {
    /// The hourly `stat` of `AWS/RDS` `metric_name` of each cluster, sorted by time; clusters
    /// without a data point are absent.
    async fn hourly_series(
        &self,
        cluster_ids: &[String],
        metric_name: &str,
        stat: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        let mut result: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
        for batch in cluster_ids.chunks(METRIC_QUERIES_PER_CALL) {
            let queries: Vec<MetricDataQuery> = batch
                .iter()
                .enumerate()
                .map(|(index, cluster_id)| query(index, cluster_id, metric_name, stat))
                .collect();
            let results = collect_pages(|next_token| {
                let queries = queries.clone();
                async move {
                    let output = self
                        .client
                        .get_metric_data()
                        .set_metric_data_queries(Some(queries))
                        .start_time(smithy_time(start))
                        .end_time(smithy_time(end))
                        .set_next_token(next_token)
                        .send()
                        .await
                        .map_err(|error| map_sdk_error("cloudwatch:GetMetricData", error))?;
                    let next = output.next_token().map(str::to_string);
                    Ok((output.metric_data_results().to_vec(), next))
                }
            })
            .await?;
            for metric in results {
                let Some(index) = metric
                    .id()
                    .and_then(|id| id.strip_prefix('m'))
                    .and_then(|index| index.parse::<usize>().ok())
                else {
                    continue;
                };
                let Some(cluster_id) = batch.get(index) else {
                    continue;
                };
                let points = metric
                    .timestamps()
                    .iter()
                    .zip(metric.values())
                    .filter_map(|(time, value)| to_chrono(time).map(|time| (time, *value)));
                result.entry(cluster_id.clone()).or_default().extend(points);
            }
        }
        for points in result.values_mut() {
            points.sort_by_key(|(time, _)| *time);
        }
        result.retain(|_, points| !points.is_empty());
        Ok(result)
    }
}

#[async_trait]
impl Metrics for SdkMetrics {
    async fn hourly_max_connections(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        self.hourly_series(cluster_ids, "DatabaseConnections", "Maximum", start, end)
            .await
    }

    async fn hourly_max_capacity(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<(DateTime<Utc>, f64)>>, AwsError> {
        self.hourly_series(
            cluster_ids,
            "ServerlessDatabaseCapacity",
            "Maximum",
            start,
            end,
        )
        .await
    }

    async fn latest_volume_bytes(
        &self,
        cluster_ids: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, AwsError> {
        let series = self
            .hourly_series(cluster_ids, "VolumeBytesUsed", "Average", start, end)
            .await?;
        Ok(series
            .into_iter()
            .filter_map(|(cluster_id, points)| points.last().map(|(_, bytes)| (cluster_id, *bytes)))
            .collect())
    }
}
