//! Deleting what this deployment made: a clone with its secret, key and grants; an
//! obsolete copy; the leftovers of a failed create. Every deletion re-checks ownership
//! tags right before it acts, and never touches a cluster without them.
//!
//! AWS does not delete a stopped cluster ("Deleting a stopped Aurora cluster",
//! https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html#USER_Deletion_Stopped_Cluster),
//! and people stop the clones they are not using. One teardown pass therefore starts a
//! stopped cluster (StartDBCluster) and answers [`TeardownError::NotYet`]; so does a pass
//! that finds the cluster `starting` or `stopping`. The caller decides how to wait: the
//! CloudFormation Delete polls and hands over to fresh invocations, the CLI polls,
//! maintenance leaves it to its next run.

use crate::aws::{AwsError, AwsErrorKind, ClusterInfo, ClusterStatus};
use crate::model::naming;
use crate::model::tags::{self, Role};
use crate::model::time::compact_timestamp;
use crate::run::machinery::context::Context;

/// What a teardown removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeardownReport {
    pub cluster_id: String,
    pub instances_deleted: Vec<String>,
    pub final_snapshot: Option<String>,
    pub secrets_deleted: Vec<String>,
    pub keys_scheduled_for_deletion: Vec<String>,
    pub grants_revoked: usize,
}

/// Why a teardown did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TeardownError {
    #[error("refusing to delete {cluster_id}: {reason}")]
    Refused { cluster_id: String, reason: String },
    #[error("deleting {cluster_id}: {source}")]
    Aws {
        cluster_id: String,
        #[source]
        source: AwsError,
    },
    /// The cluster cannot be deleted in its present state, and will be in a while (it was
    /// stopped and is starting): another pass later will get further.
    #[error("{cluster_id} cannot be deleted yet: {reason}")]
    NotYet { cluster_id: String, reason: String },
}

impl TeardownError {
    /// Whether another pass later may succeed where this one stopped.
    pub fn is_not_yet(&self) -> bool {
        matches!(self, TeardownError::NotYet { .. })
    }
}

/// Instance statuses of a cluster going through stop or start: AWS deletes neither such an
/// instance nor its cluster, and they end by themselves.
const PASSING_INSTANCE_STATUSES: &[&str] = &["starting", "stopping", "stopped"];

fn aws_error(cluster_id: &str) -> impl Fn(AwsError) -> TeardownError + '_ {
    move |source| TeardownError::Aws {
        cluster_id: cluster_id.to_string(),
        source,
    }
}

/// Checks that `cluster` is one of this deployment's clusters in the given role.
pub fn check_managed(
    app: &Context,
    cluster: &ClusterInfo,
    role: Role,
) -> Result<(), TeardownError> {
    match tags::managed_role(cluster, &app.config.stack_name) {
        Some(found) if found == role => Ok(()),
        Some(found) => Err(TeardownError::Refused {
            cluster_id: cluster.id.clone(),
            reason: format!("it is a {found}, not a {role}"),
        }),
        None => Err(TeardownError::Refused {
            cluster_id: cluster.id.clone(),
            reason: format!(
                "it is not managed by this clone manager (no {} tag and {}={} tag)",
                tags::ROLE,
                tags::STACK,
                app.config.stack_name
            ),
        }),
    }
}

/// Deletes a managed cluster: instances first, then the cluster (with a final snapshot if
/// asked). Succeeds when it is already gone or being deleted.
async fn delete_managed_cluster(
    app: &Context,
    cluster_id: &str,
    role: Role,
    final_snapshot: bool,
    report: &mut TeardownReport,
) -> Result<(), TeardownError> {
    let rds = &app.ports.rds;
    let Some(cluster) = rds
        .describe_cluster(cluster_id)
        .await
        .map_err(aws_error(cluster_id))?
    else {
        return Ok(());
    };
    check_managed(app, &cluster, role)?;
    if cluster.is_deleting() {
        return Ok(());
    }
    start_if_stopped(app, &cluster).await?;
    let instances = rds
        .describe_cluster_instances(cluster_id)
        .await
        .map_err(aws_error(cluster_id))?;
    if let Some(passing) = instances
        .iter()
        .find(|instance| PASSING_INSTANCE_STATUSES.contains(&instance.status.as_str()))
    {
        return Err(not_yet(
            cluster_id,
            format!(
                "its instance {} is {} after the cluster was started",
                passing.id, passing.status
            ),
        ));
    }
    for instance in instances {
        if !instance.is_deleting() {
            rds.delete_instance(&instance.id)
                .await
                .map_err(aws_error(cluster_id))?;
        }
        report.instances_deleted.push(instance.id);
    }
    let snapshot = final_snapshot.then(|| {
        naming::join_identifier(
            &[cluster_id, "final"],
            &compact_timestamp(app.now()).to_lowercase(),
        )
    });
    rds.delete_cluster(cluster_id, snapshot.as_deref())
        .await
        .map_err(aws_error(cluster_id))?;
    report.final_snapshot = snapshot;
    Ok(())
}

fn not_yet(cluster_id: &str, reason: String) -> TeardownError {
    TeardownError::NotYet {
        cluster_id: cluster_id.to_string(),
        reason,
    }
}

/// Gets a stopped cluster going again, since AWS deletes only running clusters: `Ok` when
/// the cluster is in a state that can be deleted now, `NotYet` while it is stopping or
/// starting (a stopped one is started here first).
async fn start_if_stopped(app: &Context, cluster: &ClusterInfo) -> Result<(), TeardownError> {
    match cluster.status {
        ClusterStatus::Stopped => {
            match app.ports.rds.start_cluster(&cluster.id).await {
                Ok(()) => {}
                // Started meanwhile (by someone, or by Aurora after seven days): look again
                // on the next pass.
                Err(error) if error.kind() == AwsErrorKind::InvalidState => {}
                Err(source) => return Err(aws_error(&cluster.id)(source)),
            }
            tracing::info!(cluster = %cluster.id, "started a stopped cluster so that it can be deleted");
            Err(not_yet(
                &cluster.id,
                "it was stopped, and Aurora deletes only running clusters: it is starting now"
                    .to_string(),
            ))
        }
        ClusterStatus::Starting => Err(not_yet(
            &cluster.id,
            "it is starting (Aurora deletes only running clusters)".to_string(),
        )),
        ClusterStatus::Stopping => Err(not_yet(
            &cluster.id,
            "it is stopping; it will be started again once stopped, as Aurora deletes only running clusters"
                .to_string(),
        )),
        _ => Ok(()),
    }
}

/// Deletes one of our clones and everything made for its password.
pub async fn delete_clone(
    app: &Context,
    cluster: &ClusterInfo,
    final_snapshot: bool,
) -> Result<TeardownReport, TeardownError> {
    check_managed(app, cluster, Role::Clone)?;
    let mut report = TeardownReport {
        cluster_id: cluster.id.clone(),
        ..TeardownReport::default()
    };
    delete_managed_cluster(app, &cluster.id, Role::Clone, final_snapshot, &mut report).await?;
    let known_secret = cluster
        .tag(tags::PASSWORD_SECRET_ARN)
        .or(cluster.tag(tags::PASSWORD_SECRET));
    // Grants exist only on the deployment's shared key; a disposable key goes as a whole,
    // and its policy gives the role no business with grants.
    let granted_key = cluster
        .tag(tags::PASSWORD_KEY)
        .filter(|_| cluster.tag(tags::PASSWORD_KEY_GRANTS) == Some("true"));
    delete_password_artifacts(app, &cluster.id, known_secret, granted_key, &mut report)
        .await
        .map_err(aws_error(&cluster.id))?;
    Ok(report)
}

/// Deletes one of our copies (never a root: the role tag is checked again first).
pub async fn delete_copy(app: &Context, cluster_id: &str) -> Result<TeardownReport, TeardownError> {
    let mut report = TeardownReport {
        cluster_id: cluster_id.to_string(),
        ..TeardownReport::default()
    };
    delete_managed_cluster(app, cluster_id, Role::Copy, false, &mut report).await?;
    Ok(report)
}

/// Removes the secret, the disposable key and the grants made for one cluster's password:
/// found by names and tags, so it also works after the cluster itself is gone.
/// `known_secret` is the secret the cluster's tags name (its ARN or name), looked up by
/// name because ListSecrets may not show a secret made in the last minutes; listing by tag
/// then finds any other secret of this cluster (one whose name nothing recorded).
/// `granted_key_id` is the shared key on which readers were granted decrypt, if any.
pub async fn delete_password_artifacts(
    app: &Context,
    cluster_id: &str,
    known_secret: Option<&str>,
    granted_key_id: Option<&str>,
    report: &mut TeardownReport,
) -> Result<(), AwsError> {
    let stack = &app.config.stack_name;
    let mut secrets = Vec::new();
    if let Some(secret_id) = known_secret
        && let Some(secret) = app.ports.secrets.describe_secret(secret_id).await?
    {
        secrets.push(secret);
    }
    secrets.extend(
        app.ports
            .secrets
            .list_secrets_tagged(tags::CLUSTER, cluster_id)
            .await?,
    );
    for secret in secrets {
        let ours = secret.tags.get(tags::STACK) == Some(stack)
            && secret.tags.get(tags::CLUSTER).map(String::as_str) == Some(cluster_id);
        if ours && !report.secrets_deleted.contains(&secret.name) {
            app.ports.secrets.delete_secret(&secret.arn).await?;
            report.secrets_deleted.push(secret.name);
        }
    }
    if let Some(key_id) = disposable_key_of(app, cluster_id).await? {
        schedule_disposable_key_deletion(app, &key_id, report).await?;
        app.ports
            .keys
            .delete_alias(&naming::disposable_key_alias(stack, cluster_id))
            .await?;
    }
    if let Some(key_id) = granted_key_id {
        revoke_grants(app, key_id, cluster_id, report).await?;
    }
    Ok(())
}

/// The disposable key made for one cluster's password, found by its alias.
pub async fn disposable_key_of(
    app: &Context,
    cluster_id: &str,
) -> Result<Option<String>, AwsError> {
    let alias = naming::disposable_key_alias(&app.config.stack_name, cluster_id);
    Ok(app
        .ports
        .keys
        .list_aliases(&alias)
        .await?
        .into_iter()
        .find(|entry| entry.alias_name == alias)
        .and_then(|entry| entry.key_id))
}

/// Schedules deletion of a key only if it carries our disposable tags: a key we did not
/// make is never deleted.
pub async fn schedule_disposable_key_deletion(
    app: &Context,
    key_id: &str,
    report: &mut TeardownReport,
) -> Result<(), AwsError> {
    let Some(key_tags) = app.ports.keys.key_tags(key_id).await? else {
        return Ok(());
    };
    let ours = key_tags.get(tags::STACK) == Some(&app.config.stack_name)
        && key_tags.get(tags::DISPOSABLE).map(String::as_str) == Some("true");
    if ours {
        app.ports.keys.schedule_key_deletion(key_id).await?;
        report.keys_scheduled_for_deletion.push(key_id.to_string());
    } else {
        tracing::warn!(
            key_id,
            "not deleting a key this clone manager did not make for one clone"
        );
    }
    Ok(())
}

/// Revokes the grants made on a shared key for one cluster's secret.
pub async fn revoke_grants(
    app: &Context,
    key_id: &str,
    cluster_id: &str,
    report: &mut TeardownReport,
) -> Result<(), AwsError> {
    let grant_name = naming::grant_name(&app.config.stack_name, cluster_id);
    let grants = match app.ports.keys.list_grants(key_id).await {
        Ok(grants) => grants,
        // A disposable key pending deletion, or a key we may not list: nothing to revoke.
        Err(error) if error.is_not_found() => return Ok(()),
        Err(error) => return Err(error),
    };
    for grant in grants
        .into_iter()
        .filter(|grant| grant.name.as_deref() == Some(grant_name.as_str()))
    {
        app.ports.keys.revoke_grant(key_id, &grant.grant_id).await?;
        report.grants_revoked += 1;
    }
    Ok(())
}
