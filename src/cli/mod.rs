//! The operator CLI `aurora-clone-manager`: the same planner, executors and ports as the
//! Lambda function, for people. Results go to standard output (tables, or one JSON document
//! with `--json`); logs, progress and errors go to standard error. Exit codes: 0 success,
//! 1 failure, 2 usage error.
//!
//! May import: `run/` (the workflows), `input/`, `plan/`, `aws/`, the base modules, and
//! `lambda::handler` for `invoke`, which runs an event through the Lambda dispatch locally.
//! Must not import: nothing imports the CLI but `main.rs`.

mod answer;
mod args;
mod context;
mod delete;
mod error;
mod github;
mod invoke;
mod lifecycle;
mod maintain;
mod output;
mod progress;
mod provision;
mod refresh;
mod status;
mod sweep;
mod table;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::run::machinery::respond::RecordingResponder;
use args::{Cli, Command, OutputTarget};
use error::Failure;

/// Exit code of a command that ran and failed.
const EXIT_FAILURE: u8 = 1;

/// Parses the command line, runs the command and prints any error in plain words.
pub async fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    init_logging(cli.global.verbose);
    match run_command(&cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::note(&format!("error: {failure}"));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn run_command(cli: &Cli) -> Result<(), Failure> {
    let global = &cli.global;
    let step_outputs = step_outputs(cli)?;
    match &cli.command {
        Command::Status(args) => status::run(&connect(global).await?, args, global.json).await,
        Command::Provision(args) => {
            let app = connect(global).await?;
            provision::run(&app, args, global.json, step_outputs.as_ref()).await
        }
        Command::Maintain(args) => maintain::run(&connect(global).await?, args, global.json).await,
        Command::Delete(args) => {
            let app = connect(global).await?;
            delete::run(&app, args, global.json, step_outputs.as_ref()).await
        }
        Command::Invoke(args) => invoke::run(global, args).await,
        Command::Sweep(args) => sweep::run(&connect(global).await?, args, global.json).await,
        Command::Answer(args) => answer::run(global, args).await,
        Command::Extend(args) => {
            lifecycle::extend(&connect(global).await?, args, global.json).await
        }
        Command::Protect(args) => {
            lifecycle::protect(&connect(global).await?, args, global.json).await
        }
        Command::Start(args) => lifecycle::start(&connect(global).await?, args, global.json).await,
        Command::Refresh(args) => refresh::run(&connect(global).await?, args, global.json).await,
    }
}

/// Where `--output github` writes, checked before anything is changed: only `provision`
/// and `delete` have outputs, and the step's output file must be named.
fn step_outputs(cli: &Cli) -> Result<Option<github::StepOutputs>, Failure> {
    match cli.global.output {
        None => Ok(None),
        Some(OutputTarget::Github) => match cli.command {
            Command::Provision(_) | Command::Delete(_) => github::StepOutputs::from_env().map(Some),
            _ => Err(Failure::new(
                "--output github is for provision and delete only: no other command has outputs",
            )),
        },
    }
}

/// The app for every command but `invoke`: nothing else answers CloudFormation, and a
/// recorder keeps any answer from leaving the process.
async fn connect(
    global: &args::GlobalArgs,
) -> Result<crate::run::machinery::context::Context, Failure> {
    context::build_app(global, Arc::new(RecordingResponder::default())).await
}

/// Human-readable logs on standard error: our warnings by default, more with each `-v`;
/// `RUST_LOG` overrides.
fn init_logging(verbosity: u8) {
    let default_filter = match verbosity {
        // The SDK warns about every provider it tried on the way to a credential or a
        // region (IMDS on a laptop); that is noise unless asked for.
        0 => "error,aurora_clone_manager=warn",
        1 => "warn,aurora_clone_manager=info",
        2 => "info,aurora_clone_manager=debug",
        _ => "trace",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbosity >= 2)
        .try_init();
}
