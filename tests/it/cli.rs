//! The operator CLI end to end: the real binary against moto, one AWS account per test
//! (through the harness's account proxy), checked through an independent SDK client.

use crate::moto_harness;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use aws_config::SdkConfig;
use moto_harness::{FaultSchedule, Proxy};
use serde_json::Value;

const ROOT: &str = "prod-db";

/// The name prefix of the default deployment (`--stack aurora-clone-manager`): derived from
/// the stack name, and required of every cluster the CLI makes.
const PREFIX: &str = "aurora-clone-manager-";

/// One test's account: its proxy to moto and an SDK config for looking at it.
struct Account {
    proxy: Proxy,
    sdk: SdkConfig,
}

impl Account {
    /// Gives the root all the 15 clones AWS allows it, through the CLI.
    async fn fill_root(&self) {
        for index in 0..15 {
            self.cli(&[
                "provision",
                "--source",
                ROOT,
                "--cluster-id",
                &format!("{PREFIX}fill-{index}"),
            ])
            .await
            .expect_code(0);
        }
    }

    async fn new() -> Account {
        let proxy = moto_harness::moto_account_proxy(FaultSchedule::none()).await;
        let sdk = moto_harness::sdk_config(&proxy.endpoint());
        moto_harness::create_state_table(&sdk, moto_harness::MOTO_STATE_TABLE).await;
        Account { proxy, sdk }
    }

    /// A fresh account with the root `prod-db` (one writer instance).
    async fn with_root() -> Account {
        let account = Account::new().await;
        moto_harness::seed_root(&account.sdk, ROOT).await;
        account
    }

    /// Runs the CLI against this account with short polls; standard input is empty and
    /// not a terminal.
    async fn cli(&self, args: &[&str]) -> Ran {
        let mut all = vec![
            "--endpoint-url".to_string(),
            self.proxy.endpoint(),
            "--poll-interval".to_string(),
            "1".to_string(),
            "--state-table".to_string(),
            moto_harness::MOTO_STATE_TABLE.to_string(),
        ];
        all.extend(args.iter().map(|arg| arg.to_string()));
        run_cli(all).await
    }

    /// [`Account::cli`] with `GITHUB_OUTPUT` naming `github_output`, as in an Actions step.
    async fn cli_in_actions(&self, github_output: &std::path::Path, args: &[&str]) -> Ran {
        let mut all = vec![
            "--endpoint-url".to_string(),
            self.proxy.endpoint(),
            "--poll-interval".to_string(),
            "1".to_string(),
            "--state-table".to_string(),
            moto_harness::MOTO_STATE_TABLE.to_string(),
        ];
        all.extend(args.iter().map(|arg| arg.to_string()));
        let env = vec![(
            "GITHUB_OUTPUT".to_string(),
            github_output.display().to_string(),
        )];
        run_cli_with_env(all, env).await
    }
}

/// A finished run of the binary.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    fn expect_code(self, code: i32) -> Ran {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not one JSON document ({error}):\n{}\n--- stderr ---\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs the binary with the test credentials and nothing from the developer's AWS setup.
async fn run_cli(args: Vec<String>) -> Ran {
    run_cli_with_env(args, Vec::new()).await
}

/// [`run_cli`] with extra environment variables.
async fn run_cli_with_env(args: Vec<String>, env: Vec<(String, String)>) -> Ran {
    tokio::task::spawn_blocking(move || {
        let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_aurora-clone-manager"))
            .args(&args)
            .env_remove("GITHUB_OUTPUT")
            .envs(env)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            )
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("STACK_NAME")
            .env_remove("STATE_TABLE")
            // Responses go to the capture server on 127.0.0.1.
            .env("ALLOW_LOCAL_RESPONSE_URLS", "true")
            .env_remove("RUST_LOG")
            .write_stdin("")
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run the aurora-clone-manager binary");
        Ran::from(output)
    })
    .await
    .expect("the CLI runner thread")
}

/// Every cluster with its status and tags, and every instance: what a dry run must leave
/// exactly as it was.
async fn world_snapshot(sdk: &SdkConfig) -> (BTreeMap<String, (String, String)>, Vec<String>) {
    let rds = aws_sdk_rds::Client::new(sdk);
    let clusters = rds
        .describe_db_clusters()
        .send()
        .await
        .expect("describe clusters");
    let clusters = clusters
        .db_clusters()
        .iter()
        .map(|cluster| {
            let tags: BTreeMap<&str, &str> = cluster
                .tag_list()
                .iter()
                .map(|tag| (tag.key().unwrap_or(""), tag.value().unwrap_or("")))
                .collect();
            (
                cluster.db_cluster_identifier().unwrap_or("").to_string(),
                (
                    cluster.status().unwrap_or("").to_string(),
                    format!("{tags:?}"),
                ),
            )
        })
        .collect();
    let instances = rds
        .describe_db_instances()
        .send()
        .await
        .expect("describe instances");
    let mut instance_ids: Vec<String> = instances
        .db_instances()
        .iter()
        .map(|instance| instance.db_instance_identifier().unwrap_or("").to_string())
        .collect();
    instance_ids.sort();
    (clusters, instance_ids)
}

/// Whether the cluster is still there and not on its way out.
async fn cluster_alive(sdk: &SdkConfig, cluster_id: &str) -> bool {
    let described = aws_sdk_rds::Client::new(sdk)
        .describe_db_clusters()
        .db_cluster_identifier(cluster_id)
        .send()
        .await;
    match described {
        Ok(output) => output
            .db_clusters()
            .iter()
            .any(|cluster| cluster.status() != Some("deleting")),
        Err(_) => false,
    }
}

/// A file under the target's scratch directory, unique to this test.
fn scratch_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{:016x}-{name}", rand::random::<u64>()));
    std::fs::write(&path, contents).expect("write a scratch file");
    path
}

fn maintenance_config(target_clone_slots: u32) -> PathBuf {
    scratch_file(
        "maintenance.edn",
        &format!(
            "{{:clusters [{{:cluster-id \"{ROOT}\" :target-clone-slots {target_clone_slots}}}]}}"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_help_exits_0() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["status", "--no-such-flag"],
        vec!["provision"],
        vec!["provision", "--source", ROOT, "--set-password"],
        vec!["provision", "--source", ROOT, "--dry-run", "--wait"],
        vec!["delete"],
        vec!["--poll-interval", "0", "status"],
    ] {
        let ran = run_cli(args.iter().map(|arg| arg.to_string()).collect()).await;
        assert_eq!(ran.code, Some(2), "{args:?}: {}", ran.stderr);
        assert!(
            ran.stdout.is_empty(),
            "{args:?} printed a result: {}",
            ran.stdout
        );
        assert!(
            ran.stderr.contains("Usage") || ran.stderr.contains("try '--help'"),
            "{args:?}: {}",
            ran.stderr
        );
    }
    let help = run_cli(vec!["--help".into()]).await.expect_code(0);
    for verb in [
        "status",
        "provision",
        "maintain",
        "delete",
        "invoke",
        "sweep",
        "extend",
        "protect",
        "start",
    ] {
        assert!(
            help.stdout.contains(verb),
            "{verb} missing from:\n{}",
            help.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_the_root_and_its_free_slots_as_a_table_or_json() {
    let account = Account::with_root().await;

    let table = account
        .cli(&["status", "--source", ROOT])
        .await
        .expect_code(0);
    assert!(
        table.stdout.contains("prod-db: 15 free clone slots"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("15/15"), "{}", table.stdout);
    assert!(table.stdout.contains("db.r6g.large"), "{}", table.stdout);

    let json = account
        .cli(&["--json", "status", "--source", ROOT])
        .await
        .expect_code(0)
        .json();
    assert_eq!(json["roots"][0]["rootId"], ROOT);
    assert_eq!(json["roots"][0]["freeSlots"], 15);
    assert_eq!(json["roots"][0]["pool"]["root"]["kind"], "root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_estimated_monthly_costs_from_the_configs_price_table() {
    let account = Account::with_root().await;
    let clone_id = format!("{PREFIX}priced");
    account
        .cli(&["provision", "--source", ROOT, "--cluster-id", &clone_id])
        .await
        .expect_code(0);
    aws_sdk_ssm::Client::new(&account.sdk)
        .put_parameter()
        .name("/aurora-clone-manager/maintenance-config")
        .value(r#"{:clusters [] :prices {:instance-hour {"db.r6g.large" 0.5} :currency "EUR"}}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("put the maintenance config");

    let json = account
        .cli(&["--json", "status", "--source", ROOT])
        .await
        .expect_code(0)
        .json();
    let root = &json["roots"][0];
    // 0.5 × 730 = 365.00 a month, from the config's price table. moto does not answer the
    // CloudWatch SDK's protocol, so no VolumeBytesUsed is read: storage is unknown, and
    // so is every total, never 0 (the storage arithmetic is checked against the fake).
    assert_eq!(root["sources"][0]["capacity"], "db.r6g.large");
    assert_eq!(
        root["sources"][0]["monthlyCost"]["compute"],
        serde_json::json!({"low": 365.0, "high": 365.0}),
        "{json}"
    );
    assert_eq!(root["sources"][0]["monthlyCost"]["currency"], "EUR");
    assert_eq!(root["sources"][0]["monthlyCost"]["total"], Value::Null);
    assert!(
        root["sources"][0]["monthlyCost"]["unknown"][0]
            .as_str()
            .unwrap()
            .starts_with("storage: VolumeBytesUsed could not be read"),
        "{json}"
    );
    let clone = &root["clones"][0];
    assert_eq!(clone["clusterId"], clone_id.as_str());
    assert_eq!(clone["capacity"], "db.r6g.large");
    assert_eq!(
        clone["monthlyCost"]["compute"],
        serde_json::json!({"low": 365.0, "high": 365.0})
    );
    assert_eq!(clone["monthlyCost"]["total"], Value::Null);
    assert_eq!(root["poolCost"]["clusters"], 1);
    assert_eq!(
        root["poolCost"]["compute"],
        serde_json::json!({"low": 365.0, "high": 365.0})
    );
    assert_eq!(
        root["poolCost"]["incomplete"],
        serde_json::json!([clone_id])
    );
    assert_eq!(json["prices"]["instanceHour"]["db.r6g.large"], 0.5);

    let table = account
        .cli(&["status", "--source", ROOT])
        .await
        .expect_code(0);
    assert!(table.stdout.contains("EST. EUR/MONTH"), "{}", table.stdout);
    assert!(
        table.stdout.contains("365.00 + storage ?"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Costs are estimates"),
        "{}",
        table.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_a_cluster_that_does_not_exist_fails() {
    let account = Account::new().await;
    let ran = account
        .cli(&["status", "--source", "nope"])
        .await
        .expect_code(1);
    assert!(
        ran.stderr.contains("no cluster named nope"),
        "{}",
        ran.stderr
    );
}

/// Without the state table a provision cannot take the root's lease: it fails naming the
/// option, and makes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_without_a_state_table_fails_naming_the_option_and_makes_nothing() {
    let account = Account::with_root().await;
    let before = world_snapshot(&account.sdk).await;
    let ran = run_cli(vec![
        "--endpoint-url".to_string(),
        account.proxy.endpoint(),
        "provision".to_string(),
        "--source".to_string(),
        ROOT.to_string(),
    ])
    .await;
    assert_ne!(ran.code, Some(0), "{}", ran.stderr);
    assert!(ran.stderr.contains("--state-table"), "{}", ran.stderr);
    assert_eq!(
        world_snapshot(&account.sdk).await,
        before,
        "nothing was made"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_with_wait_prints_how_to_connect_once_ready() {
    let account = Account::with_root().await;

    let ran = account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}dev-1"),
            "--wait",
        ])
        .await
        .expect_code(0);

    assert!(
        ran.stdout.contains(&format!(
            "Clone {PREFIX}dev-1 from prod-db (root) is ready."
        )),
        "{}",
        ran.stdout
    );
    for label in ["endpoint", "port", "user", "secret"] {
        assert!(
            ran.stdout.contains(&format!("  {label} ")),
            "{label}: {}",
            ran.stdout
        );
    }
    assert!(ran.stdout.contains("5432"), "{}", ran.stdout);
    assert!(
        ran.stderr.contains("] ready"),
        "progress on stderr: {}",
        ran.stderr
    );
    let tags = moto_harness::cluster_tags(&account.sdk, &format!("{PREFIX}dev-1")).await;
    assert_eq!(tags["aurora-clone-manager:role"], "clone");
    assert_eq!(tags["aurora-clone-manager:state"], "ready");
    assert_eq!(
        moto_harness::cluster_instances(&account.sdk, &format!("{PREFIX}dev-1"))
            .await
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_json_with_a_password_reports_the_secret() {
    let account = Account::with_root().await;

    let json = account
        .cli(&[
            "--json",
            "provision",
            "--source",
            ROOT,
            "--set-password",
            "--principal",
            "arn:aws:iam::123456789012:role/developer",
            "--wait",
        ])
        .await
        .expect_code(0)
        .json();

    assert_eq!(json["ready"], true);
    assert_eq!(json["clonedFrom"], ROOT);
    let cluster_id = json["clusterId"].as_str().expect("clusterId");
    assert!(
        cluster_id.starts_with(&format!("{PREFIX}cli-prod-db-clone-")),
        "{cluster_id}"
    );
    let secret = json["outputs"]["PasswordSecret"]
        .as_str()
        .expect("a secret name");
    assert!(
        secret.starts_with(&format!(
            "/aurora-clone-manager/aurora-clone-manager/password/{cluster_id}-"
        )),
        "{secret}"
    );
    assert_eq!(json["outputs"]["MasterUsername"], "postgres");
    assert!(moto_harness::cluster_exists(&account.sdk, cluster_id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_print_the_plan_and_change_nothing() {
    let account = Account::with_root().await;
    let before = world_snapshot(&account.sdk).await;

    let words = account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}planned"),
            "--dry-run",
        ])
        .await
        .expect_code(0);
    assert!(
        words.stdout.starts_with("Dry run: nothing was changed."),
        "{}",
        words.stdout
    );
    assert!(
        words.stdout.contains(&format!(
            "clone prod-db (the root) into {PREFIX}planned: 15 of 15 slots free"
        )),
        "{}",
        words.stdout
    );
    let json = account
        .cli(&["--json", "provision", "--source", ROOT, "--dry-run"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(json["dryRun"], true);
    assert_eq!(json["plan"]["source"]["clusterId"], ROOT);
    let config = maintenance_config(40);
    let maintain = account
        .cli(&[
            "maintain",
            "--config",
            config.to_str().unwrap(),
            "--dry-run",
        ])
        .await
        .expect_code(0);
    assert!(
        maintain
            .stdout
            .contains(&format!("would make copy {PREFIX}prod-db-copy-")),
        "{}",
        maintain.stdout
    );

    assert_eq!(world_snapshot(&account.sdk).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_of_a_missing_source_fails_with_exit_1() {
    let account = Account::new().await;
    let ran = account
        .cli(&["provision", "--source", "nope"])
        .await
        .expect_code(1);
    assert!(
        ran.stderr.contains("source cluster 'nope' does not exist"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_rds_would_refuse_fails_with_exit_1_naming_the_tag_and_the_rule() {
    let account = Account::with_root().await;
    let before = world_snapshot(&account.sdk).await;
    let ran = account
        .cli(&["provision", "--source", ROOT, "--tag", "cost-center=a|b"])
        .await
        .expect_code(1);
    for expected in ["--tag", "cost-center", "rds-tag-charset"] {
        assert!(ran.stderr.contains(expected), "{expected}: {}", ran.stderr);
    }
    assert_eq!(world_snapshot(&account.sdk).await, before);
    assert!(account.proxy.stats().refusals.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_root_says_how_to_get_slots_and_maintain_makes_a_copy_to_clone_from() {
    let account = Account::with_root().await;
    account.fill_root().await;

    let refused = account
        .cli(&["provision", "--source", ROOT])
        .await
        .expect_code(1);
    assert!(
        refused
            .stderr
            .contains("no clone slots on prod-db (15/15 used) and no fresh copy"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--copy-ok"), "{}", refused.stderr);
    assert!(refused.stderr.contains("maintain"), "{}", refused.stderr);

    let config = maintenance_config(10);
    let report = account
        .cli(&["--json", "maintain", "--config", config.to_str().unwrap()])
        .await
        .expect_code(0)
        .json();
    let created = report["roots"][0]["copiesCreated"]
        .as_array()
        .expect("copies");
    assert_eq!(created.len(), 1, "{report}");
    let copy_id = created[0].as_str().unwrap().to_string();
    assert_eq!(
        moto_harness::cluster_tags(&account.sdk, &copy_id).await["aurora-clone-manager:role"],
        "copy"
    );

    let from_copy = account
        .cli(&["--json", "provision", "--source", ROOT, "--wait"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(from_copy["clonedFrom"], copy_id.as_str());
    assert_eq!(from_copy["sourceKind"], "copy");

    let status = account.cli(&["status"]).await.expect_code(0);
    assert!(status.stdout.contains("0/15"), "{}", status.stdout);
    assert!(status.stdout.contains(&copy_id), "{}", status.stdout);
    assert!(status.stdout.contains("14/15"), "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_refuses_without_yes_when_stdin_is_not_a_terminal() {
    let account = Account::with_root().await;
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}keep-me"),
        ])
        .await
        .expect_code(0);

    let ran = account
        .cli(&["delete", &format!("{PREFIX}keep-me")])
        .await
        .expect_code(1);

    assert!(ran.stderr.contains("pass --yes"), "{}", ran.stderr);
    assert!(cluster_alive(&account.sdk, &format!("{PREFIX}keep-me")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_yes_removes_the_clone_and_its_secret() {
    let account = Account::with_root().await;
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}short-lived"),
            "--set-password",
            "--principal",
            "arn:aws:iam::123456789012:role/developer",
            "--wait",
        ])
        .await
        .expect_code(0);

    let json = account
        .cli(&["--json", "delete", &format!("{PREFIX}short-lived"), "--yes"])
        .await
        .expect_code(0)
        .json();

    assert_eq!(
        json["deleted"]["clusterId"],
        format!("{PREFIX}short-lived").as_str()
    );
    assert_eq!(
        json["deleted"]["secretsDeleted"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(!cluster_alive(&account.sdk, &format!("{PREFIX}short-lived")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_a_stopped_clone_starts_it_first_and_then_deletes_it() {
    let account = Account::with_root().await;
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}stopped-dev"),
            "--wait",
        ])
        .await
        .expect_code(0);
    aws_sdk_rds::Client::new(&account.sdk)
        .stop_db_cluster()
        .db_cluster_identifier(format!("{PREFIX}stopped-dev"))
        .send()
        .await
        .expect("stop the clone");

    account
        .cli(&["delete", &format!("{PREFIX}stopped-dev"), "--yes"])
        .await
        .expect_code(0);

    let rds = account.proxy.stats().service("rds");
    assert_eq!(
        rds.operations.get("StartDBCluster"),
        Some(&1),
        "AWS deletes only running clusters: {:?}",
        rds.operations
    );
    assert!(!cluster_alive(&account.sdk, &format!("{PREFIX}stopped-dev")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_never_touches_a_root_or_a_copy() {
    let account = Account::with_root().await;
    let config = maintenance_config(20);
    let report = account
        .cli(&["--json", "maintain", "--config", config.to_str().unwrap()])
        .await
        .expect_code(0)
        .json();
    let copy_id = report["roots"][0]["copiesCreated"][0]
        .as_str()
        .expect("a copy")
        .to_string();

    let root = account.cli(&["delete", ROOT, "--yes"]).await.expect_code(1);
    assert!(
        root.stderr.contains("not managed by this clone manager"),
        "{}",
        root.stderr
    );
    let copy = account
        .cli(&["delete", &copy_id, "--yes"])
        .await
        .expect_code(1);
    assert!(
        copy.stderr.contains("it is a copy, not a clone"),
        "{}",
        copy.stderr
    );

    assert!(cluster_alive(&account.sdk, ROOT).await);
    assert!(cluster_alive(&account.sdk, &copy_id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_runs_a_cloudformation_create_and_prints_the_success_answer() {
    let account = Account::with_root().await;
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events/cloudformation-create.json");

    let ran = account
        .cli(&["invoke", fixture.to_str().unwrap()])
        .await
        .expect_code(0);

    assert!(
        ran.stdout
            .starts_with("CloudFormation answer: SUCCESS (not sent; pass --send-response"),
        "{}",
        ran.stdout
    );
    let body: Value = serde_json::from_str(
        ran.stdout
            .split_once('\n')
            .map(|(_, body)| body)
            .unwrap_or_default(),
    )
    .expect("the answer body is JSON");
    assert_eq!(body["Status"], "SUCCESS");
    assert_eq!(body["LogicalResourceId"], "TestDb");
    assert_eq!(body["Data"]["ClonedFrom"], ROOT);
    let cluster_id = body["Data"]["ClusterId"].as_str().expect("ClusterId");
    assert!(moto_harness::cluster_exists(&account.sdk, cluster_id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_with_send_response_puts_the_answer_to_the_response_url() {
    let account = Account::with_root().await;
    let capture = moto_harness::response_capture().await;
    let event = serde_json::json!({
        "RequestType": "Create",
        "ResponseURL": capture.url("create"),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f0e0d0c-1111-2222-3333-444455556666",
        "RequestId": "cli-invoke-test",
        "LogicalResourceId": "Db",
        "ResourceType": "Custom::AuroraClone",
        "ResourceProperties": {"SourceClusterId": ROOT, "ClusterId": format!("{PREFIX}from-invoke")}
    });
    let path = scratch_file("create.json", &event.to_string());

    let json = account
        .cli(&[
            "--json",
            "invoke",
            path.to_str().unwrap(),
            "--send-response",
        ])
        .await
        .expect_code(0)
        .json();

    assert_eq!(json["result"]["answered"], "SUCCESS");
    assert_eq!(json["cloudFormationAnswers"][0]["sent"], true);
    let answers = capture.wait_for("create", 1, Duration::from_secs(10)).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].status(), Some("SUCCESS"));
    assert_eq!(answers[0].content_type.as_deref(), Some(""));
    assert_eq!(
        answers[0].json["Data"]["ClusterId"],
        format!("{PREFIX}from-invoke").as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_of_a_status_action_prints_the_pool() {
    let account = Account::with_root().await;
    let path = scratch_file(
        "status.json",
        &serde_json::json!({"action": "status", "sourceClusterId": ROOT}).to_string(),
    );

    let json = account
        .cli(&["--json", "invoke", path.to_str().unwrap()])
        .await
        .expect_code(0)
        .json();

    assert_eq!(json["result"]["roots"][0]["rootId"], ROOT);
    assert_eq!(json["cloudFormationAnswers"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintain_without_a_file_reads_the_deployments_ssm_parameter() {
    let account = Account::with_root().await;
    aws_sdk_ssm::Client::new(&account.sdk)
        .put_parameter()
        .name("/aurora-clone-manager/maintenance-config")
        .value(r#"{"clusters": [{"clusterId": "prod-db", "targetCloneSlots": 25}]}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("put the maintenance config");

    let json = account
        .cli(&["--json", "maintain", "--dry-run"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(json["dryRun"], true);
    assert_eq!(json["plan"]["roots"][0]["clusterId"], ROOT);
    assert_eq!(json["plan"]["roots"][0]["targetCloneSlots"], 25);
    assert_eq!(
        json["plan"]["roots"][0]["copies"].as_array().map(Vec::len),
        Some(1)
    );

    let status = account.cli(&["status"]).await.expect_code(0);
    assert!(
        status.stdout.starts_with("prod-db: 15 free clone slots"),
        "{}",
        status.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_maintenance_config_fails_with_exit_1_and_names_the_problem() {
    let account = Account::with_root().await;
    let unreadable = scratch_file("unreadable.edn", "{:clusters [");
    let ran = account
        .cli(&[
            "maintain",
            "--config",
            unreadable.to_str().unwrap(),
            "--dry-run",
        ])
        .await
        .expect_code(1);
    assert!(ran.stderr.contains("maintenance config"), "{}", ran.stderr);

    let bad_entry = scratch_file(
        "bad-entry.edn",
        r#"{:clusters [{:cluster-id "prod-db" :target-clone-slots 10} {:cluster-id "other" :target-clone-slots -1}]}"#,
    );
    let ran = account
        .cli(&[
            "maintain",
            "--config",
            bad_entry.to_str().unwrap(),
            "--dry-run",
        ])
        .await
        .expect_code(1);
    assert!(
        ran.stdout.contains("config entry skipped: clusters[1]"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("prod-db"),
        "the good entry is still planned: {}",
        ran.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_of_a_file_that_is_not_an_event_fails_with_exit_1() {
    let account = Account::new().await;
    let not_json = scratch_file("not-json.json", "this is not JSON");
    let ran = account
        .cli(&["invoke", not_json.to_str().unwrap()])
        .await
        .expect_code(1);
    assert!(ran.stderr.contains("not valid JSON"), "{}", ran.stderr);

    let ran = account
        .cli(&["invoke", "/nonexistent/event.json"])
        .await
        .expect_code(1);
    assert!(
        ran.stderr.contains("cannot read the event"),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_copy_ok_a_full_root_gets_a_copy_and_the_clone_waits_for_it() {
    let account = Account::with_root().await;
    account.fill_root().await;

    let plan = account
        .cli(&["provision", "--source", ROOT, "--copy-ok", "--dry-run"])
        .await
        .expect_code(0);
    assert!(
        plan.stdout.contains(&format!(
            "no free clone slot: make copy {PREFIX}prod-db-copy-"
        )),
        "{}",
        plan.stdout
    );

    // Without --wait too: the clone can only be started once its copy is ready.
    let json = account
        .cli(&[
            "--json",
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}late"),
            "--copy-ok",
        ])
        .await
        .expect_code(0)
        .json();

    assert_eq!(json["ready"], true, "{json}");
    assert_eq!(json["sourceKind"], "copy");
    let copy_id = json["clonedFrom"].as_str().expect("a copy").to_string();
    assert_eq!(
        moto_harness::cluster_tags(&account.sdk, &copy_id).await["aurora-clone-manager:role"],
        "copy"
    );
    assert_eq!(
        moto_harness::cluster_tags(&account.sdk, &format!("{PREFIX}late")).await["aurora-clone-manager:source-arn"],
        format!(
            "arn:aws:rds:us-east-1:{}:cluster:{copy_id}",
            account.proxy.account_id()
        )
    );
}

/// An invocation record from the fixture, carrying `payload` instead of its request.
fn failed_invocation(payload: serde_json::Value) -> String {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events/failed-invocation-record.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    record["requestPayload"] = payload;
    record.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_from_the_queue_answers_each_waiting_request_once_and_leaves_the_rest() {
    let account = Account::with_root().await;
    let capture = moto_harness::response_capture().await;
    let sqs = aws_sdk_sqs::Client::new(&account.sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("acm-failed-invocations")
        .send()
        .await
        .expect("a queue")
        .queue_url()
        .unwrap()
        .to_string();
    let still_here = format!("{PREFIX}still-here");
    account
        .cli(&["provision", "--source", ROOT, "--cluster-id", &still_here])
        .await
        .expect_code(0);
    let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f0e0d0c-1111-2222-3333-444455556666";
    let cluster_arn = |id: &str| format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}");
    let request = |kind: &str, name: &str, physical: Option<String>| {
        let mut request = serde_json::json!({
            "RequestType": kind,
            "ResponseURL": capture.url(name),
            "StackId": stack,
            "RequestId": format!("request-{name}"),
            "LogicalResourceId": "Db",
            "ResourceType": "Custom::AuroraClone",
            "ResourceProperties": {"SourceClusterId": ROOT}
        });
        if let Some(physical) = physical {
            request["PhysicalResourceId"] = serde_json::json!(physical);
        }
        request
    };
    let records = [
        request("Create", "create", None),
        request(
            "Delete",
            "delete-gone",
            Some(cluster_arn(&format!("{PREFIX}gone"))),
        ),
        request("Delete", "delete-here", Some(cluster_arn(&still_here))),
        serde_json::json!({"action": "finish", "job": {
            "clusterId": format!("{PREFIX}finishing"),
            "readyBy": "2026-11-01T09:50:00Z",
            "respond": {
                "envelope": {
                    "ResponseURL": capture.url("handover"),
                    "StackId": stack,
                    "RequestId": "request-handover",
                    "LogicalResourceId": "Db"
                },
                "when": "ready",
                "physicalId": cluster_arn(&format!("{PREFIX}finishing"))
            }
        }}),
        serde_json::json!({"source": "events", "action": "maintain!"}),
    ];
    for payload in records {
        sqs.send_message()
            .queue_url(&queue_url)
            .message_body(failed_invocation(payload))
            .send()
            .await
            .expect("a record");
    }

    let dry = account
        .cli(&["answer", "--from-queue", &queue_url, "--dry-run"])
        .await
        .expect_code(0);
    assert!(
        dry.stdout
            .starts_with("Dry run: nothing was sent or deleted."),
        "{}",
        dry.stdout
    );
    assert_eq!(
        dry.stdout.matches("(would answer)").count(),
        4,
        "{}",
        dry.stdout
    );
    assert!(capture.responses().is_empty(), "a dry run sends nothing");

    // The dry run hid the records for a moment; then they are all back.
    tokio::time::sleep(
        aurora_clone_manager::run::workflows::answer::DRY_RUN_VISIBILITY + Duration::from_secs(1),
    )
    .await;
    let ran = account
        .cli(&["--json", "answer", "--from-queue", &queue_url])
        .await
        .expect_code(0)
        .json();
    assert_eq!(ran["records"].as_array().unwrap().len(), 5, "{ran}");

    let only = |name: &str| {
        let answers = capture.responses_for(name);
        assert_eq!(answers.len(), 1, "{name}: {answers:#?}");
        answers.into_iter().next().unwrap()
    };
    let create = only("create");
    assert_eq!(create.status(), Some("FAILED"));
    assert!(
        create
            .reason()
            .unwrap()
            .contains("after 3 attempts (RetriesExhausted)"),
        "{}",
        create.body
    );
    assert!(
        create.json["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .starts_with("aurora-clone-not-created-"),
        "nothing was made, so a rollback deletes nothing: {}",
        create.body
    );
    assert_eq!(only("delete-gone").status(), Some("SUCCESS"));
    let here = only("delete-here");
    assert_eq!(here.status(), Some("FAILED"));
    assert!(
        here.reason()
            .unwrap()
            .contains(&format!("`aurora-clone-manager delete {still_here}`")),
        "{}",
        here.body
    );
    let handover = only("handover");
    assert_eq!(handover.status(), Some("FAILED"));
    assert_eq!(
        handover.json["PhysicalResourceId"],
        cluster_arn(&format!("{PREFIX}finishing"))
    );
    assert!(
        cluster_alive(&account.sdk, &still_here).await,
        "answering deletes nothing"
    );

    // Only the record nobody waits for is left in the queue (hidden while the answer run
    // that read it could still be working on it).
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let count = |name: aws_sdk_sqs::types::QueueAttributeName| -> u32 {
        attributes.attributes().unwrap()[&name].parse().unwrap()
    };
    assert_eq!(
        count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        1,
        "{attributes:?}"
    );
    let left = ran["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| {
            line["outcome"]
                .as_str()
                .unwrap()
                .starts_with("left in the queue")
        })
        .count();
    assert_eq!(left, 1, "{ran}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_expire_through_the_sweep_and_extend_and_protect_change_their_tags() {
    let account = Account::with_root().await;
    let kept = format!("{PREFIX}kept");
    let expired = format!("{PREFIX}expired");
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &kept,
            "--ttl",
            "2h",
            "--wait",
        ])
        .await
        .expect_code(0);
    let status = account
        .cli(&["--json", "status", "--source", ROOT])
        .await
        .expect_code(0)
        .json();
    let shown = &status["roots"][0]["clones"][0];
    assert_eq!(shown["clusterId"], kept.as_str(), "{status}");
    let first_expiry = shown["expiresAt"].as_str().expect("an expiry").to_string();

    let extended = account
        .cli(&["--json", "extend", &kept, "--by", "1d"])
        .await
        .expect_code(0)
        .json();
    assert_ne!(extended["expiresAt"], first_expiry.as_str(), "{extended}");
    let protected = account
        .cli(&[
            "--json",
            "protect",
            &kept,
            "--until",
            "2099-01-01T00:00:00Z",
        ])
        .await
        .expect_code(0)
        .json();
    assert_eq!(protected["protectedUntil"], "2099-01-01T00:00:00Z");
    account
        .cli(&["extend", ROOT, "--by", "1d"])
        .await
        .expect_code(1);

    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &expired,
            "--expires-at",
            "2001-01-01T00:00:00Z",
        ])
        .await
        .expect_code(1);
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &expired,
            "--ttl",
            "1h",
            "--set-password",
            "--principal",
            "arn:aws:iam::123456789012:role/developer",
            "--wait",
        ])
        .await
        .expect_code(0);
    // An hour passes: as moto's clock cannot be moved, the expiry tag is moved instead.
    let rds = aws_sdk_rds::Client::new(&account.sdk);
    let arn = rds
        .describe_db_clusters()
        .db_cluster_identifier(&expired)
        .send()
        .await
        .unwrap()
        .db_clusters()[0]
        .db_cluster_arn()
        .unwrap()
        .to_string();
    rds.add_tags_to_resource()
        .resource_name(&arn)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("aurora-clone-manager:expires-at")
                .value("2001-01-01T00:00:00Z")
                .build(),
        )
        .send()
        .await
        .expect("move the expiry");
    let dry = account
        .cli(&["--json", "sweep", "--dry-run"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(dry["planned"].as_array().map(Vec::len), Some(1), "{dry}");
    assert_eq!(dry["planned"][0]["clusterId"], expired.as_str());
    assert_eq!(dry["planned"][0]["action"], "expire");
    assert!(
        cluster_alive(&account.sdk, &expired).await,
        "a dry run deletes nothing"
    );

    let swept = account
        .cli(&["--json", "sweep"])
        .await
        .expect_code(0)
        .json();
    assert_eq!(
        swept["expired"][0]["clusterId"],
        expired.as_str(),
        "{swept}"
    );
    assert_eq!(
        swept["expired"][0]["secretsDeleted"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{swept}"
    );
    assert!(!cluster_alive(&account.sdk, &expired).await);
    assert!(cluster_alive(&account.sdk, &kept).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_starts_a_stopped_clone_and_refuses_a_running_one() {
    let account = Account::with_root().await;
    let clone = format!("{PREFIX}paused");
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &clone,
            "--wait",
        ])
        .await
        .expect_code(0);
    account.cli(&["start", &clone]).await.expect_code(1);
    aws_sdk_rds::Client::new(&account.sdk)
        .stop_db_cluster()
        .db_cluster_identifier(&clone)
        .send()
        .await
        .expect("stop the clone");
    let json = account
        .cli(&["--json", "start", &clone])
        .await
        .expect_code(0)
        .json();
    assert_eq!(json["started"], clone.as_str());
    let rds = account.proxy.stats().service("rds");
    assert_eq!(
        rds.operations.get("StartDBCluster"),
        Some(&1),
        "{:?}",
        rds.operations
    );
}

/// The `name=value` lines of a step output file (no value in these tests has a line break).
fn step_outputs(path: &std::path::Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).expect("read the step output file");
    text.lines()
        .map(|line| {
            let (name, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not name=value: {line:?} in\n{text}"));
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_with_output_github_writes_how_to_connect_to_github_output_and_never_the_password()
 {
    let account = Account::with_root().await;
    let github_output = scratch_file("github-output", "earlier=kept\n");
    let cluster_id = format!("{PREFIX}pr-7");

    let ran = account
        .cli_in_actions(
            &github_output,
            &[
                "--json",
                "--output",
                "github",
                "provision",
                "--source",
                ROOT,
                "--cluster-id",
                &cluster_id,
                "--set-password",
                "--principal",
                "arn:aws:iam::123456789012:role/ci",
                "--wait",
            ],
        )
        .await
        .expect_code(0);

    let outputs = step_outputs(&github_output);
    assert_eq!(outputs["earlier"], "kept", "appended, not overwritten");
    assert_eq!(outputs["cluster-id"], cluster_id);
    assert_eq!(outputs["ready"], "true");
    assert_eq!(outputs["port"], "5432");
    assert_eq!(outputs["username"], "postgres");
    let json = ran.json();
    assert_eq!(
        outputs["host"],
        json["outputs"]["Endpoint"].as_str().unwrap()
    );
    assert!(!outputs["host"].is_empty());
    assert_eq!(
        outputs["secret-arn"],
        json["outputs"]["PasswordSecretArn"].as_str().unwrap()
    );
    assert!(
        outputs["secret-arn"].starts_with("arn:aws:secretsmanager:us-east-1:"),
        "{}",
        outputs["secret-arn"]
    );
    // The password is in the secret, and nowhere the run wrote.
    let secret = aws_sdk_secretsmanager::Client::new(&account.sdk)
        .get_secret_value()
        .secret_id(&outputs["secret-arn"])
        .send()
        .await
        .expect("read the clone's secret");
    let secret: Value = serde_json::from_str(secret.secret_string().unwrap()).unwrap();
    let password = secret["password"]
        .as_str()
        .expect("a password in the secret");
    assert!(password.len() >= 16, "{password}");
    let written = std::fs::read_to_string(&github_output).unwrap();
    for (place, text) in [
        ("GITHUB_OUTPUT", &written),
        ("stdout", &ran.stdout),
        ("stderr", &ran.stderr),
    ] {
        assert!(!text.contains(password), "the password is in {place}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_github_without_github_output_fails_before_anything_is_made() {
    let account = Account::with_root().await;
    let before = world_snapshot(&account.sdk).await;

    let ran = account
        .cli(&[
            "--output",
            "github",
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &format!("{PREFIX}pr-8"),
        ])
        .await
        .expect_code(1);

    assert!(
        ran.stderr
            .contains("--output github writes GitHub Actions step outputs to the file named by GITHUB_OUTPUT, which is not set"),
        "{}",
        ran.stderr
    );
    assert_eq!(world_snapshot(&account.sdk).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_github_is_refused_for_a_command_without_outputs() {
    let account = Account::with_root().await;
    let github_output = scratch_file("github-output", "");

    let ran = account
        .cli_in_actions(&github_output, &["--output", "github", "status"])
        .await
        .expect_code(1);

    assert!(
        ran.stderr
            .contains("--output github is for provision and delete only"),
        "{}",
        ran.stderr
    );
    assert_eq!(std::fs::read_to_string(&github_output).unwrap(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_output_github_writes_the_deleted_cluster_and_missing_ok_accepts_a_missing_one()
{
    let account = Account::with_root().await;
    let cluster_id = format!("{PREFIX}pr-9");
    account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &cluster_id,
            "--wait",
        ])
        .await
        .expect_code(0);
    let github_output = scratch_file("github-output", "");

    account
        .cli_in_actions(
            &github_output,
            &["--output", "github", "delete", &cluster_id, "--yes"],
        )
        .await
        .expect_code(0);

    assert_eq!(
        step_outputs(&github_output),
        BTreeMap::from([
            ("cluster-id".to_string(), cluster_id.clone()),
            ("deleted".to_string(), "true".to_string()),
        ])
    );
    assert!(!cluster_alive(&account.sdk, &cluster_id).await);

    // Once more, as a second close of the pull request would: nothing to delete.
    let missing = format!("{PREFIX}pr-never-made");
    let ran = account
        .cli(&["delete", &missing, "--yes"])
        .await
        .expect_code(1);
    assert!(
        ran.stderr.contains(&format!("no cluster named {missing}")),
        "{}",
        ran.stderr
    );
    let github_output = scratch_file("github-output", "");
    let ran = account
        .cli_in_actions(
            &github_output,
            &[
                "--output",
                "github",
                "delete",
                &missing,
                "--yes",
                "--missing-ok",
            ],
        )
        .await
        .expect_code(0);
    assert!(ran.stdout.contains("nothing to delete"), "{}", ran.stdout);
    assert_eq!(step_outputs(&github_output)["deleted"], "false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_with_reuse_reports_the_clone_it_made_before_and_never_reuses_another_cluster() {
    let account = Account::with_root().await;
    let cluster_id = format!("{PREFIX}pr-10");
    let provision = |extra: &'static [&'static str]| {
        let mut args = vec![
            "--output".to_string(),
            "github".to_string(),
            "provision".to_string(),
            "--source".to_string(),
            ROOT.to_string(),
            "--cluster-id".to_string(),
            cluster_id.clone(),
            "--wait".to_string(),
        ];
        args.extend(extra.iter().map(|arg| arg.to_string()));
        args
    };
    let first_output = scratch_file("github-output", "");
    let args = provision(&["--reuse"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    account
        .cli_in_actions(&first_output, &args)
        .await
        .expect_code(0);
    let instance_ids = || async {
        moto_harness::cluster_instances(&account.sdk, &cluster_id)
            .await
            .iter()
            .map(|instance| instance.db_instance_identifier().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let instances = instance_ids().await;
    assert_eq!(instances.len(), 1);

    // The next push to the pull request: the same clone, the same outputs.
    let again_output = scratch_file("github-output", "");
    let ran = account
        .cli_in_actions(&again_output, &args)
        .await
        .expect_code(0);
    assert!(
        ran.stderr.contains(&format!(
            "{cluster_id} exists already (a clone of {ROOT}): using it as it is"
        )),
        "{}",
        ran.stderr
    );
    assert_eq!(step_outputs(&again_output), step_outputs(&first_output));
    assert_eq!(step_outputs(&again_output)["ready"], "true");
    assert_eq!(instance_ids().await, instances);

    // Without --reuse the name is taken.
    let args = provision(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let taken_output = scratch_file("github-output", "");
    account
        .cli_in_actions(&taken_output, &args)
        .await
        .expect_code(1);
    assert_eq!(std::fs::read_to_string(&taken_output).unwrap(), "");

    // A cluster of that name that this clone manager did not make is never reused.
    let foreign = format!("{PREFIX}pr-11");
    moto_harness::seed_root(&account.sdk, &foreign).await;
    let ran = account
        .cli(&[
            "provision",
            "--source",
            ROOT,
            "--cluster-id",
            &foreign,
            "--reuse",
        ])
        .await
        .expect_code(1);
    assert!(
        ran.stderr.contains(&format!(
            "--reuse: {foreign} exists but is not a clone made by this clone manager"
        )),
        "{}",
        ran.stderr
    );
}
