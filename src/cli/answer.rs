//! `answer`: answers the CloudFormation requests that no invocation answered, from the
//! stack's queue of failed asynchronous invocations, and deletes each record it answered.
//! With `--dry-run` it only shows what each request would be answered.

use std::sync::Arc;

use crate::cli::args::{AnswerArgs, GlobalArgs};
use crate::cli::context::build_app_and_queue;
use crate::cli::error::Failure;
use crate::cli::output::{print_json, print_text};
use crate::run::machinery::respond::{HttpResponder, Status};
use crate::run::workflows::answer::{AnswerReport, answer_from_queue};

pub async fn run(global: &GlobalArgs, args: &AnswerArgs) -> Result<(), Failure> {
    let responder = HttpResponder::new(super::context::allow_local_response_urls()?);
    let (app, queue) = build_app_and_queue(global, Arc::new(responder)).await?;
    let report = answer_from_queue(&app, &queue, &args.from_queue, args.dry_run)
        .await
        .map_err(|error| Failure::aws("reading the queue", &error.source))?;
    if global.json {
        print_json(&report)?;
    } else {
        print_text(&render(&report));
    }
    match report.unanswered() {
        0 => Ok(()),
        count => Err(Failure::new(format!(
            "{count} request(s) could not be answered; their records stay in the queue"
        ))),
    }
}

fn render(report: &AnswerReport) -> String {
    let mut text = String::new();
    if report.dry_run {
        text.push_str("Dry run: nothing was sent or deleted.\n");
    }
    if report.records.is_empty() {
        text.push_str("The queue holds no failed invocations.\n");
        return text;
    }
    for line in &report.records {
        if line.status.is_none() {
            text.push_str(&format!("{}: {}\n", line.message_id, line.outcome));
            continue;
        }
        let status = match line.status {
            Some(Status::Success) => "SUCCESS",
            _ => "FAILED",
        };
        text.push_str(&format!(
            "{} {} of {} in {}: {status} ({})\n",
            line.message_id, line.request, line.logical_resource_id, line.stack_id, line.outcome
        ));
        if let Some(reason) = &line.reason {
            text.push_str(&format!("  reason: {reason}\n"));
        }
    }
    text
}
