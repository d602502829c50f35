//! The folders of `src/` are layers and imports point down only. This reads the sources
//! and fails when a file names a module of a layer it must not reach: the planner and
//! the input parsers must stay free of the workflows, the ports must stay free of the
//! planner (so a bug in a planner rule cannot hide in the fake that is meant to catch it),
//! and a base module at the root of `src/` imports only other base modules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The files at the root of `src/`: the two entry files and the base modules.
const ROOT_FILES: &[&str] = &[
    "main.rs",
    "lib.rs",
    "backoff.rs",
    "clock.rs",
    "config.rs",
    "metrics.rs",
    "text.rs",
    "time.rs",
];

/// The base modules, which any layer may import.
const BASE: &[&str] = &["backoff", "clock", "config", "metrics", "text", "time"];

/// What the files of each layer may name after `crate::`.
fn allowed(layer: &str) -> BTreeSet<&'static str> {
    match layer {
        // Pure: no clock, no metrics, no retries; aws/ only for the types a plan is made of.
        "plan" => ["plan", "aws", "config", "text", "time"].into(),
        "input" => ["input", "plan", "config", "text", "time"].into(),
        "aws" => ["aws"].into_iter().chain(BASE.iter().copied()).collect(),
        "run" => ["run", "input", "plan", "aws"]
            .into_iter()
            .chain(BASE.iter().copied())
            .collect(),
        "base" => BASE.iter().copied().collect(),
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

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
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

fn layer_files(layer: &str) -> Vec<PathBuf> {
    let files = rust_files(&src().join(layer));
    assert!(!files.is_empty(), "src/{layer} has no files");
    files
}

#[test]
fn the_planner_imports_only_the_base_modules_and_aws_types() {
    assert_eq!(
        violations("plan", &layer_files("plan")),
        Vec::<String>::new()
    );
}

#[test]
fn the_planner_uses_no_port_and_no_adapter() {
    for file in layer_files("plan") {
        let text = std::fs::read_to_string(&file).unwrap();
        // The golden-plan test reads BLESS from the environment; it is compiled for tests only.
        let test_only = file.ends_with("plan/golden.rs");
        for forbidden in ["aws::sdk", "aws::fake", "aws::Ports", "clock::", "std::env"] {
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
fn input_parsing_imports_only_the_planner_and_the_base_modules() {
    assert_eq!(
        violations("input", &layer_files("input")),
        Vec::<String>::new()
    );
}

#[test]
fn the_ports_and_the_fake_import_nothing_from_the_planner_or_the_workflows() {
    assert_eq!(violations("aws", &layer_files("aws")), Vec::<String>::new());
}

#[test]
fn the_workflows_never_call_up_into_the_entry_points() {
    assert_eq!(violations("run", &layer_files("run")), Vec::<String>::new());
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
    let mut expected: Vec<String> = ROOT_FILES.iter().map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
    let base: Vec<PathBuf> = BASE
        .iter()
        .map(|name| src().join(format!("{name}.rs")))
        .collect();
    assert_eq!(violations("base", &base), Vec::<String>::new());
}

#[test]
fn every_folder_says_in_its_header_what_it_may_import() {
    for folder in [
        "aws", "aws/fake", "aws/sdk", "cli", "input", "lambda", "plan", "run",
    ] {
        let header = std::fs::read_to_string(src().join(folder).join("mod.rs")).unwrap();
        assert!(
            header.starts_with("//!"),
            "src/{folder}/mod.rs has no header"
        );
        let doc: String = header
            .lines()
            .take_while(|line| line.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            doc.contains("May import") && doc.contains("Must not import"),
            "src/{folder}/mod.rs does not say what it may and must not import"
        );
    }
}

#[test]
fn the_scanner_sees_an_upward_import_in_every_spelling() {
    let file = std::env::temp_dir().join(format!("layering-{}.rs", std::process::id()));
    std::fs::write(
        &file,
        "use crate::run::finish;\nuse crate::{plan::pool, lambda};\nfn f() { crate::cli::run(); }\n\
         // aurora_clone_manager::run is another crate's path\n",
    )
    .unwrap();
    let found = violations("plan", std::slice::from_ref(&file));
    std::fs::remove_file(&file).unwrap();
    let modules: Vec<&str> = found
        .iter()
        .map(|line| line.rsplit("crate::").next().unwrap())
        .collect();
    assert_eq!(modules, ["cli", "lambda", "run"]);
}

#[test]
fn the_finisher_and_provisioning_are_siblings_over_the_executor() {
    for (file, sibling) in [
        ("finish.rs", "run::provision"),
        ("provision.rs", "run::finish"),
    ] {
        let text = std::fs::read_to_string(src().join("run").join(file)).unwrap();
        assert!(
            !text.contains(&format!("crate::{sibling}")),
            "src/run/{file} calls into {sibling}"
        );
    }
    let executor = std::fs::read_to_string(src().join("run/execute.rs")).unwrap();
    for workflow in ["run::provision", "run::finish"] {
        assert!(
            !executor.contains(&format!("crate::{workflow}")),
            "the executor calls up into {workflow}"
        );
    }
}

#[test]
fn status_reads_the_config_through_the_inventory_loader_not_through_maintenance() {
    let status = std::fs::read_to_string(src().join("run/status.rs")).unwrap();
    assert!(!status.contains("crate::run::maintain"));
    assert!(status.contains("load_maintenance_config"));
}

#[test]
fn faults_are_injected_by_the_wrapper_around_the_ports_not_by_the_fake() {
    for file in rust_files(&src().join("aws/fake")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for own_faults in [
            "enum Fault",
            "fn inject",
            "fn halt_after_mutations",
            "latency:",
        ] {
            assert!(
                !text.contains(own_faults),
                "{} has {own_faults}: faults belong in aws/failure.rs",
                file.display()
            );
        }
    }
    let bench =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bench.rs"))
            .unwrap();
    assert!(
        bench.contains("faults.wrap("),
        "the bench does not inject through the wrapper"
    );
}
