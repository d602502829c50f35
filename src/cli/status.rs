//! `status`: each root as a tree (root, its clones, then each copy with its clones) with
//! state, instance class, data time and age, and free clone slots per source and in total.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::cli::args::StatusArgs;
use crate::cli::failure::Failure;
use crate::cli::output::{note, print_json, print_text};
use crate::cli::table::{Table, age, or_dash, timestamp};
use crate::plan::pool::{Freshness, SourceKind, SourceView};
use crate::run::context::Context;
use crate::run::status::{CloneStatus, RootStatus, StatusReport, status};

pub async fn run(app: &Context, args: &StatusArgs, json: bool) -> Result<(), Failure> {
    let report = status(app, args.source.as_deref())
        .await
        .map_err(|error| Failure::aws("reading the pool", &error))?;
    if json {
        print_json(&report)?;
    } else {
        let classes = source_instance_classes(app, &report).await;
        print_text(&render(&report, &classes));
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

/// The instance class of each source: copies carry it in their tags; a root's writer is
/// asked for it (one call per root). A root whose instances cannot be read shows none
/// rather than failing the status.
async fn source_instance_classes(app: &Context, report: &StatusReport) -> BTreeMap<String, String> {
    let sources = report
        .roots
        .iter()
        .flat_map(|root| std::iter::once(&root.pool.root).chain(root.pool.copies.iter()));
    let mut classes: BTreeMap<String, String> = BTreeMap::new();
    let mut source_ids: Vec<&str> = Vec::new();
    for source in sources {
        match &source.instance_class {
            Some(class) => {
                classes.insert(source.cluster_id.clone(), class.clone());
            }
            None => source_ids.push(source.cluster_id.as_str()),
        }
    }
    let lookups = source_ids.iter().map(|id| async move {
        let instances = app.ports.rds.describe_cluster_instances(id).await.ok()?;
        let class = instances.first()?.instance_class.clone();
        Some((id.to_string(), class))
    });
    classes.extend(
        futures::future::join_all(lookups)
            .await
            .into_iter()
            .flatten(),
    );
    classes
}

/// The whole report as text.
pub fn render(report: &StatusReport, classes: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for root in &report.roots {
        text.push_str(&render_root(root, classes, report.taken_at));
        text.push('\n');
    }
    if report.roots.len() > 1 {
        let total: u32 = report.roots.iter().map(|root| root.free_slots).sum();
        text.push_str(&format!(
            "{total} free clone slots over {} roots\n",
            report.roots.len()
        ));
    }
    text
}

fn render_root(
    root: &RootStatus,
    classes: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> String {
    let pool = &root.pool;
    let fresh_copy_slots: u32 = pool.fresh_copies().map(|copy| copy.free_slots).sum();
    let mut text = format!(
        "{}: {} free clone slots (root {}, fresh copies {}), {}, {}\n",
        root.root_id,
        root.free_slots,
        if pool.root.status == "deleting" {
            0
        } else {
            pool.root.free_slots
        },
        fresh_copy_slots,
        counted(pool.copies.len(), "copy", "copies"),
        counted(root.clones.len(), "clone", "clones"),
    );
    let mut table = Table::new(&[
        "CLUSTER",
        "KIND",
        "STATUS",
        "STATE",
        "CLASS",
        "DATA FROM",
        "AGE",
        "FREE",
        "NOTE",
    ])
    .indented(2);
    for source in std::iter::once(&pool.root).chain(pool.copies.iter()) {
        table.row(source_row(source, classes, pool.max_clones_per_source));
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
            table.row(clone_row(clone, branch, now));
        }
    }
    text.push_str(&table.render());
    text
}

fn source_row(
    source: &SourceView,
    classes: &BTreeMap<String, String>,
    max_clones_per_source: u32,
) -> Vec<String> {
    let (kind, data_from, age_text) = match source.kind {
        SourceKind::Root => ("root", "live".to_string(), "-".to_string()),
        SourceKind::Copy => (
            "copy",
            or_dash(source.data_timestamp.map(timestamp)),
            or_dash(
                source
                    .age_seconds
                    .map(|seconds| age(chrono::TimeDelta::seconds(seconds))),
            ),
        ),
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
    vec![
        source.cluster_id.clone(),
        kind.to_string(),
        source.status.clone(),
        or_dash(source.lifecycle_state.map(|state| state.as_str())),
        or_dash(classes.get(&source.cluster_id)),
        data_from,
        age_text,
        format!("{}/{}", source.free_slots, max_clones_per_source),
        notes.join(", "),
    ]
}

fn clone_row(clone: &CloneStatus, branch: &str, now: DateTime<Utc>) -> Vec<String> {
    vec![
        format!("{branch} {}", clone.cluster_id),
        "clone".to_string(),
        clone.status.clone(),
        or_dash(clone.state.as_deref()),
        or_dash(clone.instance_class.as_deref()),
        or_dash(clone.data_timestamp.map(timestamp)),
        or_dash(clone.data_timestamp.map(|at| age(now - at))),
        String::new(),
        clone_notes(clone).join(", "),
    ]
}

fn clone_notes(clone: &CloneStatus) -> Vec<String> {
    let mut notes = Vec::new();
    if !clone.managed {
        notes.push("not made by this clone manager".to_string());
    }
    if let Some(expires_at) = clone.expires_at {
        notes.push(format!("expires {}", timestamp(expires_at)));
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
    use crate::plan::inventory::Inventory;
    use crate::plan::pool::{FreshnessRule, PoolView};
    use crate::plan::tags;
    use crate::plan::testing::{cluster, now, tagged_clone};

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
        let row = source_row(&pool.root, &BTreeMap::new(), 15);
        assert_eq!(row[7], "0/15");
        assert!(
            row[8].contains("AWS made clone-9 a full copy"),
            "{:?}",
            row[8]
        );
    }

    #[test]
    fn a_clone_row_shows_its_expiry_and_protection() {
        let clone = CloneStatus {
            cluster_id: "acm-c1".into(),
            source_id: "prod".into(),
            status: "available".into(),
            state: Some("ready".into()),
            instance_class: None,
            data_timestamp: Some(now()),
            managed: true,
            expires_at: Some(now() + chrono::TimeDelta::days(7)),
            protected_until: Some(now() + chrono::TimeDelta::days(1)),
        };
        let row = clone_row(&clone, "└─", now());
        assert_eq!(
            row[8],
            "expires 2024-05-08T12:00:00Z, protected until 2024-05-02T12:00:00Z"
        );
    }
}
