//! CloudWatch Embedded Metric Format: metrics written as structured log lines, which
//! CloudWatch turns into metrics without a PutMetricData call (or its IAM permission).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Namespace of every metric.
pub const NAMESPACE: &str = "AuroraCloneManager";

/// One root's numbers after a maintenance run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RootMetrics {
    pub source_cluster_id: String,
    pub free_clone_slots: u32,
    pub copies: u32,
    pub clones: u32,
    pub copies_created: u32,
    pub copies_purged: u32,
    pub failures: u32,
    /// Clones from this root's sources that AWS silently made as full copies.
    pub full_copy_fallbacks: u32,
}

/// Where metric lines go.
pub trait MetricsSink: Send + Sync {
    fn emit(&self, line: Value);
}

/// Prints each line to standard output, where Lambda's log capture picks it up.
pub struct StdoutMetrics;

impl MetricsSink for StdoutMetrics {
    fn emit(&self, line: Value) {
        println!("{line}");
    }
}

/// Drops metrics (the CLI: its standard output is for results).
pub struct NoMetrics;

impl MetricsSink for NoMetrics {
    fn emit(&self, _line: Value) {}
}

/// Keeps metric lines in memory, for tests.
#[derive(Default)]
pub struct RecordedMetrics {
    lines: Mutex<Vec<Value>>,
}

impl RecordedMetrics {
    pub fn lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl MetricsSink for RecordedMetrics {
    fn emit(&self, line: Value) {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(line);
    }
}

/// The EMF line of one root.
pub fn root_line(stack_name: &str, metrics: &RootMetrics, now: DateTime<Utc>) -> Value {
    json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stack", "SourceClusterId"]],
                "Metrics": [
                    {"Name": "FreeCloneSlots", "Unit": "Count"},
                    {"Name": "Copies", "Unit": "Count"},
                    {"Name": "Clones", "Unit": "Count"},
                    {"Name": "CopiesCreated", "Unit": "Count"},
                    {"Name": "CopiesPurged", "Unit": "Count"},
                    {"Name": "Failures", "Unit": "Count"},
                    {"Name": "FullCopyFallbacks", "Unit": "Count"}
                ]
            }]
        },
        "Stack": stack_name,
        "SourceClusterId": metrics.source_cluster_id,
        "FullCopyFallbacks": metrics.full_copy_fallbacks,
        "FreeCloneSlots": metrics.free_clone_slots,
        "Copies": metrics.copies,
        "Clones": metrics.clones,
        "CopiesCreated": metrics.copies_created,
        "CopiesPurged": metrics.copies_purged,
        "Failures": metrics.failures,
    })
}

/// The size and estimated monthly cost of one root's pool (this deployment's copies and
/// clones of it) after a maintenance run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolCostMetrics {
    pub source_cluster_id: String,
    /// Copies and clones counted.
    pub clusters: u32,
    /// Their cluster volumes' `VolumeBytesUsed` summed, in GB (2^30 bytes).
    pub storage_gb: f64,
    /// The estimate's low end (provisioned instances, Serverless v2 at minimum capacity).
    pub estimated_monthly_cost: f64,
    /// The estimate's high end (Serverless v2 at maximum capacity).
    pub estimated_monthly_cost_max: f64,
    /// Clusters with a part that could not be priced, left out of the estimate.
    pub unpriced_clusters: u32,
    /// The price table's currency (a property of the line, not a dimension).
    pub currency: String,
}

/// The EMF line of one root's pool size and estimated cost.
pub fn pool_cost_line(stack_name: &str, metrics: &PoolCostMetrics, now: DateTime<Utc>) -> Value {
    json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stack", "SourceClusterId"]],
                "Metrics": [
                    {"Name": "PoolClusters", "Unit": "Count"},
                    {"Name": "PoolStorageGB", "Unit": "Gigabytes"},
                    {"Name": "EstimatedMonthlyCost", "Unit": "None"},
                    {"Name": "EstimatedMonthlyCostMax", "Unit": "None"},
                    {"Name": "UnpricedClusters", "Unit": "Count"}
                ]
            }]
        },
        "Stack": stack_name,
        "SourceClusterId": metrics.source_cluster_id,
        "Currency": metrics.currency,
        "PoolClusters": metrics.clusters,
        "PoolStorageGB": metrics.storage_gb,
        "EstimatedMonthlyCost": metrics.estimated_monthly_cost,
        "EstimatedMonthlyCostMax": metrics.estimated_monthly_cost_max,
        "UnpricedClusters": metrics.unpriced_clusters,
    })
}

/// The EMF line counting failures of the whole deployment (the alarm watches it).
pub fn failures_line(stack_name: &str, failures: u32, now: DateTime<Utc>) -> Value {
    json!({
        "_aws": {
            "Timestamp": now.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stack"]],
                "Metrics": [{"Name": "Failures", "Unit": "Count"}]
            }]
        },
        "Stack": stack_name,
        "Failures": failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_line_declares_every_metric_it_carries() {
        let line = root_line(
            "acm",
            &RootMetrics {
                source_cluster_id: "prod".into(),
                free_clone_slots: 27,
                copies: 2,
                clones: 3,
                copies_created: 2,
                copies_purged: 0,
                failures: 0,
                full_copy_fallbacks: 1,
            },
            Utc::now(),
        );
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], NAMESPACE);
        for metric in declared["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has no value");
        }
        assert_eq!(line["FreeCloneSlots"], 27);
        assert_eq!(line["SourceClusterId"], "prod");
    }

    #[test]
    fn a_pool_cost_line_declares_every_metric_it_carries() {
        let line = pool_cost_line(
            "acm",
            &PoolCostMetrics {
                source_cluster_id: "prod".into(),
                clusters: 3,
                storage_gb: 12.5,
                estimated_monthly_cost: 234.93,
                estimated_monthly_cost_max: 541.53,
                unpriced_clusters: 1,
                currency: "USD".into(),
            },
            Utc::now(),
        );
        let declared = &line["_aws"]["CloudWatchMetrics"][0];
        for metric in declared["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has no value");
        }
        assert_eq!(line["EstimatedMonthlyCost"], 234.93);
        assert_eq!(line["PoolClusters"], 3);
        assert_eq!(line["Currency"], "USD");
    }
}
