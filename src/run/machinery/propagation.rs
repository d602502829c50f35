//! Waiting out IAM propagation: a principal created moments ago (a role in the same
//! template as the clone, say) is refused in resource and key policies with
//! MalformedPolicyDocumentException until IAM has propagated it. Such a refusal is retried
//! with backoff for a while; one that persists is reported naming the principals, since a
//! principal that does not exist at all is refused the same way.

use std::future::Future;
use std::time::Duration;

use crate::aws::AwsError;
use crate::backoff::{Backoff, GaveUp, retry};

/// How long a policy refused for its principals is retried. IAM changes usually propagate
/// within seconds to a minute; two minutes covers that with margin while a principal that
/// does not exist still fails well inside CloudFormation's hour.
pub const PRINCIPAL_PROPAGATION_PATIENCE: Duration = Duration::from_secs(120);

/// First pause after a refusal; doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);

/// Longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(16);

/// The error code Secrets Manager and KMS answer a policy naming an unknown principal with.
const MALFORMED_POLICY: &str = "MalformedPolicyDocumentException";

/// A policy that AWS kept refusing for its principals.
#[derive(Debug, thiserror::Error)]
#[error(
    "AWS refused the policy naming {principals} for {waited:?} ({source}); check that each principal exists, or retry once a just-created one has propagated in IAM"
)]
pub struct PrincipalsRefused {
    pub principals: String,
    pub waited: Duration,
    #[source]
    pub source: AwsError,
}

/// Why a policy call failed.
#[derive(Debug, thiserror::Error)]
pub enum PolicyCallError {
    #[error(transparent)]
    PrincipalsRefused(#[from] PrincipalsRefused),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Runs a call that writes a policy naming `principals`, retrying it while AWS refuses the
/// policy as malformed (for up to [`PRINCIPAL_PROPAGATION_PATIENCE`]). Any other error is
/// returned at once.
pub async fn while_principals_propagate<T, Call, Attempt>(
    principals: &[String],
    call: Call,
) -> Result<T, PolicyCallError>
where
    Call: Fn() -> Attempt,
    Attempt: Future<Output = Result<T, AwsError>>,
{
    let backoff = Backoff {
        first: FIRST_BACKOFF,
        max: MAX_BACKOFF,
        patience: PRINCIPAL_PROPAGATION_PATIENCE,
    };
    let refused_for_principals = |error: &AwsError| error.code() == Some(MALFORMED_POLICY);
    retry(backoff, refused_for_principals, call)
        .await
        .map_err(|GaveUp { error, waited }| {
            if refused_for_principals(&error) {
                PrincipalsRefused {
                    principals: principals.join(", "),
                    waited,
                    source: error,
                }
                .into()
            } else {
                error.into()
            }
        })
}
