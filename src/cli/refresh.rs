//! `refresh`: give a clone the newest data of its root in place. Without `--wait` it starts
//! the refresh (or moves one in progress on) and returns; running it again continues.

use crate::cli::args::RefreshArgs;
use crate::cli::error::Failure;
use crate::cli::output::{print_json, print_text};
use crate::model::naming::cluster_id_from_arn;
use crate::plan::refresh::RefreshStep;
use crate::run::machinery::context::Context;
use crate::run::workflows::refresh::{self, RefreshError, RefreshReport};

pub async fn run(app: &Context, args: &RefreshArgs, json: bool) -> Result<(), Failure> {
    let cluster_id = cluster_id_from_arn(&args.cluster).unwrap_or(&args.cluster);
    let report = refresh::refresh(app, cluster_id, args.wait)
        .await
        .map_err(|error| explain(app, &error))?;
    if json {
        return print_json(&report);
    }
    print_text(&render(&report));
    Ok(())
}

fn render(report: &RefreshReport) -> String {
    if report.done {
        return format!(
            "{} refreshed: data of {} (was {}); the old cluster is being deleted\n",
            report.cluster_id,
            report.data_timestamp.as_deref().unwrap_or("unknown"),
            report
                .previous_data_timestamp
                .as_deref()
                .unwrap_or("unknown"),
        );
    }
    match &report.last_step {
        RefreshStep::Idle => format!("{}: no refresh in progress\n", report.cluster_id),
        RefreshStep::Wait { what } => format!(
            "{}: refresh in progress, waiting for {what}; run `refresh {}` again (or with --wait) to go on\n",
            report.cluster_id, report.cluster_id
        ),
        other => format!("{}: refresh in progress ({other:?})\n", report.cluster_id),
    }
}

fn explain(app: &Context, error: &RefreshError) -> Failure {
    match error {
        RefreshError::Plan(crate::plan::refresh::RefreshPlanError::NotOurs(_)) => {
            Failure::new(format!(
                "{error}; only clones this clone manager made can be refreshed (is --stack '{}' right?)",
                app.config.stack_name
            ))
        }
        RefreshError::Aws { source, .. } => Failure::aws(&error.to_string(), source),
        _ => Failure::new(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_refresh_names_both_data_timestamps_and_one_in_progress_how_to_go_on() {
        let mut report = RefreshReport {
            cluster_id: "acm-c1".into(),
            done: true,
            last_step: RefreshStep::Finish,
            previous_data_timestamp: Some("2026-11-01T09:00:00Z".into()),
            data_timestamp: Some("2026-11-04T09:00:00Z".into()),
        };
        assert_eq!(
            render(&report),
            "acm-c1 refreshed: data of 2026-11-04T09:00:00Z (was 2026-11-01T09:00:00Z); the old cluster is being deleted\n"
        );
        report.done = false;
        report.last_step = RefreshStep::Wait {
            what: "acm-c1-next".into(),
        };
        assert!(render(&report).contains("run `refresh acm-c1` again"));
    }
}
