//! `status`: each root as a tree (root, its clones, then each copy with its clones) with
//! state, capacity (instance class or ACU range), age, data age, expiry, free clone slots
//! and the estimated monthly cost of each, the pool's estimated cost per root and in total.

use crate::model::ClusterStatus;
use chrono::TimeDelta;

use crate::cli::args::StatusArgs;
use crate::cli::error::Failure;
use crate::cli::output::{note, print_json, print_text};
use crate::cli::table::{Table, age, or_dash, timestamp};
use crate::plan::cost::{CostEstimate, HOURS_PER_MONTH, PoolCost, Span};
use crate::plan::pool::{Freshness, SourceKind, SourceView};
use crate::run::machinery::context::Context;
use crate::run::workflows::status::{CloneStatus, RootStatus, SourceStatus, StatusReport, status};

pub async fn run(app: &Context, args: &StatusArgs, json: bool) -> Result<(), Failure> {
    let report = status(app, args.source.as_deref())
        .await
        .map_err(|error| Failure::aws("reading the pool", &error))?;
    if json {
        print_json(&report)?;
    } else {
        print_text(&render(&report));
    }
    if !report.missing.is_empty() {
        return Err(Failure::new(format!(
            "no cluster named {} in this account and region; check the identifier and --region",
            report.missing.join(", ")
        )));
    }
    if report.roots.is_empty() && !json {
        note(&format!(
            "no roots found for stack '{}': no maintenance config lists any, and no copies or \
             clones carry its tags (is --stack right?)",
            report.stack
        ));
    }
    Ok(())
}

/// The whole report as text.
pub fn render(report: &StatusReport) -> String {
    let mut text = String::new();
    for root in &report.roots {
        text.push_str(&render_root(root, report));
        text.push('\n');
    }
    if report.roots.len() > 1 {
        let total: u32 = report.roots.iter().map(|root| root.free_slots).sum();
        text.push_str(&format!(
            "{total} free clone slots over {} roots\n",
            report.roots.len()
        ));
        text.push_str(&format!(
            "pool of all roots: {}\n",
            pool_line(&report.pool_cost)
        ));
    }
    if !report.roots.is_empty() {
        text.push_str(&format!(
            "Costs are estimates (\"est.\") for {HOURS_PER_MONTH} hours a month, in {}: \
             instance or ACU hours and storage (VolumeBytesUsed) only, no I/O, backups or \
             transfer. Prices: {}.\n",
            report.prices.currency, report.prices.source
        ));
    }
    text
}

fn render_root(root: &RootStatus, report: &StatusReport) -> String {
    let pool = &root.pool;
    let fresh_copy_slots: u32 = pool.fresh_copies().map(|copy| copy.free_slots).sum();
    let mut text = format!(
        "{}: {} free clone slots (root {}, fresh copies {}), {}, {}\n",
        root.root_id,
        root.free_slots,
        if pool.root.status == ClusterStatus::Deleting {
            0
        } else {
            pool.root.free_slots
        },
        fresh_copy_slots,
        counted(pool.copies.len(), "copy", "copies"),
        counted(root.clones.len(), "clone", "clones"),
    );
    let cost_header = format!("EST. {}/MONTH", report.prices.currency);
    let mut table = Table::new(&[
        "CLUSTER",
        "KIND",
        "STATUS",
        "STATE",
        "CAPACITY",
        "AGE",
        "DATA AGE",
        "EXPIRES",
        "FREE",
        &cost_header,
        "NOTE",
    ])
    .indented(2);
    for (source, shown) in std::iter::once(&pool.root)
        .chain(pool.copies.iter())
        .zip(root.sources.iter())
    {
        table.row(source_row(source, shown, pool.max_clones_per_source));
        let clones: Vec<&CloneStatus> = root
            .clones
            .iter()
            .filter(|clone| clone.source_id == source.cluster_id)
            .collect();
        for (index, clone) in clones.iter().enumerate() {
            let branch = if index + 1 == clones.len() {
                "└─"
            } else {
                "├─"
            };
            table.row(clone_row(clone, branch));
        }
    }
    text.push_str(&table.render());
    text.push_str(&format!(
        "  pool (this deployment's copies and clones): {}\n",
        pool_line(&root.pool_cost)
    ));
    text
}

/// `3 clusters, est. USD 379.83/month` and what the sum leaves out.
fn pool_line(pool: &PoolCost) -> String {
    let mut line = format!(
        "{}, est. {} {}/month",
        counted(pool.clusters as usize, "cluster", "clusters"),
        pool.currency,
        amount(pool.total)
    );
    if !pool.incomplete.is_empty() {
        line.push_str(&format!(
            " without the unknown parts of {}",
            pool.incomplete.join(", ")
        ));
    }
    line
}

/// `190.03`, or `44.80-351.40` for a range.
fn amount(span: Span) -> String {
    if span.low == span.high {
        format!("{:.2}", span.low)
    } else {
        format!("{:.2}-{:.2}", span.low, span.high)
    }
}

/// The estimate in the table: the total, the compute part with storage unknown, or
/// `unknown`, never 0 for what could not be priced.
fn cost_cell(cost: &CostEstimate) -> String {
    match (cost.total, cost.compute) {
        (Some(total), _) => amount(total),
        (None, Some(compute)) => format!("{} + storage ?", amount(compute)),
        (None, None) => "unknown".to_string(),
    }
}

fn seconds(value: Option<i64>) -> String {
    or_dash(value.map(|seconds| age(TimeDelta::seconds(seconds))))
}

fn source_row(
    source: &SourceView,
    shown: &SourceStatus,
    max_clones_per_source: u32,
) -> Vec<String> {
    let (kind, data_age) = match source.kind {
        SourceKind::Root => ("root", "live".to_string()),
        SourceKind::Copy => ("copy", seconds(shown.data_age_seconds)),
    };
    let mut notes = Vec::new();
    if source.kind == SourceKind::Copy {
        notes.push(freshness_word(source.freshness).to_string());
        if source.in_preparation() {
            notes.push("being made".to_string());
        }
    }
    if source.clones_creating > 0 {
        notes.push(format!("{} clones creating", source.clones_creating));
    }
    if !source.full_copy_fallbacks.is_empty() {
        notes.push(format!(
            "full: AWS made {} a full copy",
            source.full_copy_fallbacks.join(", ")
        ));
    }
    notes.extend(cost_notes(&shown.monthly_cost));
    vec![
        source.cluster_id.clone(),
        kind.to_string(),
        source.status.to_string(),
        or_dash(source.lifecycle_state.map(|state| state.as_str())),
        shown.capacity.clone(),
        seconds(shown.age_seconds),
        data_age,
        "-".to_string(),
        format!("{}/{}", source.free_slots, max_clones_per_source),
        cost_cell(&shown.monthly_cost),
        notes.join(", "),
    ]
}

fn clone_row(clone: &CloneStatus, branch: &str) -> Vec<String> {
    let mut notes = clone_notes(clone);
    notes.extend(cost_notes(&clone.monthly_cost));
    vec![
        format!("{branch} {}", clone.cluster_id),
        "clone".to_string(),
        clone.status.clone(),
        or_dash(clone.state.as_deref()),
        clone.capacity.clone(),
        seconds(clone.age_seconds),
        seconds(clone.data_age_seconds),
        or_dash(clone.expires_at.map(timestamp)),
        String::new(),
        cost_cell(&clone.monthly_cost),
        notes.join(", "),
    ]
}

/// Why part of an estimate is unknown, shortly.
fn cost_notes(cost: &CostEstimate) -> Vec<String> {
    cost.unknown
        .iter()
        .filter(|reason| reason.starts_with("compute:"))
        .map(|reason| reason.trim_start_matches("compute: ").to_string())
        .chain(
            cost.notes
                .iter()
                .filter(|note| note.starts_with("stopped"))
                .map(|_| "stopped: storage only".to_string()),
        )
        .collect()
}

fn clone_notes(clone: &CloneStatus) -> Vec<String> {
    let mut notes = Vec::new();
    if !clone.managed {
        notes.push("not made by this clone manager".to_string());
    }
    if let Some(until) = clone.protected_until {
        notes.push(format!("protected until {}", timestamp(until)));
    }
    notes
}

/// `1 copy`, `2 copies`.
fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn freshness_word(freshness: Freshness) -> &'static str {
    match freshness {
        Freshness::Fresh => "fresh",
        Freshness::TooOld => "too old",
        Freshness::BeforeRequiredTime => "older than required",
        Freshness::Unknown => "data time unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tags;
    use crate::model::testing::{cluster, now, tagged_clone};
    use crate::plan::cost::{CostInput, PriceTable, estimate};
    use crate::plan::inventory::Inventory;
    use crate::plan::pool::{FreshnessRule, PoolView};

    const GIB: f64 = crate::plan::cost::BYTES_PER_GB;

    fn cost(classes: &[&str], volume_bytes: Option<f64>) -> CostEstimate {
        estimate(
            &CostInput {
                instance_classes: classes
                    .iter()
                    .map(|class| Some(class.to_string()))
                    .collect(),
                scaling: None,
                status: "available".into(),
                volume_bytes,
            },
            &PriceTable::default(),
        )
    }

    fn shown(source: &SourceView, monthly_cost: CostEstimate) -> SourceStatus {
        SourceStatus {
            cluster_id: source.cluster_id.clone(),
            kind: source.kind,
            capacity: "db.r6g.large".into(),
            created_at: Some(now() - TimeDelta::days(100)),
            age_seconds: Some(TimeDelta::days(100).num_seconds()),
            data_age_seconds: None,
            monthly_cost,
        }
    }

    #[test]
    fn a_source_aws_made_a_full_copy_from_says_so_and_shows_no_free_slot() {
        let root = cluster("prod");
        let mut fallback = tagged_clone("acm", "clone-9", &root);
        fallback
            .tags
            .insert(tags::FULL_COPY_FALLBACK.into(), "true".into());
        let inventory = Inventory::new(vec![root.clone(), fallback]);
        let rule = FreshnessRule {
            max_copy_age: chrono::TimeDelta::days(3),
            created_since: None,
        };
        let pool = PoolView::build(&inventory, &root, "acm", 15, rule, now());
        let row = source_row(
            &pool.root,
            &shown(&pool.root, cost(&["db.r6g.large"], Some(GIB))),
            15,
        );
        assert_eq!(row[8], "0/15");
        assert!(
            row[10].contains("AWS made clone-9 a full copy"),
            "{:?}",
            row[10]
        );
    }

    #[test]
    fn a_source_row_shows_capacity_age_and_its_estimate() {
        let root = cluster("prod");
        let inventory = Inventory::new(vec![root.clone()]);
        let rule = FreshnessRule {
            max_copy_age: chrono::TimeDelta::days(3),
            created_since: None,
        };
        let pool = PoolView::build(&inventory, &root, "acm", 15, rule, now());
        // 0.26 × 730 = 189.80 and 2.3 GiB × 0.10 = 0.23.
        let row = source_row(
            &pool.root,
            &shown(&pool.root, cost(&["db.r6g.large"], Some(2.3 * GIB))),
            15,
        );
        assert_eq!(
            row,
            [
                "prod",
                "root",
                "available",
                "-",
                "db.r6g.large",
                "100d",
                "live",
                "-",
                "15/15",
                "190.03",
                ""
            ]
        );
    }

    #[test]
    fn a_cost_is_a_total_a_range_compute_with_storage_unknown_or_unknown_never_zero() {
        assert_eq!(
            cost_cell(&cost(&["db.r6g.large"], Some(2.3 * GIB))),
            "190.03"
        );
        assert_eq!(
            cost_cell(&cost(&["db.r6g.large"], None)),
            "189.80 + storage ?"
        );
        let unpriced = cost(&["db.x2g.16xlarge"], Some(GIB));
        assert_eq!(cost_cell(&unpriced), "unknown");
        assert_eq!(
            cost_notes(&unpriced),
            ["no price for db.x2g.16xlarge in the price table"]
        );
        let mut serverless = estimate(
            &CostInput {
                instance_classes: vec![Some("db.serverless".into())],
                scaling: Some(crate::aws::ServerlessV2Scaling {
                    min_capacity: Some(0.5),
                    max_capacity: Some(4.0),
                    seconds_until_auto_pause: None,
                }),
                status: "available".into(),
                volume_bytes: Some(10.0 * GIB),
            },
            &PriceTable::default(),
        );
        assert_eq!(cost_cell(&serverless), "44.80-351.40");
        serverless.total = None;
        assert_eq!(cost_cell(&serverless), "43.80-350.40 + storage ?");
    }

    #[test]
    fn a_clone_row_shows_its_expiry_protection_and_cost() {
        let clone = CloneStatus {
            cluster_id: "acm-c1".into(),
            source_id: "prod".into(),
            status: "available".into(),
            state: Some("ready".into()),
            instance_class: None,
            data_timestamp: Some(now()),
            resource_id: Some("cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ".into()),
            managed: true,
            expires_at: Some(now() + chrono::TimeDelta::days(7)),
            protected_until: Some(now() + chrono::TimeDelta::days(1)),
            capacity: "db.t4g.medium".into(),
            created_at: Some(now() - TimeDelta::hours(5)),
            age_seconds: Some(TimeDelta::hours(5).num_seconds()),
            data_age_seconds: Some(TimeDelta::hours(6).num_seconds()),
            monthly_cost: cost(&["db.t4g.medium"], Some(GIB)),
        };
        let row = clone_row(&clone, "└─");
        assert_eq!(row[4], "db.t4g.medium");
        assert_eq!(row[5], "5h");
        assert_eq!(row[6], "6h");
        assert_eq!(row[7], "2024-05-08T12:00:00Z");
        // 0.073 × 730 = 53.29, + 0.10 storage.
        assert_eq!(row[9], "53.39");
        assert_eq!(row[10], "protected until 2024-05-02T12:00:00Z");
    }

    #[test]
    fn the_pool_line_gives_the_sum_and_names_what_it_leaves_out() {
        let priced = cost(&["db.t4g.medium"], Some(GIB));
        let unpriced = cost(&["db.x2g.16xlarge"], None);
        let pool =
            crate::plan::cost::pool_cost([("acm-c1", &priced), ("acm-c2", &unpriced)], "USD");
        assert_eq!(
            pool_line(&pool),
            "2 clusters, est. USD 53.39/month without the unknown parts of acm-c2"
        );
    }
}
