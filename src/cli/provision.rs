//! `provision`: plan a clone (a dry run prints the plan in words), or make it as the
//! manual Lambda action does and, with `--wait`, finish it here while showing progress.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use serde_json::{Value, json};

use crate::aws::ClusterInfo;
use crate::cli::args::ProvisionArgs;
use crate::cli::error::Failure;
use crate::cli::github::{StepOutputs, provision_outputs};
use crate::cli::output::{note, print_json, print_text};
use crate::cli::progress::Progress;
use crate::model::naming::cluster_id_from_arn;
use crate::model::tags::{self, Role};
use crate::plan::pool::SourceKind;
use crate::plan::provision::{CloneRequest, ProvisionOutcome, RequestOrigin};
use crate::plan::request::CloneProperties;
use crate::run::machinery::context::{Context, Invocation};
use crate::run::machinery::execute::{ExecuteError, Started};
use crate::run::workflows::finish::{self, FinishJob, FinishMode, FinishOutcome, clone_outputs};
use crate::run::workflows::lifecycle;
use crate::run::workflows::provision::{Audience, ProvisionError, plan_clone, start_clone};

/// The `stack` part of the origin of clones made here: their derived names start with it.
const CLI_ORIGIN: &str = "cli";

/// Property names in library messages, and the flags that set them here.
const PROPERTY_FLAGS: &[(&str, &str)] = &[
    ("SourceClusterId", "--source"),
    ("ClusterId", "--cluster-id"),
    ("AccessPrincipalArns", "--principal"),
    ("InstanceClass", "--instance-class"),
    ("Tags", "--tag"),
    ("ExpiresAfter", "--ttl"),
    ("ExpiresAt", "--expires-at"),
    ("IdleAfter", "--idle-after"),
    ("IdleAction", "--delete-when-idle"),
    ("ServerlessMinCapacity", "--serverless"),
    ("ServerlessMaxCapacity", "--serverless"),
    ("AutoPauseAfter", "--auto-pause"),
];

pub async fn run(
    app: &Context,
    args: &ProvisionArgs,
    json: bool,
    step_outputs: Option<&StepOutputs>,
) -> Result<(), Failure> {
    let request = clone_request(app, args).await?;
    if args.dry_run {
        return dry_run(app, &request, json).await;
    }
    let existing = match (&args.cluster_id, args.reuse) {
        (Some(cluster_id), true) => existing_clone(app, cluster_id, &args.source).await?,
        _ => None,
    };
    let started = match existing {
        Some(existing) => {
            note(&format!(
                "{} exists already (a clone of {}): using it as it is",
                existing.id, args.source
            ));
            Started::Existing {
                cluster_id: existing.id,
                arn: existing.arn,
            }
        }
        None => start_clone(app, &request)
            .await
            .map_err(|error| explain(app, &error))?,
    };
    let started = StartedClone::from(app, started);
    if !json {
        for line in &started.summary {
            note(&format!("plan: {line}"));
        }
    }
    let waits_for_copy = started.job.deferred.is_some();
    if waits_for_copy && !args.wait {
        note(&format!(
            "{} is made from a copy that is still being made, and this command starts it once \
             the copy is ready: staying until the clone is ready (a full copy takes a while)",
            started.cluster_id
        ));
    }
    let outcome = if args.wait || waits_for_copy {
        wait_until_ready(app, &started).await
    } else {
        // One look: a clone that is usable at once (an emulator) is reported ready, and
        // anything else is left to the deployment's finisher.
        let job = started.job.clone();
        finish::run(
            app,
            &Invocation::unbounded(),
            job,
            FinishMode::OnePass,
            None,
            &|_| {},
        )
        .await
    };
    report(&started, outcome, json, step_outputs)
}

/// With `--reuse`: the clone named `cluster_id` when this deployment made it from
/// `source`; `None` when there is no cluster of that name. Any other cluster of that name
/// is an error, never reused.
async fn existing_clone(
    app: &Context,
    cluster_id: &str,
    source: &str,
) -> Result<Option<ClusterInfo>, Failure> {
    let Some(cluster) = app
        .ports
        .rds
        .describe_cluster(cluster_id)
        .await
        .map_err(|error| Failure::aws(&format!("looking up {cluster_id}"), &error))?
    else {
        return Ok(None);
    };
    if tags::managed_role(&cluster, &app.config.stack_name) != Some(Role::Clone) {
        return Err(Failure::new(format!(
            "--reuse: {cluster_id} exists but is not a clone made by this clone manager \
             (is --stack '{}' right?); choose another --cluster-id",
            app.config.stack_name
        )));
    }
    let root_arn = cluster.tag(tags::ROOT_ARN).unwrap_or_default();
    if cluster_id_from_arn(root_arn) != Some(source) {
        return Err(Failure::new(format!(
            "--reuse: {cluster_id} exists but is a clone of {}, not of {source}; delete it or \
             choose another --cluster-id",
            cluster_id_from_arn(root_arn).unwrap_or("another cluster")
        )));
    }
    Ok(Some(cluster))
}

/// The request as the CloudFormation resource would carry it, from the flags.
async fn clone_request(app: &Context, args: &ProvisionArgs) -> Result<CloneRequest, Failure> {
    let mut properties = CloneProperties::for_source(&args.source);
    properties.cluster_id = args.cluster_id.clone();
    properties.copy_ok = args.copy_ok;
    properties.set_password = args.set_password;
    properties.access_principal_arns = args.principals.clone();
    properties.instance_class = args.instance_class.clone();
    properties.serverless =
        args.serverless.map(
            |(min_acu, max_acu)| crate::plan::capacity::CapacityRequest {
                min_acu,
                max_acu,
                auto_pause_seconds: args.auto_pause,
            },
        );
    properties.tags = args.tags.iter().cloned().collect();
    properties.expires_after = args.ttl;
    properties.expires_at = args.expires_at;
    properties.idle_after = args.idle_after;
    if args.delete_when_idle {
        properties.idle_action = crate::model::tags::IdleAction::Delete;
    }
    properties
        .validate()
        .map_err(|error| Failure::new(in_flag_words(&error.to_string())))?;
    let default_ttl = lifecycle::default_clone_ttl(app, &args.source).await;
    lifecycle::apply_default_expiry(&mut properties, default_ttl);
    let now = app.now();
    Ok(CloneRequest {
        origin: RequestOrigin {
            stack_id: CLI_ORIGIN.to_string(),
            logical_resource_id: args
                .cluster_id
                .clone()
                .unwrap_or_else(|| format!("{}-clone", args.source)),
            request_id: format!(
                "cli-{}-{:08x}",
                now.timestamp_millis(),
                rand::random::<u32>()
            ),
        },
        properties,
        requester_waits_at_most_an_hour: false,
    })
}

async fn dry_run(app: &Context, request: &CloneRequest, json: bool) -> Result<(), Failure> {
    let outcome = plan_clone(app, request).await.map_err(|error| {
        Failure::new(format!(
            "dry run: the clone could not be made: {}",
            explain(app, &error)
        ))
    })?;
    if json {
        let plan = match &outcome {
            ProvisionOutcome::Make(plan) => serde_json::to_value(plan),
            other => serde_json::to_value(other),
        }
        .map_err(|error| Failure::new(format!("could not write the plan as JSON: {error}")))?;
        return print_json(&json!({"dryRun": true, "plan": plan}));
    }
    let mut text = String::from("Dry run: nothing was changed. The plan:\n");
    match outcome {
        ProvisionOutcome::Make(plan) => {
            for line in &plan.summary {
                text.push_str(&format!("  - {line}\n"));
            }
        }
        ProvisionOutcome::AlreadyMade { cluster_id, .. } => {
            text.push_str(&format!(
                "  - nothing: this request already made {cluster_id}\n"
            ));
        }
    }
    print_text(&text);
    Ok(())
}

/// A started clone and the finisher job that takes it to ready (as the manual Lambda
/// action builds it: a sweep job, plus the deferred restore when it waits for a copy).
struct StartedClone {
    cluster_id: String,
    arn: String,
    source: Option<(String, SourceKind)>,
    summary: Vec<String>,
    job: FinishJob,
}

impl StartedClone {
    fn from(app: &Context, started: Started) -> StartedClone {
        let job = finish::job_for_started(app, &started);
        match started {
            Started::Existing { cluster_id, arn } => StartedClone {
                job,
                cluster_id,
                arn,
                source: None,
                summary: Vec::new(),
            },
            Started::Made { plan, .. } => StartedClone {
                cluster_id: plan.cluster_id.clone(),
                arn: plan.cluster_arn.clone(),
                source: Some((plan.source.cluster_id.clone(), plan.source.kind)),
                summary: plan.summary.clone(),
                job,
            },
        }
    }
}

async fn wait_until_ready(app: &Context, started: &StartedClone) -> FinishOutcome {
    let spinner = std::io::stderr().is_terminal();
    let progress = Progress::start(&format!("waiting for {}", started.cluster_id), spinner);
    let reporter = progress.clone();
    let outcome = finish::run(
        app,
        &Invocation::unbounded(),
        started.job.clone(),
        FinishMode::Poll,
        None,
        &move |reason: &str| reporter.update(reason),
    )
    .await;
    progress.finish(match &outcome {
        FinishOutcome::Ready(_) => "ready",
        FinishOutcome::Failed(_) => "failed",
        _ => "stopped waiting",
    });
    outcome
}

fn report(
    started: &StartedClone,
    outcome: FinishOutcome,
    json: bool,
    step_outputs: Option<&StepOutputs>,
) -> Result<(), Failure> {
    let (ready, state, outputs) = match outcome {
        FinishOutcome::Ready(cluster) => (true, "ready".to_string(), clone_outputs(&cluster)),
        FinishOutcome::StillPending(reason) => (false, reason, BTreeMap::new()),
        FinishOutcome::Busy => (
            false,
            "another process is finishing it".to_string(),
            BTreeMap::new(),
        ),
        FinishOutcome::HandedOver { .. } => (
            false,
            "handed over to the deployment".to_string(),
            BTreeMap::new(),
        ),
        FinishOutcome::Failed(reason) => {
            return Err(Failure::new(format!(
                "clone {} did not become usable: {reason}; whatever was made is left as it is: \
                 if the clone exists, delete it with `aurora-clone-manager delete {} --yes`",
                started.cluster_id, started.cluster_id
            )));
        }
    };
    if let Some(step_outputs) = step_outputs {
        step_outputs
            .write(&provision_outputs(&started.cluster_id, ready, &outputs))
            .map_err(|failure| {
                Failure::new(format!(
                    "{failure}; clone {} was made all the same",
                    started.cluster_id
                ))
            })?;
    }
    if json {
        let (source_id, source_kind) = match &started.source {
            Some((id, kind)) => (Value::from(id.clone()), serde_json::to_value(kind).ok()),
            None => (Value::Null, None),
        };
        return print_json(&json!({
            "clusterId": started.cluster_id,
            "arn": started.arn,
            "clonedFrom": source_id,
            "sourceKind": source_kind,
            "ready": ready,
            "state": state,
            "outputs": outputs,
        }));
    }
    let from = match &started.source {
        Some((id, SourceKind::Root)) => format!(" from {id} (root)"),
        Some((id, SourceKind::Copy)) => format!(" from {id} (copy)"),
        None => String::new(),
    };
    if !ready {
        print_text(&format!(
            "Started clone {}{from}; not ready yet: {state}.\n\
             The deployment's finisher completes it; `aurora-clone-manager status` shows its state \
             (pass --wait to stay until it is ready).\n",
            started.cluster_id
        ));
        return Ok(());
    }
    print_text(&connection_text(&started.cluster_id, &from, &outputs));
    Ok(())
}

/// How to connect to a ready clone.
fn connection_text(cluster_id: &str, from: &str, outputs: &BTreeMap<String, String>) -> String {
    let get = |key: &str| outputs.get(key).filter(|value| !value.is_empty()).cloned();
    let secret = get("PasswordSecret")
        .unwrap_or_else(|| "none (the clone keeps the source's master password)".to_string());
    let mut text = format!("Clone {cluster_id}{from} is ready.\n");
    for (label, value) in [
        ("endpoint", get("Endpoint")),
        ("port", get("Port")),
        ("user", get("MasterUsername")),
        ("database", get("DatabaseName")),
        ("secret", Some(secret)),
        ("data from", get("DataTimestamp")),
    ] {
        text.push_str(&format!(
            "  {label:<10} {}\n",
            value.as_deref().unwrap_or("-")
        ));
    }
    text
}

fn explain(app: &Context, error: &ProvisionError) -> Failure {
    let text = match error {
        ProvisionError::Aws { step, source }
        | ProvisionError::Execute(ExecuteError::Aws { step, source }) => {
            format!("{step}: {}", crate::cli::error::describe_aws_error(source))
        }
        other => other.explain(Audience::Cli, &app.config.maintenance_config_parameter),
    };
    Failure::new(in_flag_words(&text))
}

/// A message about a property, naming the flag that sets it instead.
fn in_flag_words(text: &str) -> String {
    for (property, flag) in PROPERTY_FLAGS {
        if let Some(rest) = text.strip_prefix(&format!("{property}:")) {
            return format!("{flag}:{rest}");
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_errors_name_the_flag() {
        assert_eq!(
            in_flag_words("ClusterId: must differ from SourceClusterId"),
            "--cluster-id: must differ from SourceClusterId"
        );
        assert_eq!(in_flag_words("no clone slots"), "no clone slots");
    }

    #[test]
    fn a_clone_without_its_own_password_says_so() {
        let outputs = BTreeMap::from([
            ("Endpoint".to_string(), "db.example".to_string()),
            ("Port".to_string(), "5432".to_string()),
            ("MasterUsername".to_string(), "postgres".to_string()),
            ("PasswordSecret".to_string(), String::new()),
        ]);
        let text = connection_text("c1", " from prod-db (root)", &outputs);
        assert!(text.starts_with("Clone c1 from prod-db (root) is ready.\n"));
        assert!(text.contains("  endpoint   db.example\n"), "{text}");
        assert!(text.contains("secret     none"), "{text}");
    }
}
