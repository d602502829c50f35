//! `--output github`: a command's result as GitHub Actions step outputs, appended to the
//! file that the runner names in `GITHUB_OUTPUT`, as `name=value` lines (a value with a
//! line break in the heredoc form, between lines of a random delimiter). The runner turns
//! that file into `steps.<id>.outputs.<name>` after the step.
//!
//! Only `provision` and `delete` write outputs. Nothing is written unless asked for: a
//! step that runs the CLI for another reason must not set outputs behind its back, so the
//! presence of `GITHUB_OUTPUT` alone changes nothing. No output ever carries a password:
//! the clone's password stays in its secret, and the outputs name the secret's ARN.
//!
//! File format: <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter>
//! and, for values with line breaks, <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#multiline-strings>.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::error::Failure;

/// The environment variable through which the Actions runner names the step's output file.
pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";

/// Where `--output github` writes: the file named by `GITHUB_OUTPUT`.
#[derive(Debug, Clone)]
pub struct StepOutputs {
    path: PathBuf,
}

impl StepOutputs {
    /// The step's output file, or why there is none. Checked before a command changes
    /// anything, so that a missing variable never leaves a clone nobody hears of.
    pub fn from_env() -> Result<StepOutputs, Failure> {
        match std::env::var_os(GITHUB_OUTPUT) {
            Some(path) if !path.is_empty() => Ok(StepOutputs {
                path: PathBuf::from(path),
            }),
            _ => Err(Failure::new(format!(
                "--output github writes GitHub Actions step outputs to the file named by \
                 {GITHUB_OUTPUT}, which is not set; run it in an Actions step, or set \
                 {GITHUB_OUTPUT} to a file"
            ))),
        }
    }

    /// Appends the outputs to the file (the runner may have put other steps' lines there
    /// already, and other commands of the same step may add more).
    pub fn write(&self, outputs: &[(String, String)]) -> Result<(), Failure> {
        let text = render(outputs);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|error| self.failure(&error))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|error| self.failure(&error))
    }

    fn failure(&self, error: &std::io::Error) -> Failure {
        Failure::new(format!(
            "could not write the step outputs to {} ({GITHUB_OUTPUT}): {error}",
            self.path.display()
        ))
    }
}

/// The outputs of `provision`: how to reach the clone and where its password is kept.
/// `host`, `port`, `username` and `database` are empty until the clone is ready;
/// `secret-arn` is empty when the clone keeps its source's password; `reader-host`
/// appears only when the clone has a reader endpoint.
pub fn provision_outputs(
    cluster_id: &str,
    ready: bool,
    clone_outputs: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let get = |key: &str| clone_outputs.get(key).cloned().unwrap_or_default();
    let mut outputs = vec![
        ("cluster-id".to_string(), cluster_id.to_string()),
        ("ready".to_string(), ready.to_string()),
        ("host".to_string(), get("Endpoint")),
        ("port".to_string(), get("Port")),
        ("username".to_string(), get("MasterUsername")),
        ("database".to_string(), get("DatabaseName")),
        ("secret-arn".to_string(), get("PasswordSecretArn")),
    ];
    let reader = get("ReaderEndpoint");
    if !reader.is_empty() {
        outputs.push(("reader-host".to_string(), reader));
    }
    outputs
}

/// The outputs of `delete`: which cluster, and whether there was one to delete.
pub fn delete_outputs(cluster_id: &str, deleted: bool) -> Vec<(String, String)> {
    vec![
        ("cluster-id".to_string(), cluster_id.to_string()),
        ("deleted".to_string(), deleted.to_string()),
    ]
}

/// The outputs as the runner reads them: `name=value`, or for a value with a line break
/// `name<<DELIMITER`, the value, and the delimiter on a line of its own.
fn render(outputs: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in outputs {
        if value.contains('\n') || value.contains('\r') {
            let delimiter = delimiter_not_in(value);
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    text
}

/// A random delimiter that does not occur in the value, so that no value can end its own
/// heredoc early and set other outputs.
fn delimiter_not_in(value: &str) -> String {
    loop {
        let delimiter = format!("ghadelimiter_{:032x}", rand::random::<u128>());
        if !value.contains(&delimiter) {
            return delimiter;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn single_line_values_are_name_equals_value_lines() {
        let text = render(&pairs(&[
            ("host", "db.example"),
            ("port", "5432"),
            ("x", ""),
        ]));
        assert_eq!(text, "host=db.example\nport=5432\nx=\n");
    }

    #[test]
    fn a_value_with_a_line_break_is_written_between_random_delimiters() {
        let value = "first\nsecond\nreader-host=evil";
        let text = render(&pairs(&[("note", value)]));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let delimiter = lines[0].strip_prefix("note<<").expect("heredoc start");
        assert!(delimiter.starts_with("ghadelimiter_"), "{delimiter}");
        assert_eq!(lines[1..4].join("\n"), value);
        assert_eq!(lines[4], delimiter);
        let again = render(&pairs(&[("note", value)]));
        assert_ne!(text, again, "the delimiter is random per write");
    }

    #[test]
    fn provision_outputs_name_the_secret_arn_and_add_a_reader_host_only_when_there_is_one() {
        let clone = BTreeMap::from([
            ("Endpoint".to_string(), "c1.cluster.example".to_string()),
            ("ReaderEndpoint".to_string(), String::new()),
            ("Port".to_string(), "5432".to_string()),
            ("MasterUsername".to_string(), "postgres".to_string()),
            ("DatabaseName".to_string(), "app".to_string()),
            ("PasswordSecret".to_string(), "/p/c1".to_string()),
            (
                "PasswordSecretArn".to_string(),
                "arn:aws:secretsmanager:x".to_string(),
            ),
        ]);
        let outputs: BTreeMap<String, String> =
            provision_outputs("c1", true, &clone).into_iter().collect();
        assert_eq!(outputs["cluster-id"], "c1");
        assert_eq!(outputs["host"], "c1.cluster.example");
        assert_eq!(outputs["port"], "5432");
        assert_eq!(outputs["secret-arn"], "arn:aws:secretsmanager:x");
        assert_eq!(outputs["ready"], "true");
        assert!(!outputs.contains_key("reader-host"));

        let mut with_reader = clone.clone();
        with_reader.insert("ReaderEndpoint".to_string(), "c1.ro.example".to_string());
        let outputs: BTreeMap<String, String> = provision_outputs("c1", true, &with_reader)
            .into_iter()
            .collect();
        assert_eq!(outputs["reader-host"], "c1.ro.example");
    }

    #[test]
    fn outputs_are_appended_after_what_the_file_already_holds() {
        let path =
            std::env::temp_dir().join(format!("acm-github-output-{:016x}", rand::random::<u64>()));
        std::fs::write(&path, "earlier=1\n").unwrap();
        let outputs = StepOutputs { path: path.clone() };
        outputs.write(&delete_outputs("c1", true)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text, "earlier=1\ncluster-id=c1\ndeleted=true\n");
    }
}
