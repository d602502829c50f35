//! The deployment and the binary agree: every environment variable template.yaml gives the
//! function is one the configuration reads, and the defaults it passes are accepted.

use std::cell::RefCell;
use std::collections::BTreeSet;

use aurora_clone_manager::model::config::Config;

/// The keys of the function's `Environment: Variables:` block.
fn template_variables() -> Vec<String> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let mut lines = template
        .lines()
        .skip_while(|line| line.trim() != "Variables:");
    let header = lines
        .next()
        .expect("the function has environment variables");
    let indent = |line: &str| line.len() - line.trim_start().len();
    let block_indent = indent(header);
    let mut names = Vec::new();
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if indent(line) <= block_indent {
            break;
        }
        if indent(line) == block_indent + 2
            && let Some((name, _)) = line.trim().split_once(':')
        {
            names.push(name.to_string());
        }
    }
    names
}

#[test]
fn every_variable_the_template_sets_is_read_by_the_configuration() {
    let asked = RefCell::new(BTreeSet::new());
    Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_string());
        match name {
            "STACK_NAME" => Some("acm".to_string()),
            "STATE_TABLE" => Some("acm-StateTable-1A2B3C".to_string()),
            _ => None,
        }
    })
    .unwrap();
    let variables = template_variables();
    assert!(variables.len() >= 10, "found {variables:?}");
    for variable in &variables {
        assert!(
            asked.borrow().contains(variable),
            "template sets {variable}, which the binary never reads"
        );
    }
}

#[test]
fn the_template_defaults_are_valid_configuration() {
    let defaults = [
        ("STACK_NAME", "aurora-clone-manager"),
        ("STATE_TABLE", "aurora-clone-manager-StateTable-1A2B3C"),
        ("MAX_COPY_AGE", "P3D"),
        ("MAX_CLONES_PER_SOURCE", "15"),
        ("DEFAULT_SECRET_PREFIX", "/aurora-clone-manager/"),
        ("ALLOWED_SECRET_PREFIXES", "/aurora-clone-manager/,,,"),
        ("DEFAULT_KMS_KEY_ID", ""),
        ("COPY_INSTANCE_CLASS", "db.t4g.medium"),
        (
            "MAINTENANCE_CONFIG_PARAMETER",
            "/aurora-clone-manager/maintenance-config",
        ),
        ("POLL_INTERVAL_SECONDS", "15"),
        ("READY_TIMEOUT", "PT50M"),
        ("LOG_LEVEL", "info"),
        ("EVENT_BUS_NAME", "default"),
        ("RETRY_MODE", "standard"),
        ("RETRY_MAX_ATTEMPTS", "8"),
    ];
    let config = Config::from_lookup(|name| {
        defaults
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
    .unwrap();
    assert_eq!(
        config.allowed_secret_prefixes,
        vec!["/aurora-clone-manager/"]
    );
    assert_eq!(config.default_kms_key_id, None);
    for days in ["3", "P3D", "PT12H", "P1DT6H", "P2W"] {
        let config = Config::from_lookup(|name| match name {
            "STACK_NAME" => Some("acm".into()),
            "STATE_TABLE" => Some("acm-StateTable-1A2B3C".into()),
            "MAX_COPY_AGE" => Some(days.into()),
            _ => None,
        });
        assert!(
            config.is_ok(),
            "MaxCopyAge {days} passes the template's pattern but not the binary"
        );
    }
}
