//! The layers are crates of one workspace, so Cargo keeps most imports pointing down; this
//! checks what Cargo cannot see. The crates' own dependency lists are the first thing:
//! the model depends on no other crate of ours, no SDK and no async runtime; the planning
//! crate on the model only; the port crate on the model only. Inside a crate: the workflows
//! (`src/run/`) never reach the entry points (`lambda/`, `cli/`), the fake never uses the
//! SDK adapters, the planner reads no environment, and faults live in the hook, not in the
//! fake.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn src() -> PathBuf {
    repository().join("src")
}

/// What the files of each folder of this crate may name after `crate::`.
fn allowed(layer: &str) -> BTreeSet<&'static str> {
    let lower = ["aws", "model", "plan", "input", "backoff", "metrics"];
    match layer {
        "run" => ["run"].into_iter().chain(lower).collect(),
        other => panic!("no rule for layer {other}"),
    }
}

/// Every top-level module a source text names through `crate::`, with grouped imports
/// (`use crate::{a, b::c}`) read member by member.
fn crate_modules(text: &str) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `aurora_clone_manager::` or `some_crate::` are other paths, not ours.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let name: String = member
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    modules.insert(name);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            modules.insert(name);
        }
    }
    modules
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `file: crate::module` for every module a layer's files name but may not.
fn violations(layer: &str, files: &[PathBuf]) -> Vec<String> {
    let allowed = allowed(layer);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for module in crate_modules(&text) {
            if !allowed.contains(module.as_str()) {
                found.push(format!("{}: crate::{module}", file.display()));
            }
        }
    }
    found
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let files = rust_files(dir);
    assert!(!files.is_empty(), "{} has no files", dir.display());
    files
}

/// The `[dependencies]` of one crate of the workspace, by name.
fn dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repository().join(manifest)).unwrap();
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && !line.is_empty() && !line.starts_with('#') {
            let name = line
                .split(['=', '.', ' '])
                .next()
                .unwrap_or_default()
                .to_string();
            names.push(name);
        }
    }
    assert!(!names.is_empty(), "{manifest} lists no dependencies");
    names
}

fn ours(dependencies: &[String]) -> Vec<&str> {
    dependencies
        .iter()
        .map(String::as_str)
        .filter(|name| name.starts_with("aurora-clone-"))
        .collect()
}

fn assert_no_sdk_and_no_runtime(manifest: &str, dependencies: &[String]) {
    for name in dependencies {
        assert!(
            !name.starts_with("aws-") && name != "tokio" && name != "async-trait",
            "{manifest} depends on {name}"
        );
    }
}

#[test]
fn the_model_depends_on_no_other_layer_no_sdk_and_no_async_runtime() {
    let manifest = "crates/model/Cargo.toml";
    let dependencies = dependencies(manifest);
    assert_eq!(ours(&dependencies), Vec::<&str>::new());
    assert_no_sdk_and_no_runtime(manifest, &dependencies);
}

#[test]
fn the_planning_crate_depends_on_the_model_only_with_no_sdk_and_no_async_runtime() {
    let manifest = "crates/planning/Cargo.toml";
    let dependencies = dependencies(manifest);
    assert_eq!(ours(&dependencies), ["aurora-clone-model"]);
    assert_no_sdk_and_no_runtime(manifest, &dependencies);
}

#[test]
fn the_port_crate_depends_on_the_model_and_never_on_the_planner() {
    let dependencies = dependencies("crates/aws/Cargo.toml");
    assert_eq!(ours(&dependencies), ["aurora-clone-model"]);
}

#[test]
fn the_planner_reads_no_environment_and_no_clock() {
    for file in files_under(&repository().join("crates/planning/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        // The golden-plan test reads BLESS from the environment; it is compiled for tests only.
        let test_only = file.ends_with("plan/golden.rs");
        for forbidden in ["std::env", "Utc::now", "SystemTime::now", "Instant::now"] {
            if test_only && forbidden == "std::env" {
                continue;
            }
            assert!(
                !text.contains(forbidden),
                "{} names {forbidden}",
                file.display()
            );
        }
    }
}

#[test]
fn the_fake_never_uses_the_sdk_adapters() {
    for file in files_under(&repository().join("crates/aws/src/fake")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(&["use crate::", "sdk"].concat())
                && !text.contains(&["crate::", "sdk::"].concat())
                && !text.contains(&["aws_", "sdk_"].concat()),
            "{} uses the SDK",
            file.display()
        );
    }
}

#[test]
fn the_workflows_never_call_up_into_the_entry_points() {
    assert_eq!(
        violations("run", &files_under(&src().join("run"))),
        Vec::<String>::new()
    );
}

#[test]
fn the_machinery_never_reaches_a_workflow() {
    for file in files_under(&src().join("run/machinery")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains(&["crate::run::", "workflows"].concat()),
            "{} reaches a workflow",
            file.display()
        );
    }
}

#[test]
fn the_root_of_src_holds_only_the_entry_files_and_base_modules() {
    let mut names: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["backoff.rs", "lib.rs", "main.rs", "metrics.rs"]);
}

#[test]
fn every_folder_says_in_its_header_what_it_may_import() {
    for folder in [
        "src/cli",
        "src/lambda",
        "src/run",
        "src/run/machinery",
        "src/run/workflows",
        "crates/planning/src/input",
        "crates/planning/src/plan",
        "crates/aws/src/fake",
        "crates/aws/src/sdk",
    ] {
        let header = std::fs::read_to_string(repository().join(folder).join("mod.rs")).unwrap();
        assert!(header.starts_with("//!"), "{folder}/mod.rs has no header");
        let doc: String = header
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            doc.contains("May import") && doc.contains("Must not import"),
            "{folder}/mod.rs does not say what it may and must not import"
        );
    }
}

#[test]
fn the_scanner_sees_an_upward_import_in_every_spelling() {
    let file = std::env::temp_dir().join(format!("layering-{}.rs", std::process::id()));
    std::fs::write(
        &file,
        "use crate::lambda::handler;\nuse crate::{plan::pool, cli};\nfn f() { crate::cli::run(); }\n\
         // aurora_clone_manager::lambda is another crate's path\n",
    )
    .unwrap();
    let found = violations("run", std::slice::from_ref(&file));
    std::fs::remove_file(&file).unwrap();
    let modules: Vec<&str> = found
        .iter()
        .map(|line| line.rsplit("crate::").next().unwrap())
        .collect();
    assert_eq!(modules, ["cli", "lambda"]);
}

#[test]
fn the_finisher_and_provisioning_are_siblings_over_the_executor() {
    for (file, sibling) in [
        ("finish.rs", "run::workflows::provision"),
        ("provision.rs", "run::workflows::finish"),
    ] {
        let text = std::fs::read_to_string(src().join("run/workflows").join(file)).unwrap();
        assert!(
            !text.contains(&format!("crate::{sibling}")),
            "src/run/workflows/{file} calls into {sibling}"
        );
    }
    let executor = std::fs::read_to_string(src().join("run/machinery/execute.rs")).unwrap();
    for workflow in ["run::workflows::provision", "run::workflows::finish"] {
        assert!(
            !executor.contains(&format!("crate::{workflow}")),
            "the executor calls up into {workflow}"
        );
    }
}

#[test]
fn status_reads_the_config_through_the_inventory_loader_not_through_maintenance() {
    let status = std::fs::read_to_string(src().join("run/workflows/status.rs")).unwrap();
    assert!(!status.contains("crate::run::workflows::maintain"));
    assert!(status.contains("load_maintenance_config"));
}

#[test]
fn faults_are_injected_by_the_hook_around_the_ports_not_by_the_fake() {
    for file in files_under(&repository().join("crates/aws/src/fake")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for own_faults in [
            "enum Fault",
            "fn inject",
            "fn halt_after_mutations",
            "latency:",
        ] {
            assert!(
                !text.contains(own_faults),
                "{} has {own_faults}: faults belong in the aws crate's failure.rs",
                file.display()
            );
        }
    }
    let bench = std::fs::read_to_string(repository().join("benches/bench.rs")).unwrap();
    assert!(
        bench.contains("faults.wrap("),
        "the bench does not inject through the hook"
    );
}
