//! `delete`: removes one clone with its password secret and key, under the same safety
//! rules as CloudFormation's Delete (only this deployment's clones, never copies or roots),
//! after a confirmation on a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use serde_json::json;

use crate::aws::ClusterInfo;
use crate::cli::args::DeleteArgs;
use crate::cli::error::Failure;
use crate::cli::github::{StepOutputs, delete_outputs};
use crate::cli::output::{print_json, print_text};
use crate::cli::progress::Progress;
use crate::model::naming::cluster_id_from_arn;
use crate::model::tags::{self, Role};
use crate::run::machinery::context::Context;
use crate::run::machinery::teardown::{self, TeardownError, TeardownReport};

pub async fn run(
    app: &Context,
    args: &DeleteArgs,
    json: bool,
    step_outputs: Option<&StepOutputs>,
) -> Result<(), Failure> {
    let cluster_id = cluster_id_from_arn(&args.cluster).unwrap_or(&args.cluster);
    let found = app
        .ports
        .rds
        .describe_cluster(cluster_id)
        .await
        .map_err(|error| Failure::aws(&format!("looking up {cluster_id}"), &error))?;
    let Some(cluster) = found else {
        if !args.missing_ok {
            return Err(Failure::new(format!(
                "no cluster named {cluster_id} in this account and region; check the identifier and --region"
            )));
        }
        if let Some(step_outputs) = step_outputs {
            step_outputs.write(&delete_outputs(cluster_id, false))?;
        }
        if json {
            return print_json(&json!({"deleted": null, "clusterId": cluster_id}));
        }
        print_text(&format!(
            "No cluster named {cluster_id}: nothing to delete.\n"
        ));
        return Ok(());
    };
    teardown::check_managed(app, &cluster, Role::Clone).map_err(|error| refusal(app, &error))?;
    if !args.yes {
        confirm(&cluster)?;
    }
    let report = delete_waiting(app, &cluster, args.final_snapshot).await?;
    if let Some(step_outputs) = step_outputs {
        step_outputs.write(&delete_outputs(&report.cluster_id, true))?;
    }
    if json {
        return print_json(&json!({"deleted": report}));
    }
    print_text(&render(&report));
    Ok(())
}

/// How long `delete` waits for a stopped clone to start (AWS deletes only running
/// clusters) before it gives up; run again, it carries on.
const START_WAIT_LIMIT: Duration = Duration::from_secs(60 * 60);

/// Deletes the clone, first waiting for it to start if it was stopped, with progress on
/// standard error while it waits.
async fn delete_waiting(
    app: &Context,
    cluster: &ClusterInfo,
    final_snapshot: bool,
) -> Result<TeardownReport, Failure> {
    let waiting_since = tokio::time::Instant::now();
    let mut progress: Option<Progress> = None;
    loop {
        let outcome = teardown::delete_clone(app, cluster, final_snapshot).await;
        match outcome {
            Err(error) if error.is_not_yet() && waiting_since.elapsed() < START_WAIT_LIMIT => {
                progress
                    .get_or_insert_with(|| {
                        Progress::start(
                            &format!("waiting to delete {}", cluster.id),
                            std::io::stderr().is_terminal(),
                        )
                    })
                    .update(&error.to_string());
                tokio::time::sleep(app.config.poll_interval).await;
            }
            outcome => {
                if let Some(progress) = progress {
                    progress.finish(if outcome.is_ok() {
                        "deleting"
                    } else {
                        "stopped waiting"
                    });
                }
                return outcome.map_err(|error| refusal(app, &error));
            }
        }
    }
}

/// Asks on the terminal; refuses without asking when nobody can answer.
fn confirm(cluster: &ClusterInfo) -> Result<(), Failure> {
    let question = if cluster.tag(tags::PASSWORD_SECRET).is_some() {
        format!(
            "Delete cluster {} and its password secret? [y/N] ",
            cluster.id
        )
    } else {
        format!("Delete cluster {}? [y/N] ", cluster.id)
    };
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(format!(
            "refusing to delete {} without confirmation: standard input is not a terminal; pass --yes to delete it",
            cluster.id
        )));
    }
    {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question}");
        let _ = stderr.flush();
    }
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|error| Failure::new(format!("could not read the answer: {error}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "not deleted: {} was kept",
            cluster.id
        )))
    }
}

/// A teardown error with what to do about it.
fn refusal(app: &Context, error: &TeardownError) -> Failure {
    match error {
        TeardownError::Refused { reason, .. } if reason.contains("not managed") => {
            Failure::new(format!(
                "{error}; `delete` only removes clones this clone manager made (is --stack '{}' right?)",
                app.config.stack_name
            ))
        }
        TeardownError::Refused { .. } => Failure::new(format!(
            "{error}; only clones can be deleted here (obsolete copies are removed by `maintain`)"
        )),
        TeardownError::NotYet { .. } => {
            Failure::new(format!("{error}; run `delete` again later to carry on"))
        }
        TeardownError::Aws { cluster_id, source } => Failure::aws(
            &format!(
                "deleting {cluster_id} (run `delete` again to finish; it picks up where it stopped)"
            ),
            source,
        ),
    }
}

fn render(report: &TeardownReport) -> String {
    let mut text = format!("Deleting cluster {}.\n", report.cluster_id);
    let lines = [
        ("instances deleted", report.instances_deleted.join(", ")),
        (
            "final snapshot",
            report.final_snapshot.clone().unwrap_or_default(),
        ),
        ("secrets deleted", report.secrets_deleted.join(", ")),
        (
            "keys scheduled for deletion",
            report.keys_scheduled_for_deletion.join(", "),
        ),
        (
            "key grants revoked",
            match report.grants_revoked {
                0 => String::new(),
                count => count.to_string(),
            },
        ),
    ];
    for (label, value) in lines {
        if !value.is_empty() {
            text.push_str(&format!("  {label}: {value}\n"));
        }
    }
    text
}
