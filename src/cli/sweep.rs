//! `sweep`: the lifecycle sweep on demand: delete expired clones, announce those about to
//! expire, stop idle ones. `--dry-run` lists what it would do.

use crate::cli::args::SweepArgs;
use crate::cli::error::{Failure, describe_aws_error};
use crate::cli::output::{print_json, print_text};
use crate::model::time::format_timestamp;
use crate::plan::sweep::{SweepAction, SweepItem};
use crate::run::machinery::context::Context;
use crate::run::workflows::sweep::{SweepReport, run as sweep};

pub async fn run(app: &Context, args: &SweepArgs, json: bool) -> Result<(), Failure> {
    let report = sweep(app, args.dry_run)
        .await
        .map_err(|error| Failure::new(format!("sweep: {}", describe_aws_error(&error.source))))?;
    if json {
        print_json(&report)?;
    } else {
        print_text(&render(&report));
    }
    if !report.failures.is_empty() {
        return Err(Failure::new(format!(
            "the sweep met {} problem{} (listed above)",
            report.failures.len(),
            if report.failures.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn describe(item: &SweepItem, dry_run: bool) -> String {
    let would = if dry_run { "would " } else { "" };
    match &item.action {
        SweepAction::Expire { expires_at } => format!(
            "{}: {would}delete (expired at {})",
            item.cluster_id,
            format_timestamp(*expires_at)
        ),
        SweepAction::Warn { expires_at } => format!(
            "{}: {would}announce clone-expiring (expires at {})",
            item.cluster_id,
            format_timestamp(*expires_at)
        ),
        SweepAction::Protected { expires_at, until } => format!(
            "{}: expired at {} but protected until {}: kept",
            item.cluster_id,
            format_timestamp(*expires_at),
            format_timestamp(*until)
        ),
        SweepAction::Stop { idle_after } => format!(
            "{}: {would}stop (no connections for {idle_after})",
            item.cluster_id
        ),
        SweepAction::DeleteIdle { idle_after } => format!(
            "{}: {would}delete (no connections for {idle_after}, IdleAction: delete)",
            item.cluster_id
        ),
        SweepAction::Unreadable { tag, value } => format!(
            "{}: tag {tag} is not a timestamp ('{value}'): left alone",
            item.cluster_id
        ),
    }
}

fn render(report: &SweepReport) -> String {
    let mut text = String::new();
    if report.dry_run {
        text.push_str("Dry run: nothing was changed.\n");
    }
    if report.planned.is_empty() {
        text.push_str("No clone has expired or expires soon.\n");
    }
    for item in &report.planned {
        text.push_str(&format!("  - {}\n", describe(item, report.dry_run)));
    }
    if !report.dry_run {
        text.push_str(&format!(
            "Deleted {}, stopped {}, announced {}, waiting {}.\n",
            report.expired.len(),
            report.stopped.len(),
            report.warned.len(),
            report.pending.len()
        ));
    }
    for pending in &report.pending {
        text.push_str(&format!("  pending: {pending}\n"));
    }
    for failure in &report.failures {
        text.push_str(&format!("  failed: {failure}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::now;

    #[test]
    fn a_dry_run_says_what_it_would_delete_and_announce() {
        let report = SweepReport {
            dry_run: true,
            planned: vec![
                SweepItem {
                    cluster_id: "old".into(),
                    action: SweepAction::Expire { expires_at: now() },
                },
                SweepItem {
                    cluster_id: "soon".into(),
                    action: SweepAction::Warn { expires_at: now() },
                },
            ],
            ..SweepReport::default()
        };
        let text = render(&report);
        assert!(text.contains("Dry run"), "{text}");
        assert!(
            text.contains("old: would delete (expired at 2024-05-01T12:00:00Z)"),
            "{text}"
        );
        assert!(
            text.contains("soon: would announce clone-expiring"),
            "{text}"
        );
    }
}
