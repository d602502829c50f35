//! The command line as clap reads it: global options and one subcommand per verb.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The stack name used when neither `--stack` nor `STACK_NAME` names one.
pub const DEFAULT_STACK_NAME: &str = "aurora-clone-manager";

/// How often `--wait` looks at a clone by default: the deployment's own poll interval.
pub const DEFAULT_POLL_INTERVAL_SECONDS: u64 = 15;

#[derive(Debug, Parser)]
#[command(
    name = "aurora-clone-manager",
    version,
    about = "Copy-on-write clones of Aurora clusters, with a pool of copies that keeps clone slots free.",
    long_about = "Copy-on-write clones of Aurora clusters, with a pool of copies that keeps clone \
slots free.\n\nRuns the same code as the Lambda function, against your account (standard AWS \
credential chain) or a local emulator (--endpoint-url). Results go to standard output, logs and \
progress to standard error.\n\nExit codes: 0 success, 1 failure, 2 usage error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// AWS region [default: from the AWS configuration, e.g. AWS_REGION or the profile]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Named profile from the AWS config and credentials files
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send every AWS call to this URL (a local emulator such as moto)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Print the result as one JSON document instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Also write the result as GitHub Actions step outputs to the file named by
    /// GITHUB_OUTPUT (provision and delete only; never written unless asked for)
    #[arg(long, global = true, value_name = "TARGET")]
    pub output: Option<OutputTarget>,

    /// More log output on standard error: -v info, -vv debug, -vvv trace
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The clone manager deployment (its stack name) whose clusters to work with
    #[arg(long, global = true, value_name = "NAME", env = "STACK_NAME", default_value = DEFAULT_STACK_NAME)]
    pub stack: String,

    /// The deployment's name prefix (its NamePrefix parameter) [default: the stack name and a hyphen]
    #[arg(long, global = true, value_name = "PREFIX", env = "NAME_PREFIX")]
    pub name_prefix: Option<String>,

    /// The clone manager function's role (its stack output RoleArn): named in the key and
    /// secret policies of new clones besides you, so that the function can later delete them
    #[arg(long, global = true, value_name = "ARN", env = "FUNCTION_ROLE_ARN")]
    pub function_role_arn: Option<String>,

    /// The deployment's state table of leases and records (its stack output
    /// StateTableName); needed by every command that starts, finishes or changes clones
    #[arg(long, global = true, value_name = "TABLE", env = "STATE_TABLE")]
    pub state_table: Option<String>,

    /// Seconds between looks at a clone that is not ready yet (provision --wait, invoke)
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = DEFAULT_POLL_INTERVAL_SECONDS,
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub poll_interval: u64,
}

/// Where `--output` writes the result besides standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputTarget {
    /// GitHub Actions step outputs (`name=value` lines in the file named by GITHUB_OUTPUT)
    Github,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each root with its copies and clones: state, data age, free clone slots
    Status(StatusArgs),
    /// Make a copy-on-write clone of a root cluster (or show the plan with --dry-run)
    Provision(ProvisionArgs),
    /// Keep the pool of copies: make copies up to each root's target, drop obsolete ones
    Maintain(MaintainArgs),
    /// Delete a clone made by this clone manager, with its password secret and key
    Delete(DeleteArgs),
    /// Run a Lambda event (JSON file) through the function's handler, locally
    Invoke(InvokeArgs),
    /// Delete expired clones and announce those about to expire (as the schedule does)
    Sweep(SweepArgs),
    /// Answer the CloudFormation requests in the failed-invocations queue (the stack output
    /// FailedInvocationsQueueUrl), so that their stacks move on at once
    Answer(AnswerArgs),
    /// Move a clone's expiry later
    Extend(ExtendArgs),
    /// Keep a clone from being expired or stopped as idle until a time
    Protect(ProtectArgs),
    /// Start a stopped clone
    Start(StartArgs),
    /// Give a clone the newest data of its root, keeping its identifier, endpoint and
    /// password secret (runs on where it stopped when run again)
    Refresh(RefreshArgs),
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// URL of the queue of failed invocations (stack output FailedInvocationsQueueUrl)
    #[arg(long, value_name = "QUEUE_URL")]
    pub from_queue: String,

    /// Show what each request would be answered; send nothing, delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this root [default: every root configured or with copies or clones]
    #[arg(long, value_name = "ID")]
    pub source: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// The root cluster to clone
    #[arg(long, value_name = "ID")]
    pub source: String,

    /// Name of the new clone [default: derived and unique]
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,

    /// When no clone slot is free, make a full copy of the root first (slow)
    #[arg(long)]
    pub copy_ok: bool,

    /// Give the clone its own master password, kept in Secrets Manager
    #[arg(long, requires = "principals")]
    pub set_password: bool,

    /// IAM principal ARN that may read the password (repeat for more)
    #[arg(
        long = "principal",
        value_name = "ARN",
        id = "principals",
        requires = "set_password"
    )]
    pub principals: Vec<String>,

    /// Instance class of the clone [default: the root writer's]
    #[arg(long, value_name = "CLASS")]
    pub instance_class: Option<String>,

    /// Give the clone a Serverless v2 (db.serverless) instance with this capacity range in
    /// ACUs, e.g. 0-4; a minimum of 0 lets it pause when idle, on engine versions that allow
    /// it (others get 0.5, and the plan says so)
    #[arg(long, value_name = "MIN-MAX", value_parser = crate::input::capacity::parse_acu_range, conflicts_with = "instance_class")]
    pub serverless: Option<(f64, f64)>,

    /// With --serverless 0-MAX: pause after this long without connections (ISO-8601,
    /// PT5M to P1D) [default: AWS's, five minutes]
    #[arg(long, value_name = "DURATION", value_parser = crate::input::capacity::parse_auto_pause, requires = "serverless")]
    pub auto_pause: Option<i32>,

    /// Extra tag for the clone (repeat for more)
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,

    /// Delete the clone after this long: 7d, 12h, 30m, 2w or an ISO-8601 duration (P7D)
    /// [default: the root's :clone-ttl in the maintenance config, else none]
    #[arg(long, value_name = "DURATION", value_parser = parse_lifetime_arg, conflicts_with = "expires_at")]
    pub ttl: Option<chrono::TimeDelta>,

    /// Delete the clone at this time (ISO-8601, e.g. 2026-05-01T18:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,

    /// Stop the clone when it had no connections for this long (whole hours: 12h, PT12H)
    #[arg(long, value_name = "DURATION", value_parser = parse_lifetime_arg)]
    pub idle_after: Option<chrono::TimeDelta>,

    /// Delete an idle clone instead of stopping it
    #[arg(long, requires = "idle_after")]
    pub delete_when_idle: bool,

    /// Print the plan in words and change nothing
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,

    /// Stay until the clone is usable, showing progress, then print how to connect
    #[arg(long)]
    pub wait: bool,

    /// When this deployment already made a clone of --source named --cluster-id, use it as
    /// it is instead of failing (for a job that runs again, e.g. on each push to a pull
    /// request); its expiry and settings stay as they were
    #[arg(long, requires = "cluster_id")]
    pub reuse: bool,
}

#[derive(Debug, Args)]
pub struct MaintainArgs {
    /// Maintenance config (EDN or JSON) [default: the deployment's SSM parameter]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print what would be done and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The clone to delete (cluster identifier or ARN)
    #[arg(value_name = "ID")]
    pub cluster: String,

    /// Do not ask for confirmation (required when standard input is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    /// Take a final snapshot of the clone before deleting it
    #[arg(long)]
    pub final_snapshot: bool,

    /// Succeed when no cluster has that name: there is nothing to delete (for cleanup jobs
    /// that may run twice, or after a clone that was never made)
    #[arg(long)]
    pub missing_ok: bool,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The event as Lambda would receive it ("-" reads standard input)
    #[arg(value_name = "EVENT.json")]
    pub event: PathBuf,

    /// PUT CloudFormation's answer to the event's ResponseURL [default: only print it]
    #[arg(long)]
    pub send_response: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Print what would be deleted or announced and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// The clone (cluster identifier or ARN)
    #[arg(value_name = "ID")]
    pub cluster: String,

    /// How much later: 3d, 12h, 2w or an ISO-8601 duration (from its expiry, or from now
    /// if that has passed)
    #[arg(long, value_name = "DURATION", value_parser = parse_lifetime_arg)]
    pub by: chrono::TimeDelta,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The clone (cluster identifier or ARN)
    #[arg(value_name = "ID")]
    pub cluster: String,
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The clone (cluster identifier or ARN)
    #[arg(value_name = "ID")]
    pub cluster: String,

    /// Wait until the new clone is in place and the old one is being deleted
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct ProtectArgs {
    /// The clone (cluster identifier or ARN)
    #[arg(value_name = "ID")]
    pub cluster: String,

    /// Protected until this time (ISO-8601, e.g. 2026-12-24T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub until: chrono::DateTime<chrono::Utc>,
}

fn parse_lifetime_arg(text: &str) -> Result<chrono::TimeDelta, String> {
    crate::model::time::parse_lifetime(text)
}

fn parse_time_arg(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    crate::model::time::parse_timestamp(text)
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_password_needs_readers_and_readers_need_a_password() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["acm", "provision", "--source", "db", "--set-password"]).is_err());
        assert!(parse(&["acm", "provision", "--source", "db", "--principal", "arn:x"]).is_err());
        let cli = parse(&[
            "acm",
            "provision",
            "--source",
            "db",
            "--set-password",
            "--principal",
            "arn:aws:iam::1:role/a",
            "--principal",
            "arn:aws:iam::1:role/b",
        ])
        .unwrap();
        let Command::Provision(args) = cli.command else {
            panic!("not provision");
        };
        assert_eq!(args.principals.len(), 2);
    }

    #[test]
    fn a_clone_expires_after_a_lifetime_or_at_a_time_but_not_both() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let cli = parse(&["acm", "provision", "--source", "db", "--ttl", "7d"]).unwrap();
        let Command::Provision(args) = cli.command else {
            panic!("not provision");
        };
        assert_eq!(args.ttl, Some(chrono::TimeDelta::days(7)));
        assert!(parse(&["acm", "provision", "--source", "db", "--ttl", "soon"]).is_err());
        assert!(
            parse(&[
                "acm",
                "provision",
                "--source",
                "db",
                "--ttl",
                "7d",
                "--expires-at",
                "2026-05-01"
            ])
            .is_err()
        );
        let cli = parse(&["acm", "provision", "--source", "db", "--idle-after", "12h"]).unwrap();
        let Command::Provision(args) = cli.command else {
            panic!("not provision");
        };
        assert_eq!(args.idle_after, Some(chrono::TimeDelta::hours(12)));
        assert!(parse(&["acm", "provision", "--source", "db", "--delete-when-idle"]).is_err());
        let cli = parse(&["acm", "extend", "c1", "--by", "3d"]).unwrap();
        assert!(
            matches!(cli.command, Command::Extend(ExtendArgs { ref by, .. }) if *by == chrono::TimeDelta::days(3))
        );
        assert!(parse(&["acm", "extend", "c1"]).is_err(), "--by is required");
        assert!(parse(&["acm", "protect", "c1", "--until", "2026-12-24"]).is_ok());
        assert!(parse(&["acm", "protect", "c1", "--until", "soon"]).is_err());
        let cli = parse(&["acm", "sweep", "--dry-run", "--json"]).unwrap();
        assert!(cli.global.json);
        assert!(matches!(
            cli.command,
            Command::Sweep(SweepArgs { dry_run: true })
        ));
    }

    #[test]
    fn serverless_takes_a_min_max_range_and_an_optional_auto_pause() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let cli = parse(&[
            "acm",
            "provision",
            "--source",
            "db",
            "--serverless",
            "0-4",
            "--auto-pause",
            "PT10M",
        ])
        .unwrap();
        let Command::Provision(args) = cli.command else {
            panic!("not provision");
        };
        assert_eq!(args.serverless, Some((0.0, 4.0)));
        assert_eq!(args.auto_pause, Some(600));
        for refused in [
            &["acm", "provision", "--source", "db", "--serverless", "4"][..],
            &[
                "acm",
                "provision",
                "--source",
                "db",
                "--auto-pause",
                "PT10M",
            ][..],
            &[
                "acm",
                "provision",
                "--source",
                "db",
                "--serverless",
                "0-4",
                "--instance-class",
                "db.r6g.large",
            ][..],
        ] {
            assert!(parse(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn tags_are_key_equals_value() {
        assert_eq!(parse_tag("team=db").unwrap(), ("team".into(), "db".into()));
        assert_eq!(
            parse_tag("note=a=b").unwrap(),
            ("note".into(), "a=b".into())
        );
        assert!(parse_tag("=x").is_err());
        assert!(parse_tag("novalue").is_err());
    }
}
