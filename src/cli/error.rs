//! Why a command failed, in plain words with the fix, as printed on standard error.

use std::error::Error as StdError;
use std::fmt;

use crate::aws::{AwsError, AwsErrorKind};

/// A failed command: the message says what went wrong and, where known, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    message: String,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
        }
    }

    /// A failed AWS call while doing `doing`, with the usual fix for its kind of failure.
    pub fn aws(doing: &str, error: &AwsError) -> Failure {
        Failure::new(format!("{doing}: {}", describe_aws_error(error)))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An AWS error with its deepest cause (the SDK's summary hides it: "could not reach the
/// service" is a refused connection or missing credentials) and the usual fix.
pub fn describe_aws_error(error: &AwsError) -> String {
    let mut text = error.to_string();
    if let Some(cause) = deepest_cause(error)
        && !text.contains(&cause)
    {
        text.push_str(&format!(" ({cause})"));
    }
    if let Some(fix) = fix_for(error.kind()) {
        text.push_str("; ");
        text.push_str(fix);
    }
    text
}

fn fix_for(kind: AwsErrorKind) -> Option<&'static str> {
    match kind {
        AwsErrorKind::Denied => {
            Some("check the credentials in use (--profile, AWS_PROFILE) and that they may do this")
        }
        AwsErrorKind::Throttled => Some("AWS is throttling; try again in a minute"),
        AwsErrorKind::Other => Some(
            "check the network, --region and --endpoint-url, and that AWS credentials are available",
        ),
        _ => None,
    }
}

/// The innermost error message below `error`, if it has any source.
fn deepest_cause(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut current = error.source()?;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_call_suggests_checking_the_credentials() {
        let error = AwsError::new(AwsErrorKind::Denied, "DescribeDBClusters", "not allowed");
        let text = Failure::aws("reading clusters", &error).to_string();
        assert!(text.starts_with("reading clusters: DescribeDBClusters failed: not allowed"));
        assert!(text.contains("--profile"), "{text}");
    }

    #[test]
    fn a_missing_resource_needs_no_generic_fix() {
        let error = AwsError::new(AwsErrorKind::NotFound, "DescribeDBClusters", "gone");
        assert_eq!(
            describe_aws_error(&error),
            "DescribeDBClusters failed: gone"
        );
    }
}
