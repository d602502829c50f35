//! The one error type every port returns, with the AWS failure already classified.
//!
//! SDK errors are mapped into an [`AwsError`] exactly once, in the SDK adapters, so the rest
//! of the code asks `error.kind()` instead of matching error codes or strings.

use std::error::Error as StdError;
use std::fmt;

/// What kind of failure an AWS call met, decided once where SDK errors are mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AwsErrorKind {
    /// The resource does not exist (or no longer exists).
    NotFound,
    /// A resource with that name or identifier already exists.
    AlreadyExists,
    /// The request was throttled; retrying later may succeed.
    Throttled,
    /// The caller is not allowed to do this.
    Denied,
    /// The resource is not in a state that allows the operation (for example still `creating`).
    InvalidState,
    /// The request itself was rejected as invalid; retrying will not help.
    InvalidRequest,
    /// Anything else: service faults, dispatch and timeout failures.
    Other,
}

/// A failed AWS call: which operation, what kind of failure, the service's message, and the
/// underlying SDK error as the source.
#[derive(Debug)]
pub struct AwsError {
    kind: AwsErrorKind,
    operation: &'static str,
    code: Option<String>,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl AwsError {
    /// An error without an underlying SDK error; used by the in-process fakes.
    pub fn new(kind: AwsErrorKind, operation: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            kind,
            operation,
            code: None,
            message: message.into(),
            source: None,
        }
    }

    /// An error with the AWS error code a service would answer, without an underlying SDK
    /// error; used by the in-process fakes and the AWS rules.
    pub fn with_code(
        kind: AwsErrorKind,
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            kind,
            operation,
            code: Some(code.into()),
            message: message.into(),
            source: None,
        }
    }

    /// An error that keeps the SDK error it was mapped from.
    pub fn from_source(
        kind: AwsErrorKind,
        operation: &'static str,
        code: Option<String>,
        message: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        AwsError {
            kind,
            operation,
            code,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn kind(&self) -> AwsErrorKind {
        self.kind
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }

    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == AwsErrorKind::NotFound
    }

    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            AwsErrorKind::Throttled | AwsErrorKind::InvalidState | AwsErrorKind::Other
        )
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl StdError for AwsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

/// Classifies an AWS error code into a kind. The codes come from the services' API references;
/// anything unknown is `Other`, which callers treat as retryable.
pub fn classify_error_code(code: &str, http_status: Option<u16>) -> AwsErrorKind {
    const NOT_FOUND: &[&str] = &[
        "DBClusterNotFoundFault",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "ParameterNotFound",
        "ParameterVersionNotFound",
        "ResourceNotFoundException",
        "NotFoundException",
        "DBClusterSnapshotNotFoundFault",
    ];
    const ALREADY_EXISTS: &[&str] = &[
        "DBClusterAlreadyExistsFault",
        "DBInstanceAlreadyExists",
        "DBInstanceAlreadyExistsFault",
        "ParameterAlreadyExists",
        "ResourceExistsException",
        "AlreadyExistsException",
        "DBClusterSnapshotAlreadyExistsFault",
    ];
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "TooManyUpdates",
    ];
    const DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "KMSAccessDeniedFault",
    ];
    const INVALID_STATE: &[&str] = &[
        "InvalidDBClusterStateFault",
        "InvalidDBInstanceState",
        "InvalidDBInstanceStateFault",
        "KMSInvalidStateException",
        "InvalidRequestException",
        "ConflictException",
        "ConcurrentModificationException",
    ];
    const INVALID_REQUEST: &[&str] = &[
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidParameterException",
        "ValidationException",
        "ValidationError",
        "MissingParameter",
        "MalformedPolicyDocumentException",
        "InvalidArnException",
        "TagException",
        "InvalidAliasNameException",
        "ParameterPatternMismatchException",
        "HierarchyLevelLimitExceededException",
        "InvalidRestoreFault",
        "StorageQuotaExceeded",
        "DBClusterQuotaExceededFault",
        "InstanceQuotaExceeded",
        "LimitExceededException",
        "InsufficientDBClusterCapacityFault",
        "InsufficientDBInstanceCapacity",
        "DBSubnetGroupNotFoundFault",
        "DBClusterParameterGroupNotFound",
        "DBParameterGroupNotFound",
        "InvalidVPCNetworkStateFault",
        "InvalidSubnet",
    ];
    if NOT_FOUND.contains(&code) {
        AwsErrorKind::NotFound
    } else if ALREADY_EXISTS.contains(&code) {
        AwsErrorKind::AlreadyExists
    } else if THROTTLED.contains(&code) || http_status == Some(429) {
        AwsErrorKind::Throttled
    } else if DENIED.contains(&code) || http_status == Some(403) {
        AwsErrorKind::Denied
    } else if INVALID_STATE.contains(&code) {
        AwsErrorKind::InvalidState
    } else if INVALID_REQUEST.contains(&code) {
        AwsErrorKind::InvalidRequest
    } else {
        AwsErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_the_kind_callers_decide_on() {
        assert_eq!(
            classify_error_code("DBClusterNotFoundFault", Some(404)),
            AwsErrorKind::NotFound
        );
        assert_eq!(
            classify_error_code("DBClusterAlreadyExistsFault", Some(400)),
            AwsErrorKind::AlreadyExists
        );
        assert_eq!(
            classify_error_code("Throttling", Some(400)),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify_error_code("Whatever", Some(429)),
            AwsErrorKind::Throttled
        );
        assert_eq!(
            classify_error_code("AccessDenied", Some(403)),
            AwsErrorKind::Denied
        );
        assert_eq!(
            classify_error_code("InvalidDBClusterStateFault", Some(400)),
            AwsErrorKind::InvalidState
        );
        assert_eq!(
            classify_error_code("InternalFailure", Some(500)),
            AwsErrorKind::Other
        );
    }

    #[test]
    fn display_names_the_operation_code_and_message_and_keeps_the_source() {
        let source = std::io::Error::other("socket closed");
        let error = AwsError::from_source(
            AwsErrorKind::Other,
            crate::operations::RDS_DESCRIBE_DB_CLUSTERS.name,
            Some("InternalFailure".into()),
            "try again",
            source,
        );
        assert_eq!(
            error.to_string(),
            "rds:DescribeDBClusters failed (InternalFailure): try again"
        );
        assert!(StdError::source(&error).is_some());
        assert!(error.is_retryable());
    }
}
