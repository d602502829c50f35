//! Benchmarks for issue 7: AWS calls per operation, maintenance wall time under simulated
//! latency, the planner alone, and the Lambda bootstrap's cold start and memory.
//!
//! `cargo bench --bench bench` prints the report; `-- --markdown FILE` also writes it as
//! Markdown (scripts/bench.sh writes BENCHMARKS.md that way). Other options: `--only
//! calls|refresh|latency|planner|cold-start` (repeatable), `--bootstrap PATH`, `--quick` (fewer
//! repetitions, for trying the bench out). Targets are judged here by reading the numbers;
//! nothing asserts on timing.

#[allow(dead_code)]
#[path = "../tests/it/moto_harness/runtime_api.rs"]
mod runtime_api;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aurora_clone_manager::aws::clock::{Clock, SystemClock, TokioClock};
use aurora_clone_manager::aws::failure::Faults;
use aurora_clone_manager::aws::fake::{FAKE_STATE_TABLE, FakeAws, FakeClusterSeed};
use aurora_clone_manager::aws::hooks::{Call, Hook, Hooked};
use aurora_clone_manager::aws::{
    AwsError, ClusterInfo, ClusterMember, InstanceInfo, KeyAlias, Ports, SecretSummary, Tags,
};
use aurora_clone_manager::input::maintenance_config::parse_maintenance_config;
use aurora_clone_manager::lambda::handler::handle_event;
use aurora_clone_manager::model::config::Config;
use aurora_clone_manager::model::tags;
use aurora_clone_manager::model::time::format_timestamp;
use aurora_clone_manager::plan::inventory::Inventory;
use aurora_clone_manager::plan::maintenance::{MaintenanceInput, plan_maintenance};
use aurora_clone_manager::plan::provision::{
    CloneRequest, Placement, ProvisionInput, ProvisionOutcome, RequestOrigin, plan_provision,
};
use aurora_clone_manager::plan::request::CloneProperties;
use aurora_clone_manager::run::machinery::context::{Context, Invocation};
use aurora_clone_manager::run::machinery::inventory::CLUSTER_PAGE_SIZE;
use aurora_clone_manager::run::machinery::inventory::ConfigSource;
use aurora_clone_manager::run::machinery::respond::RecordingResponder;
use aurora_clone_manager::run::workflows::{maintain, refresh};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};

const STACK: &str = "acm";
const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0f0e0d0c-aaaa-bbbb-cccc-000000000001";
/// Account sizes for the call counts.
const ACCOUNT_SIZES: [usize; 3] = [10, 1_000, 10_000];
/// Describes a restored cluster (and then its instance) stays unavailable for in the slow
/// Create: the finisher's calls per poll show in its count.
const SLOW_DESCRIBES: u32 = 20;
/// Simulated latency of every AWS call in the wall-time run.
const LATENCY: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------
// Options and the report.

struct Options {
    markdown: Option<PathBuf>,
    bootstrap: PathBuf,
    only: Vec<String>,
    quick: bool,
}

impl Options {
    fn parse() -> Options {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut options = Options {
            markdown: None,
            bootstrap: root.join("target/lambda/aurora-clone-manager/bootstrap"),
            only: Vec::new(),
            quick: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--markdown" => options.markdown = args.next().map(|path| root.join(path)),
                "--bootstrap" => {
                    if let Some(path) = args.next() {
                        options.bootstrap = root.join(path);
                    }
                }
                "--only" => options.only.extend(args.next()),
                "--quick" => options.quick = true,
                // cargo passes --bench to every bench binary.
                "--bench" => {}
                other => eprintln!("bench: ignoring argument {other}"),
            }
        }
        options
    }

    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| only == part)
    }
}

/// A target from the issue and whether the measurement met it.
struct Verdict {
    target: String,
    measured: String,
    met: bool,
}

#[derive(Default)]
struct Report {
    sections: String,
    verdicts: Vec<Verdict>,
    notes: Vec<String>,
}

impl Report {
    fn section(&mut self, text: &str) {
        self.sections.push_str(text);
        self.sections.push('\n');
        // Print as we go: the whole run takes minutes.
        print!("{text}");
        println!();
    }

    fn verdict(&mut self, target: &str, measured: String, met: bool) {
        self.verdicts.push(Verdict {
            target: target.to_string(),
            measured,
            met,
        });
    }
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = format!("| {} |\n", header.join(" | "));
    let rule = vec!["---"; header.len()];
    let _ = writeln!(text, "|{}|", rule.join("|"));
    for row in rows {
        let _ = writeln!(text, "| {} |", row.join(" | "));
    }
    text
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

fn micros(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.0} µs", duration.as_secs_f64() * 1e6)
    } else {
        millis(duration)
    }
}

/// Median and 95th percentile of a sample.
fn median_p95(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95_index = ((samples.len() as f64 * 0.95).ceil() as usize).clamp(1, samples.len()) - 1;
    (median, samples[p95_index])
}

fn pages(clusters: usize) -> u64 {
    clusters.div_ceil(CLUSTER_PAGE_SIZE as usize).max(1) as u64
}

// ---------------------------------------------------------------------------------------
// A counting hook around the RDS port: tells inventory pages apart from single-cluster
// describes, which the fake counts under one operation name.

#[derive(Default)]
struct CountingRds {
    pages: AtomicU64,
}

#[async_trait]
impl Hook for CountingRds {
    async fn before(&self, call: &Call<'_>) -> Result<(), AwsError> {
        if call.method == "describe_clusters_page" {
            self.pages.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// A fake account with `roots` roots (one writer each) and unrelated, instance-less
/// clusters up to `total` clusters.
struct Account {
    fake: Arc<FakeAws>,
    /// Wraps every port of the app: the latency run slows every call down through it.
    faults: Arc<Faults>,
    rds: Arc<CountingRds>,
    app: Arc<Context>,
}

fn account(roots: usize, total: usize, clock: Arc<dyn Clock>, mut config: Config) -> Account {
    let fake = FakeAws::with_clock(clock.clone());
    config.state_table = FAKE_STATE_TABLE.to_string();
    fake.create_state_table(&config.state_table);
    fake.configure(|settings| settings.describes_until_available = 0);
    for index in 0..roots {
        fake.seed_cluster(FakeClusterSeed::root(&format!("root-{index:03}")));
    }
    for index in roots..total {
        // Unrelated clusters, in clone groups of their own; without instances so that the
        // fake's own bookkeeping (which scans instances per cluster) stays out of the way.
        let mut seed = FakeClusterSeed::root(&format!("other-{index:05}"));
        seed.instance_class = None;
        seed.clone_group_id = Some(format!("group-{}", index % 500));
        seed.tags = [("team".to_string(), format!("team-{}", index % 40))].into();
        fake.seed_cluster(seed);
    }
    let rds = Arc::new(CountingRds::default());
    let faults = Faults::new();
    let fake_ports = fake.ports();
    let ports = faults.wrap(Ports {
        rds: Arc::new(Hooked::new(fake_ports.rds.clone(), rds.clone())),
        ..fake_ports
    });
    let app = Arc::new(Context::new(
        config,
        ports,
        Arc::new(RecordingResponder::default()),
        clock,
        "us-east-1",
    ));
    Account {
        fake,
        faults,
        rds,
        app,
    }
}

fn maintenance_config_text(roots: usize, target_clone_slots: u32) -> String {
    let entries: Vec<String> = (0..roots)
        .map(|index| {
            format!("{{:cluster-id \"root-{index:03}\" :target-clone-slots {target_clone_slots}}}")
        })
        .collect();
    format!("{{:clusters [{}]}}", entries.join("\n  "))
}

fn create_event(request_id: &str, properties: Value) -> Value {
    json!({
        "RequestType": "Create",
        "ResponseURL": format!("https://cloudformation-custom-resource-response.example/{request_id}"),
        "StackId": STACK_ID,
        "RequestId": request_id,
        "ResourceType": "Custom::AuroraClone",
        "LogicalResourceId": "BenchDb",
        "ResourceProperties": properties,
    })
}

/// Calls of one operation: total, inventory pages, and by AWS operation.
struct Calls {
    total: u64,
    inventory_pages: u64,
    by_operation: BTreeMap<&'static str, u64>,
    outcome: String,
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

fn count_calls(operation: &str, clusters: usize) -> Calls {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
            Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        ));
        let roots = 5.min(clusters);
        let account = account(roots, clusters, clock, Config::for_stack(STACK));
        if operation == "create-slow" {
            // About as many polls as a real clone takes (minutes at one poll per 15 s).
            account
                .fake
                .configure(|settings| settings.describes_until_available = SLOW_DESCRIBES);
        }
        account.fake.reset_call_counts();
        let outcome = match operation {
            "create" | "create-password" | "create-slow" => {
                let mut properties = json!({"SourceClusterId": "root-002"});
                if operation == "create-password" {
                    properties["SetPassword"] = json!("true");
                    properties["AccessPrincipalArns"] = json!("arn:aws:iam::123456789012:role/dev");
                }
                let invocation = Invocation {
                    deadline: Some(tokio::time::Instant::now() + Duration::from_secs(900)),
                    function_name: Some(
                        "arn:aws:lambda:us-east-1:123456789012:function:acm".into(),
                    ),
                };
                let result = handle_event(
                    account.app.clone(),
                    invocation,
                    create_event("bench-1", properties),
                )
                .await;
                match result {
                    Ok(value) => format!("answered {}", value["answered"]),
                    Err(error) => format!("error: {}", error.0),
                }
            }
            _ => {
                let text = maintenance_config_text(roots, 20);
                let report = maintain::run(
                    &account.app,
                    &Invocation::unbounded(),
                    &ConfigSource::Text(text),
                    false,
                )
                .await
                .expect("maintenance runs");
                let created: usize = report
                    .roots
                    .iter()
                    .map(|root| root.copies_created.len())
                    .sum();
                let failures: usize = report
                    .roots
                    .iter()
                    .map(|root| root.failures.len())
                    .sum::<usize>()
                    + report.failures.len();
                format!("{created} copies started, {failures} failures")
            }
        };
        Calls {
            total: account.fake.total_calls(),
            inventory_pages: account.rds.pages.load(Ordering::Relaxed),
            by_operation: account.fake.call_counts(),
            outcome,
        }
    })
}

fn bench_calls(report: &mut Report) {
    let operations = [
        (
            "create",
            "CloudFormation Create, no password, until answered",
        ),
        (
            "create-password",
            "CloudFormation Create with SetPassword, until answered",
        ),
        (
            "create-slow",
            "CloudFormation Create, no password, cluster and instance each available after 20 describes",
        ),
        ("maintain", "maintenance run: 5 roots, 1 copy each"),
    ];
    let mut text = String::from(
        "## AWS API calls per operation\n\n\
         Counted at the fake's ports (every call of every port), with 5 roots and the rest \
         unrelated clusters. Inventory pages are DescribeDBClusters calls of 100 clusters \
         each, with tags inline. The original design listed the clusters and then called \
         ListTagsForResource once per cluster, so each of its inventories costs \
         ⌈N/100⌉ + N calls instead of ⌈N/100⌉; for the same operation it needs \
         **original = measured + inventories × N**.\n\n",
    );
    let mut rows = Vec::new();
    let mut detail_rows = Vec::new();
    let mut worst_growth: f64 = 0.0;
    for (operation, label) in operations {
        let mut first: Option<(u64, u64)> = None;
        for clusters in ACCOUNT_SIZES {
            let calls = count_calls(operation, clusters);
            let inventories = calls.inventory_pages / pages(clusters);
            let original = calls.total + inventories * clusters as u64;
            let others = calls.total - calls.inventory_pages;
            if let Some((first_others, _)) = first {
                worst_growth = worst_growth.max(others as f64 - first_others as f64);
            } else {
                first = Some((others, calls.total));
            }
            rows.push(vec![
                label.to_string(),
                format!("{clusters}"),
                format!("{}", pages(clusters)),
                format!("{}", calls.inventory_pages),
                format!("{others}"),
                format!("{}", calls.total),
                format!("{original}"),
                calls.outcome.clone(),
            ]);
            if clusters == 10_000 {
                let by_operation: Vec<String> = calls
                    .by_operation
                    .iter()
                    .map(|(name, count)| format!("{name} {count}"))
                    .collect();
                detail_rows.push(vec![label.to_string(), by_operation.join(", ")]);
            }
        }
    }
    text.push_str(&table(
        &[
            "operation",
            "clusters (N)",
            "pages per inventory",
            "inventory pages",
            "other calls",
            "total calls",
            "original design (calls)",
            "outcome",
        ],
        &rows,
    ));
    text.push_str("\nBy operation, with 10,000 clusters:\n\n");
    text.push_str(&table(
        &["operation", "calls by AWS operation"],
        &detail_rows,
    ));
    report.section(&text);
    report.verdict(
        "API calls grow with pages (100 clusters per page), not with clusters",
        if worst_growth == 0.0 {
            "from 10 to 10,000 clusters only inventory pages grow (+99 per inventory); every other count is the same".to_string()
        } else {
            format!("calls other than inventory pages grew by up to {worst_growth}")
        },
        worst_growth == 0.0,
    );
}

// ---------------------------------------------------------------------------------------
// Leases per Create, and a refresh in place on the fake's clock.

/// What one refresh of a clone with its own password did, on the fake's clock.
struct RefreshRun {
    /// Seconds the clone's endpoint did not answer, longest window.
    longest_outage: u64,
    /// How many times it went silent.
    outages: u32,
    /// Seconds the endpoint answered with a password the secret does not hold.
    wrong_password: u64,
    calls: u64,
    by_operation: BTreeMap<&'static str, u64>,
}

fn refresh_on_the_fakes_clock() -> RefreshRun {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
            Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        ));
        let account = account(1, 1, clock, Config::for_stack(STACK));
        account
            .fake
            .configure(|settings| settings.describes_until_available = 2);
        let properties = json!({"SourceClusterId": "root-000", "SetPassword": "true",
                                "AccessPrincipalArns": "arn:aws:iam::123456789012:role/dev"});
        let invocation = Invocation {
            deadline: Some(tokio::time::Instant::now() + Duration::from_secs(900)),
            function_name: Some("arn:aws:lambda:us-east-1:123456789012:function:acm".into()),
        };
        handle_event(
            account.app.clone(),
            invocation,
            create_event("bench-r", properties),
        )
        .await
        .expect("the clone is made");
        let clone = account
            .fake
            .all_clusters()
            .into_iter()
            .find(|cluster| cluster.tag(tags::ROLE) == Some("clone"))
            .expect("a clone");
        let host = clone.endpoint.clone().expect("an endpoint");
        let secret: Value =
            serde_json::from_str(&account.fake.secrets()[0].value).expect("a secret document");
        let password = secret["password"].as_str().unwrap_or_default().to_string();
        tokio::time::advance(Duration::from_secs(24 * 3600)).await;
        account.fake.reset_call_counts();
        let app = account.app.clone();
        let clone_id = clone.id.clone();
        let task = tokio::spawn(async move { refresh::refresh(&app, &clone_id, true).await });
        let (mut silent, mut longest, mut outages, mut wrong_password) = (0u64, 0u64, 0u32, 0u64);
        while !task.is_finished() {
            if account.fake.endpoint_answers(&host) {
                silent = 0;
                if account.fake.master_password(&clone.id).as_deref() != Some(password.as_str()) {
                    wrong_password += 1;
                }
            } else {
                if silent == 0 {
                    outages += 1;
                }
                silent += 1;
                longest = longest.max(silent);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let report = task.await.expect("the refresh task").expect("the refresh");
        assert!(report.done, "the refresh finished");
        RefreshRun {
            longest_outage: longest,
            outages,
            wrong_password,
            calls: account.fake.total_calls(),
            by_operation: account.fake.call_counts(),
        }
    })
}

fn bench_refresh(report: &mut Report) {
    let create = count_calls("create", 10);
    let lease_calls = |calls: &BTreeMap<&'static str, u64>| -> Vec<String> {
        calls
            .iter()
            .filter(|(name, _)| name.starts_with("dynamodb:"))
            .map(|(name, count)| format!("{name} {count}"))
            .collect()
    };
    let run = refresh_on_the_fakes_clock();
    let by_operation: Vec<String> = run
        .by_operation
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    let rename = aurora_clone_manager::aws::fake::CLUSTER_RENAME_TAKES.num_seconds();
    let text = format!(
        "## Leases and refresh in place\n\n\
         Leases are conditional writes in the state table (DynamoDB). A CloudFormation \
         Create (no password, 10 clusters) makes these state-table calls: {}. Before the \
         state table, the same Create made `ssm:GetParameter 2, ssm:PutParameter 2, \
         ssm:DeleteParameter 2` for its leases (this file at commit fb645bb), against \
         Parameter Store's throughput shared by the whole account. A refresh holds the \
         clone's lease for each pass: two state-table calls per pass.\n\n\
         One refresh in place of a clone with its own password, on the fake's clock \
         (AWS's documented timings as its parameters: a renamed cluster's new DNS name \
         answers after {rename} s, the Multi-AZ DB cluster figure; unverified for Aurora), \
         sampled every second:\n\n{}\n\
         Before the refresh renamed clusters only, the writers were renamed too and the \
         outage was 599 s (the refresh test on commit 7dc88f4).\n",
        lease_calls(&create.by_operation).join(", "),
        table(
            &["measure", "value"],
            &[
                vec!["endpoint outages".into(), format!("{}", run.outages)],
                vec![
                    "longest outage (s of the fake's clock)".into(),
                    format!("{}", run.longest_outage),
                ],
                vec![
                    "seconds answering with a password the secret does not hold".into(),
                    format!("{}", run.wrong_password),
                ],
                vec!["calls of the refresh".into(), format!("{}", run.calls)],
                vec!["by AWS operation".into(), by_operation.join(", ")],
            ],
        ),
    );
    report.section(&text);
}

// ---------------------------------------------------------------------------------------
// Maintenance wall time with simulated latency.

struct LatencyRun {
    concurrency: usize,
    wall: Duration,
    calls: u64,
    copies: usize,
    failures: usize,
}

fn maintenance_with_latency(roots: usize, clusters: usize, concurrency: usize) -> LatencyRun {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut config = Config::for_stack(STACK);
        config.maintenance_concurrency = concurrency;
        let account = account(roots, clusters, Arc::new(SystemClock), config);
        account.faults.set_latency(LATENCY);
        account.fake.reset_call_counts();
        let text = maintenance_config_text(roots, 20);
        let started = Instant::now();
        let report = maintain::run(
            &account.app,
            &Invocation::unbounded(),
            &ConfigSource::Text(text),
            false,
        )
        .await
        .expect("maintenance runs");
        let wall = started.elapsed();
        LatencyRun {
            concurrency,
            wall,
            calls: account.fake.total_calls(),
            copies: report
                .roots
                .iter()
                .map(|root| root.copies_created.len())
                .sum(),
            failures: report
                .roots
                .iter()
                .map(|root| root.failures.len())
                .sum::<usize>()
                + report.failures.len(),
        }
    })
}

fn bench_latency(report: &mut Report, options: &Options) {
    let roots = 50;
    let clusters = 5_000;
    let default_concurrency = Config::for_stack(STACK).maintenance_concurrency;
    let mut concurrencies = vec![default_concurrency];
    if !options.quick {
        concurrencies.extend([1, 16]);
    }
    let runs: Vec<LatencyRun> = concurrencies
        .iter()
        .map(|concurrency| maintenance_with_latency(roots, clusters, *concurrency))
        .collect();
    let mut text = format!(
        "## Maintenance over {roots} roots and {clusters} clusters, {} ms per call\n\n\
         Real time (tokio not paused), the fake adding {} ms to every call; each root's \
         target (20 free slots) needs one copy, so the run parses the config (given as text), takes 50 \
         leases, reads one inventory ({} pages), lists secrets and key aliases, starts 50 \
         copies with their instances and releases the leases. `maintenance_concurrency` \
         bounds how many roots are worked on at once (default {default_concurrency}).\n\n",
        LATENCY.as_millis(),
        LATENCY.as_millis(),
        pages(clusters),
    );
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            vec![
                format!(
                    "{}{}",
                    run.concurrency,
                    if run.concurrency == default_concurrency {
                        " (default)"
                    } else {
                        ""
                    }
                ),
                format!("{:.2} s", run.wall.as_secs_f64()),
                format!("{}", run.calls),
                format!("{:.1} s", run.calls as f64 * LATENCY.as_secs_f64()),
                format!("{} copies, {} failures", run.copies, run.failures),
            ]
        })
        .collect();
    text.push_str(&table(
        &[
            "concurrency",
            "wall time",
            "calls",
            "the same calls one at a time",
            "outcome",
        ],
        &rows,
    ));
    let per_cluster_tags = clusters as f64 * LATENCY.as_secs_f64();
    let _ = write!(
        text,
        "\nFor comparison, the original design's inventory alone, listing the clusters and \
         then asking for each one's tags one call at a time, takes {clusters} × {} ms = \
         {per_cluster_tags:.0} s (plus {} list pages) at this latency: 25 times the target, \
         and past Lambda's 15-minute limit from about 18,000 clusters on. The inventory here \
         is {} pages.\n",
        LATENCY.as_millis(),
        pages(clusters),
        pages(clusters),
    );
    report.section(&text);
    let default_run = &runs[0];
    report.verdict(
        "maintenance, 50 roots, 5,000 clusters, 50 ms per call: under 10 s",
        format!(
            "{:.2} s at concurrency {} (per-cluster tags: {per_cluster_tags:.0} s for the inventory alone)",
            default_run.wall.as_secs_f64(),
            default_run.concurrency
        ),
        default_run.wall < Duration::from_secs(10) && default_run.failures == 0,
    );
}

// ---------------------------------------------------------------------------------------
// The planner alone.

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

fn synthetic_cluster(id: &str, group: Option<String>, with_writer: bool) -> ClusterInfo {
    ClusterInfo {
        id: id.to_string(),
        arn: format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}"),
        status: aurora_clone_manager::model::ClusterStatus::Available,
        pending_master_password: false,
        engine: "aurora-postgresql".to_string(),
        engine_version: Some("15.4".to_string()),
        created_at: Some(now() - TimeDelta::days(100)),
        tags: Tags::new(),
        members: if with_writer {
            vec![ClusterMember {
                instance_id: format!("{id}-writer"),
                is_writer: true,
            }]
        } else {
            Vec::new()
        },
        clone_group_id: group,
        endpoint: Some(format!("{id}.cluster-x.us-east-1.rds.amazonaws.com")),
        reader_endpoint: Some(format!("{id}.cluster-ro-x.us-east-1.rds.amazonaws.com")),
        port: Some(5432),
        master_username: Some("postgres".to_string()),
        database_name: Some("app".to_string()),
        db_subnet_group: Some("db-subnets".to_string()),
        vpc_security_group_ids: vec!["sg-0123".to_string()],
        db_cluster_parameter_group: Some("default.aurora-postgresql15".to_string()),
        iam_database_authentication_enabled: false,
        storage_type: Some("aurora".to_string()),
        enabled_cloudwatch_logs_exports: Vec::new(),
        serverless_v2_scaling: None,
        resource_id: None,
    }
}

/// 10,000 clusters: `roots` roots, each with two fresh copies and six clones of ours (three
/// of the root, three of a copy), the rest unrelated clusters in clone groups of their own.
fn planner_inventory(roots: usize, total: usize) -> Inventory {
    let mut clusters = Vec::with_capacity(total);
    for root_index in 0..roots {
        let root_id = format!("root-{root_index:03}");
        let root = synthetic_cluster(&root_id, Some(format!("root-group-{root_index}")), true);
        let managed = |id: String, role: &str, source: &ClusterInfo, group: Option<String>| {
            let mut cluster = synthetic_cluster(&id, group, true);
            cluster.tags = [
                (tags::ROLE.to_string(), role.to_string()),
                (tags::STACK.to_string(), STACK.to_string()),
                (tags::ROOT_ARN.to_string(), root.arn.clone()),
                (tags::SOURCE_ARN.to_string(), source.arn.clone()),
                (
                    tags::DATA_TIMESTAMP.to_string(),
                    format_timestamp(now() - TimeDelta::hours(10)),
                ),
                (tags::STATE.to_string(), "ready".to_string()),
            ]
            .into();
            cluster
        };
        let copies: Vec<ClusterInfo> = (0..2)
            .map(|copy_index| {
                managed(
                    format!("{root_id}-copy-{copy_index}"),
                    "copy",
                    &root,
                    Some(format!("copy-group-{root_index}-{copy_index}")),
                )
            })
            .collect();
        for clone_index in 0..3 {
            clusters.push(managed(
                format!("{root_id}-clone-{clone_index}"),
                "clone",
                &root,
                root.clone_group_id.clone(),
            ));
            clusters.push(managed(
                format!("{root_id}-copy-0-clone-{clone_index}"),
                "clone",
                &copies[0],
                copies[0].clone_group_id.clone(),
            ));
        }
        clusters.extend(copies);
        clusters.push(root);
    }
    let mut index = 0;
    while clusters.len() < total {
        clusters.push(synthetic_cluster(
            &format!("other-{index:05}"),
            Some(format!("group-{}", index % 2_000)),
            true,
        ));
        index += 1;
    }
    Inventory::new(clusters)
}

fn bench_planner(report: &mut Report, options: &Options) {
    let roots = 50;
    let total = 10_000;
    let inventory = planner_inventory(roots, total);
    let config = Config::for_stack(STACK);
    let placement = Placement {
        partition: "aws".to_string(),
        region: "us-east-1".to_string(),
        account_id: "123456789012".to_string(),
    };
    let root_writer = InstanceInfo {
        id: "root-007-writer".to_string(),
        arn: "arn:aws:rds:us-east-1:123456789012:db:root-007-writer".to_string(),
        cluster_id: Some("root-007".to_string()),
        status: "available".to_string(),
        instance_class: "db.r6g.large".to_string(),
        engine: "aurora-postgresql".to_string(),
        endpoint: None,
        port: Some(5432),
        db_parameter_group: Some("default.aurora-postgresql15".to_string()),
        publicly_accessible: false,
    };
    let request = CloneRequest {
        properties: CloneProperties::for_source("root-007"),
        origin: RequestOrigin {
            stack_id: STACK_ID.to_string(),
            logical_resource_id: "BenchDb".to_string(),
            request_id: "bench-request".to_string(),
        },
        requester_waits_at_most_an_hour: false,
    };
    let targets = parse_maintenance_config(&maintenance_config_text(roots, 40))
        .expect("a valid config")
        .targets;
    let secrets: Vec<SecretSummary> = (0..200)
        .map(|index| SecretSummary {
            arn: format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:s{index}"),
            name: format!("/aurora-clone-manager/password/root-000-clone-{index}"),
            created_at: Some(now() - TimeDelta::days(1)),
            tags: [
                (tags::STACK.to_string(), STACK.to_string()),
                (
                    tags::CLUSTER.to_string(),
                    format!("root-{:03}-clone-{}", index % roots, index % 3),
                ),
            ]
            .into(),
        })
        .collect();
    let key_aliases: Vec<KeyAlias> = (0..50)
        .map(|index| KeyAlias {
            alias_name: format!("alias/{STACK}/clone-{index}"),
            key_id: Some(format!("key-{index}")),
            created_at: Some(now() - TimeDelta::days(1)),
        })
        .collect();
    let (provision_runs, maintenance_runs) = if options.quick { (20, 10) } else { (500, 200) };

    let mut provision_times = Vec::with_capacity(provision_runs);
    let mut plan_kind = String::new();
    for _ in 0..provision_runs {
        let started = Instant::now();
        let outcome = plan_provision(ProvisionInput {
            request: &request,
            inventory: &inventory,
            config: &config,
            placement: &placement,
            root_writer: Some(&root_writer),
            now: now(),
        });
        provision_times.push(started.elapsed());
        plan_kind = match std::hint::black_box(outcome) {
            Ok(ProvisionOutcome::Make(plan)) => format!("a clone of {}", plan.source.cluster_id),
            Ok(other) => format!("{other:?}"),
            Err(error) => format!("error: {error}"),
        };
    }
    let mut maintenance_times = Vec::with_capacity(maintenance_runs);
    let mut maintenance_kind = String::new();
    for _ in 0..maintenance_runs {
        let started = Instant::now();
        let plan = plan_maintenance(MaintenanceInput {
            inventory: &inventory,
            targets: &targets,
            config: &config,
            secrets: &secrets,
            key_aliases: &key_aliases,
            stray_keys: &[],
            waiting_clone_ids: &[],
            now: now(),
        });
        maintenance_times.push(started.elapsed());
        let plan = std::hint::black_box(plan);
        maintenance_kind = format!(
            "{} roots, {} copies to make",
            plan.roots.len(),
            plan.roots
                .iter()
                .map(|root| root.copies.len())
                .sum::<usize>()
        );
    }
    // Where plan_maintenance's time goes: fewer targets, no secrets.
    let breakdown_runs = if options.quick { 5 } else { 50 };
    let mut breakdown_rows = Vec::new();
    for (label, target_count, with_secrets) in [
        ("50 targets, no secrets or keys", roots, false),
        ("1 target, no secrets or keys", 1, false),
        ("no targets, 200 secrets and 50 key aliases", 0, true),
    ] {
        let mut times = Vec::with_capacity(breakdown_runs);
        for _ in 0..breakdown_runs {
            let started = Instant::now();
            let plan = plan_maintenance(MaintenanceInput {
                inventory: &inventory,
                targets: &targets[..target_count],
                config: &config,
                secrets: if with_secrets { &secrets } else { &[] },
                key_aliases: if with_secrets { &key_aliases } else { &[] },
                stray_keys: &[],
                waiting_clone_ids: &[],
                now: now(),
            });
            times.push(started.elapsed());
            std::hint::black_box(plan);
        }
        let (median, p95) = median_p95(&mut times);
        breakdown_rows.push(vec![
            format!("plan_maintenance, {label}"),
            breakdown_runs.to_string(),
            micros(median),
            micros(p95),
            String::new(),
        ]);
    }
    // Building the inventory (and its index) happens once per invocation, before any plan.
    let mut build_times = Vec::with_capacity(breakdown_runs);
    for _ in 0..breakdown_runs {
        let clusters = inventory.clusters().to_vec();
        let started = Instant::now();
        let built = Inventory::new(clusters);
        build_times.push(started.elapsed());
        std::hint::black_box(built);
    }
    let (build_median, build_p95) = median_p95(&mut build_times);
    breakdown_rows.push(vec![
        format!("building the inventory of {total} clusters (once per invocation)"),
        breakdown_runs.to_string(),
        micros(build_median),
        micros(build_p95),
        String::new(),
    ]);
    let (provision_median, provision_p95) = median_p95(&mut provision_times);
    let (maintenance_median, maintenance_p95) = median_p95(&mut maintenance_times);
    let mut text = format!(
        "## The planner alone on {total} clusters\n\n\
         A synthetic inventory: {roots} roots, each with 2 fresh copies and 6 clones of ours, \
         and {} unrelated clusters in 2,000 clone groups. Timed in this process, one call \
         at a time.\n\n",
        total - roots * 9,
    );
    text.push_str(&table(
        &["plan", "runs", "median", "p95", "plan made"],
        &[
            vec![
                "plan_provision (one clone)".to_string(),
                provision_runs.to_string(),
                micros(provision_median),
                micros(provision_p95),
                plan_kind,
            ],
            vec![
                format!("plan_maintenance ({roots} targets)"),
                maintenance_runs.to_string(),
                micros(maintenance_median),
                micros(maintenance_p95),
                maintenance_kind,
            ],
        ]
        .into_iter()
        .chain(breakdown_rows)
        .collect::<Vec<_>>(),
    ));
    text.push_str(
        "\nThe inventory is indexed when it is built (by identifier, clone group and tags: the \
         last row, paid once per invocation before any plan), so a plan looks clusters up \
         instead of scanning them: plan_maintenance grows with its targets, not with targets \
         × clusters. The middle rows split its time.\n",
    );
    report.section(&text);
    let limit = Duration::from_millis(10);
    report.verdict(
        "plan_provision on 10,000 clusters: under 10 ms",
        format!(
            "median {}, p95 {}",
            micros(provision_median),
            micros(provision_p95)
        ),
        provision_p95 < limit,
    );
    report.verdict(
        "plan_maintenance (50 roots) on 10,000 clusters: under 10 ms",
        format!(
            "median {}, p95 {}",
            micros(maintenance_median),
            micros(maintenance_p95)
        ),
        maintenance_p95 < limit,
    );
}

// ---------------------------------------------------------------------------------------
// Cold start of the release bootstrap.

struct Start {
    to_first_poll: Duration,
    rss_at_first_poll_kb: u64,
    peak_rss_kb: u64,
    answered: usize,
}

/// A field of /proc/<pid>/status in kB.
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Events the function answers without calling AWS (it has no endpoint to reach here).
fn offline_events(response_url: &str) -> Vec<Value> {
    vec![
        json!({"hello": "world"}),
        json!({
            "RequestType": "Create",
            "ResponseURL": response_url,
            "StackId": STACK_ID,
            "RequestId": "cold-start-1",
            "ResourceType": "Custom::AuroraClone",
            "LogicalResourceId": "ColdStartDb",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:acm", "SourceClusterId": "1-not-an-identifier"}
        }),
        json!({"action": "provision", "SourceClusterId": "prod_db", "dryRun": true}),
        json!({
            "version": "0", "id": "e1", "detail-type": "RDS DB Instance Event", "source": "aws.rds",
            "account": "123456789012", "time": "2026-11-01T09:10:00Z", "region": "us-east-1",
            "resources": ["arn:aws:rds:us-east-1:123456789012:db:x"],
            "detail": {"EventID": "RDS-EVENT-0001", "SourceIdentifier": "x", "SourceType": "DB_INSTANCE", "Message": "backup"}
        }),
        json!({"action": "maintain", "dryRun": "perhaps"}),
    ]
}

async fn one_start(bootstrap: &Path) -> Start {
    let runtime = runtime_api::runtime_api().await;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bootstrap)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "acm")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/acm")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Nothing listens here; the events below never reach AWS.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("STACK_NAME", STACK)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the bootstrap");
    let pid = child.id().expect("a running child");
    let first_poll = runtime.wait_first_poll(Duration::from_secs(30)).await;
    let rss_at_first_poll_kb = proc_status_kb(pid, "VmRSS:").unwrap_or(0);
    let response_url = format!("http://{}/cloudformation-response", runtime.address());
    let mut answered = 0;
    for event in offline_events(&response_url) {
        let id = runtime.invoke(event);
        runtime.result(&id, Duration::from_secs(30)).await;
        answered += 1;
    }
    let peak_rss_kb = proc_status_kb(pid, "VmHWM:").unwrap_or(0);
    child.start_kill().ok();
    child.wait().await.ok();
    Start {
        to_first_poll: first_poll.saturating_duration_since(started),
        rss_at_first_poll_kb,
        peak_rss_kb,
        answered,
    }
}

/// A bootstrap ready to run, and the temporary directory it was unpacked into, if any
/// (removed when this is dropped, also when the bench panics).
struct RunnableBootstrap {
    path: PathBuf,
    described: String,
    unpacked_into: Option<PathBuf>,
}

impl Drop for RunnableBootstrap {
    fn drop(&mut self) {
        if let Some(directory) = &self.unpacked_into {
            let _ = std::fs::remove_dir_all(directory);
        }
    }
}

/// The ELF machine of an executable, if it is one: `x86_64`, `aarch64` or a number.
fn elf_machine(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let machine = u16::from_le_bytes([*bytes.get(18)?, *bytes.get(19)?]);
    Some(match machine {
        0x3e => "x86_64".to_string(),
        0xb7 => "aarch64".to_string(),
        other => format!("machine {other:#x}"),
    })
}

/// The bootstrap to run: the file itself, or the one inside bootstrap.zip beside it (which
/// is all cargo-lambda writes with `--output-format zip`), unpacked to a temporary
/// directory; refused unless it is built for this machine.
fn bootstrap_to_run(bootstrap: &Path, zip: &Path) -> Result<RunnableBootstrap, String> {
    let runnable = if bootstrap.exists() {
        RunnableBootstrap {
            path: bootstrap.to_path_buf(),
            described: format!("`{}`", bootstrap.display()),
            unpacked_into: None,
        }
    } else if zip.exists() {
        let directory = std::env::temp_dir().join(format!("acm-bench-{}", std::process::id()));
        std::fs::create_dir_all(&directory).map_err(|error| error.to_string())?;
        let runnable = RunnableBootstrap {
            path: directory.join("bootstrap"),
            described: format!("The `bootstrap` inside `{}`", zip.display()),
            unpacked_into: Some(directory.clone()),
        };
        let unzipped = std::process::Command::new("unzip")
            .args(["-o", "-q"])
            .arg(zip)
            .arg("bootstrap")
            .arg("-d")
            .arg(&directory)
            .status()
            .map_err(|error| format!("could not run unzip: {error}"))?;
        if !unzipped.success() || !runnable.path.exists() {
            return Err(format!("{} holds no bootstrap", zip.display()));
        }
        runnable
    } else {
        return Err(format!(
            "neither {} nor bootstrap.zip beside it exists",
            bootstrap.display()
        ));
    };
    match elf_machine(&runnable.path) {
        Some(machine) if machine == std::env::consts::ARCH => Ok(runnable),
        Some(machine) => Err(format!(
            "{} is built for {machine} and this machine is {} (build.sh builds arm64 \
             unless ARCH=x86_64 is set)",
            runnable.described,
            std::env::consts::ARCH
        )),
        None => Err(format!(
            "{} is not an executable this bench can run",
            runnable.described
        )),
    }
}

fn bench_cold_start(report: &mut Report, options: &Options) {
    let zip = options.bootstrap.with_file_name("bootstrap.zip");
    let runnable = match bootstrap_to_run(&options.bootstrap, &zip) {
        Ok(runnable) => runnable,
        Err(reason) => {
            let text = format!(
                "## Lambda cold start\n\nSkipped: {reason}. Build it with \
                 `ARCH=x86_64 DRY_RUN=1 SKIP_TESTS=1 LAMBDA_S3_BUCKET=b LAMBDA_S3_PREFIX=p \
                 ./build.sh` (scripts/bench.sh does).\n"
            );
            report.section(&text);
            report
                .notes
                .push(format!("cold start not measured: {reason}"));
            return;
        }
    };
    let described = runnable.described.clone();
    let bootstrap = runnable.path.as_path();
    let starts_wanted = if options.quick { 5 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // One start to warm the page cache, not counted.
    runtime.block_on(one_start(bootstrap));
    let starts: Vec<Start> = (0..starts_wanted)
        .map(|_| runtime.block_on(one_start(bootstrap)))
        .collect();
    let mut times: Vec<Duration> = starts.iter().map(|start| start.to_first_poll).collect();
    let (median, p95) = median_p95(&mut times);
    let (min, max) = (times[0], times[times.len() - 1]);
    let mut peaks: Vec<u64> = starts.iter().map(|start| start.peak_rss_kb).collect();
    peaks.sort();
    let mut at_poll: Vec<u64> = starts
        .iter()
        .map(|start| start.rss_at_first_poll_kb)
        .collect();
    at_poll.sort();
    let peak_max = peaks[peaks.len() - 1];
    let mb = |kb: u64| format!("{:.1} MB", kb as f64 / 1024.0);
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|meta| format!("{:.2} MB ({} bytes)", meta.len() as f64 / 1e6, meta.len()))
            .unwrap_or_else(|_| "missing".to_string())
    };
    let answered = starts.iter().map(|start| start.answered).min().unwrap_or(0);
    let mut text = format!(
        "## Lambda cold start (release bootstrap)\n\n\
         {described} started {starts_wanted} times (after one uncounted start) under the Lambda \
         runtime API stand-in of tests/it/moto_harness/runtime_api.rs on 127.0.0.1, with the \
         environment Lambda sets. Cold start is the time from spawning the process to its \
         first `GET /runtime/invocation/next`. Memory is read from /proc/<pid>/status: VmRSS \
         at the first poll, and VmHWM (peak resident set) after it served {answered} events \
         that need no AWS call (an unknown event, a Create with a bad property answered \
         FAILED by HTTP PUT, a manual provision with a bad id, an RDS event it ignores, a \
         bad dry-run flag).\n\n",
    );
    text.push_str(&table(
        &["measure", "value"],
        &[
            vec!["spawn → first poll, median".to_string(), millis(median)],
            vec!["spawn → first poll, p95".to_string(), millis(p95)],
            vec![
                "spawn → first poll, min / max".to_string(),
                format!("{} / {}", millis(min), millis(max)),
            ],
            vec![
                "RSS at first poll, median".to_string(),
                mb(at_poll[at_poll.len() / 2]),
            ],
            vec![
                "peak RSS (VmHWM) after serving, median / max".to_string(),
                format!("{} / {}", mb(peaks[peaks.len() / 2]), mb(peak_max)),
            ],
            vec!["bootstrap size (unpacked)".to_string(), size(bootstrap)],
            vec!["bootstrap.zip size".to_string(), size(&zip)],
            vec![
                "bootstrap.zip built".to_string(),
                std::fs::metadata(&zip)
                    .and_then(|meta| meta.modified())
                    .map(|at| {
                        DateTime::<Utc>::from(at)
                            .format("%Y-%m-%d %H:%M UTC")
                            .to_string()
                    })
                    .unwrap_or_else(|_| "unknown".to_string()),
            ],
        ],
    ));
    report.section(&text);
    report.verdict(
        "cold start (spawn → first runtime API poll): under 50 ms",
        format!("median {}, p95 {}", millis(median), millis(p95)),
        median < Duration::from_millis(50),
    );
    report.verdict(
        "peak RSS of the release binary: under 30 MB",
        format!("{} (max of {starts_wanted} runs)", mb(peak_max)),
        peak_max < 30 * 1024,
    );
}

// ---------------------------------------------------------------------------------------
// The machine and the whole report.

fn first_line_with(path: &str, prefix: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find(|line| line.starts_with(prefix))
        .map(|line| {
            line.split_once(':')
                .map_or(line, |(_, value)| value)
                .trim()
                .to_string()
        })
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|count| count.get().to_string())
        .unwrap_or_else(|_| "?".to_string());
    let cpu =
        first_line_with("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".to_string());
    let memory = first_line_with("/proc/meminfo", "MemTotal")
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let rustc = command_output("rustc", &["--version"]).unwrap_or_default();
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let dirty = command_output("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    table(
        &["machine", "value"],
        &[
            vec!["cores (nproc)".to_string(), cores],
            vec!["CPU".to_string(), cpu],
            vec!["memory".to_string(), memory],
            vec!["kernel".to_string(), format!("Linux {kernel}")],
            vec!["rustc".to_string(), rustc],
            vec![
                "code".to_string(),
                format!(
                    "commit {commit}{}",
                    if dirty {
                        " with uncommitted changes"
                    } else {
                        ""
                    }
                ),
            ],
            vec!["load average at start (1, 5, 15 min)".to_string(), load],
        ],
    )
}

fn main() {
    let options = Options::parse();
    let started_at = Utc::now();
    let machine = machine();
    let mut report = Report::default();
    println!("# Benchmarks\n\n{machine}");
    if options.runs("calls") {
        bench_calls(&mut report);
    }
    if options.runs("refresh") {
        bench_refresh(&mut report);
    }
    if options.runs("latency") {
        bench_latency(&mut report, &options);
    }
    if options.runs("planner") {
        bench_planner(&mut report, &options);
    }
    if options.runs("cold-start") {
        bench_cold_start(&mut report, &options);
    }
    let verdict_rows: Vec<Vec<String>> = report
        .verdicts
        .iter()
        .map(|verdict| {
            vec![
                verdict.target.clone(),
                verdict.measured.clone(),
                if verdict.met { "met" } else { "**not met**" }.to_string(),
            ]
        })
        .collect();
    let summary = table(&["target (issue 7)", "measured", "verdict"], &verdict_rows);
    println!("## Targets\n\n{summary}");
    for note in &report.notes {
        println!("note: {note}");
    }
    let Some(path) = &options.markdown else {
        return;
    };
    let mut markdown = format!(
        "# Benchmarks\n\n\
         Measured {} ({} build of `benches/bench.rs`{}). Reproduce with \
         `scripts/bench.sh`, which builds the Lambda bootstrap.zip when it is missing, older \
         than the sources or not built for x86_64 (`ARCH=x86_64 DRY_RUN=1 SKIP_TESTS=1 LAMBDA_S3_BUCKET=b LAMBDA_S3_PREFIX=p \
         ./build.sh`) and runs `cargo bench --bench bench -- --markdown BENCHMARKS.md`, \
         which writes this file. All numbers below are from that one run; the targets are \
         judged by reading them, never by assertions in tests.\n\n",
        started_at.format("%Y-%m-%d %H:%M UTC"),
        if cfg!(debug_assertions) {
            "a debug"
        } else {
            "the optimised bench-profile"
        },
        if options.quick { ", with --quick" } else { "" },
    );
    let _ = write!(
        markdown,
        "## Machine\n\n{machine}\nThe machine is shared: other builds may run at the same \
         time (see the load average), which can only make the times worse.\n\n\
         ## Targets\n\n{summary}\n{}",
        report.sections
    );
    for note in &report.notes {
        let _ = writeln!(markdown, "\nNote: {note}");
    }
    match std::fs::write(path, markdown) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(error) => {
            eprintln!("bench: could not write {}: {error}", path.display());
            std::process::exit(1);
        }
    }
}
