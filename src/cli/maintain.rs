//! `maintain`: one maintenance run (or its plan, with `--dry-run`) from a config file or
//! the deployment's SSM parameter, shown root by root.

use std::path::Path;

use crate::cli::args::MaintainArgs;
use crate::cli::error::{Failure, describe_aws_error};
use crate::cli::output::{print_json, print_text};
use crate::cli::table::Table;
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::inventory::ConfigSource;
use crate::run::workflows::maintain::{
    MaintainError, MaintenanceReport, RootReport, run as maintain,
};

pub async fn run(app: &Context, args: &MaintainArgs, json: bool) -> Result<(), Failure> {
    let source = match &args.config {
        Some(path) => ConfigSource::Text(read_config_file(path)?),
        None => ConfigSource::Parameter,
    };
    let report = maintain(app, &Invocation::unbounded(), &source, args.dry_run)
        .await
        .map_err(|error| explain(app, &args.config, &error))?;
    if json {
        print_json(&report)?;
    } else {
        let origin = match &args.config {
            Some(path) => path.display().to_string(),
            None => format!("SSM parameter {}", app.config.maintenance_config_parameter),
        };
        print_text(&render(&report, &origin));
    }
    let problems = problem_count(&report);
    if problems > 0 {
        return Err(Failure::new(format!(
            "maintenance met {problems} problem{} (listed above)",
            if problems == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn read_config_file(path: &Path) -> Result<String, Failure> {
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|error| {
        Failure::new(format!(
            "cannot read the maintenance config {}: {error}",
            path.display()
        ))
    })
}

fn explain(app: &Context, file: &Option<std::path::PathBuf>, error: &MaintainError) -> Failure {
    match error {
        MaintainError::Config(unreadable) => {
            let origin = match file {
                Some(path) => format!("in {}", path.display()),
                None => format!(
                    "in SSM parameter {} (or pass --config FILE)",
                    app.config.maintenance_config_parameter
                ),
            };
            Failure::new(format!(
                "{unreadable} {origin}; expected EDN or JSON like {{:clusters [{{:cluster-id \"prod-db\" :target-clone-slots 20}}]}}"
            ))
        }
        MaintainError::Aws { what, source } => {
            Failure::new(format!("reading {what}: {}", describe_aws_error(source)))
        }
    }
}

/// Config entries skipped, roots that cannot be maintained or failed, and failures of the
/// sweep and clean-up. (A live run reports a root's planned problem among its failures.)
fn problem_count(report: &MaintenanceReport) -> usize {
    let root_problems: usize = if report.dry_run {
        report
            .plan
            .roots
            .iter()
            .filter(|root| root.problem.is_some())
            .count()
    } else {
        report.roots.iter().map(|root| root.failures.len()).sum()
    };
    report.config_problems.len() + report.failures.len() + root_problems
}

/// The run as text: the plan per root, then what was done.
pub fn render(report: &MaintenanceReport, origin: &str) -> String {
    let mut text = if report.dry_run {
        format!("Maintenance plan from {origin} (dry run: nothing was changed)\n")
    } else {
        format!("Maintenance run from {origin}\n")
    };
    if report.plan.roots.is_empty() {
        text.push_str("  no roots to maintain: the config lists none\n");
    } else {
        let mut table = Table::new(&[
            "ROOT",
            "FREE NOW",
            "TARGET",
            "NEW COPIES",
            "PURGE",
            "FREE AFTER",
            "NOTE",
        ])
        .indented(2);
        for root in &report.plan.roots {
            let note = match (&root.problem, root.dry_run && !report.dry_run) {
                (Some(problem), _) => problem.clone(),
                (None, true) => "dry run in the config: not changed".to_string(),
                (None, false) => String::new(),
            };
            table.row(vec![
                root.cluster_id.clone(),
                root.free_slots.to_string(),
                root.target_clone_slots.to_string(),
                root.copies.len().to_string(),
                root.purge.len().to_string(),
                root.free_slots_after.to_string(),
                note,
            ]);
        }
        text.push_str(&table.render());
    }
    for root in &report.plan.roots {
        let changes_here = !report.dry_run && !root.dry_run;
        if changes_here {
            if let Some(done) = report
                .roots
                .iter()
                .find(|done| done.cluster_id == root.cluster_id)
            {
                text.push_str(&root_outcome(done, root.problem.as_deref()));
            }
            continue;
        }
        for copy in &root.copies {
            let capacity = copy
                .capacity
                .as_ref()
                .map(|capacity| format!(", {capacity}"))
                .unwrap_or_default();
            text.push_str(&format!(
                "  {}: would make copy {} ({}{capacity})\n",
                root.cluster_id, copy.cluster_id, copy.instance.instance_class
            ));
            if let Some(note) = &copy.capacity_note {
                text.push_str(&format!("  {}: {note}\n", root.cluster_id));
            }
        }
        for purge in &root.purge {
            text.push_str(&format!(
                "  {}: would delete copy {} ({})\n",
                root.cluster_id, purge.cluster_id, purge.reason
            ));
        }
    }
    let lists: [(&str, Vec<String>); 3] = [
        (
            if report.dry_run {
                "unfinished clusters to finish"
            } else {
                "finished"
            },
            if report.dry_run {
                report.plan.unfinished.clone()
            } else {
                report.finished.clone()
            },
        ),
        ("still unfinished", report.still_unfinished.clone()),
        (
            if report.dry_run {
                "orphaned secrets and keys to remove"
            } else {
                "orphaned secrets and keys removed"
            },
            if report.dry_run {
                report
                    .plan
                    .orphaned_secrets
                    .iter()
                    .map(|secret| secret.name.clone())
                    .chain(
                        report
                            .plan
                            .orphaned_keys
                            .iter()
                            .map(|key| key.alias.clone().unwrap_or_else(|| key.key_id.clone())),
                    )
                    .collect()
            } else {
                report.orphans_removed.clone()
            },
        ),
    ];
    for (label, items) in lists {
        if !items.is_empty() {
            text.push_str(&format!("  {label}: {}\n", items.join(", ")));
        }
    }
    for problem in &report.config_problems {
        text.push_str(&format!("  config entry skipped: {problem}\n"));
    }
    for failure in &report.failures {
        text.push_str(&format!("  failed: {failure}\n"));
    }
    text
}

/// What was done for one root; its plan's problem is already in the table.
fn root_outcome(root: &RootReport, planned_problem: Option<&str>) -> String {
    let mut text = String::new();
    if !root.copies_created.is_empty() {
        text.push_str(&format!(
            "  {}: started copies {}\n",
            root.cluster_id,
            root.copies_created.join(", ")
        ));
    }
    if !root.copies_purged.is_empty() {
        text.push_str(&format!(
            "  {}: deleted copies {}\n",
            root.cluster_id,
            root.copies_purged.join(", ")
        ));
    }
    if !root.copies_starting.is_empty() {
        text.push_str(&format!(
            "  {}: started stopped copies {} (AWS deletes only running clusters; the next run deletes them)\n",
            root.cluster_id,
            root.copies_starting.join(", ")
        ));
    }
    for failure in root
        .failures
        .iter()
        .filter(|failure| Some(failure.as_str()) != planned_problem)
    {
        text.push_str(&format!("  {}: failed: {failure}\n", root.cluster_id));
    }
    text
}
