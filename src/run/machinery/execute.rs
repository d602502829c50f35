//! The executor: applies a plan's API calls through the ports and makes no decisions of
//! its own beyond what AWS answers (an identifier already taken by this very request is
//! adopted, an instance a cluster cannot take yet is left for the finisher). Provisioning,
//! the finisher and maintenance all start clusters through it, and what a failed create
//! made is removed through it.

use serde::{Deserialize, Serialize};

use crate::aws::{
    AwsError, AwsErrorKind, ClusterInfo, InstanceRequest, KeyRequest, RestoreRequest, SecretRef,
    SecretRequest,
};
use crate::model::tags;
use crate::plan::provision::{KeyPlan, PasswordPlan, Placement, ProvisionPlan};
use crate::run::machinery::context::Context;
use crate::run::machinery::lease::KeptLease;
use crate::run::machinery::password::{self, Credentials, RandomSourceError};
use crate::run::machinery::propagation::{
    PolicyCallError, PrincipalsRefused, while_principals_propagate,
};
use crate::run::machinery::teardown::{self, TeardownReport};

/// A call of a plan that failed, named by the step it was for.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("{step}: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: AwsError,
    },
    #[error(transparent)]
    Random(#[from] RandomSourceError),
    #[error("{step}: {source}")]
    PrincipalsRefused {
        step: &'static str,
        #[source]
        source: PrincipalsRefused,
    },
    /// The root's lease lapsed or was taken before the restore: nothing was restored, and
    /// the request can be made again.
    #[error("the root's lease was lost before the restore; nothing was restored, try again")]
    LeaseLost,
}

fn step_error(step: &'static str) -> impl Fn(AwsError) -> ExecuteError {
    move |source| ExecuteError::Aws { step, source }
}

/// Like [`step_error`], for a call that writes a policy naming the readers.
fn policy_step_error(step: &'static str) -> impl Fn(PolicyCallError) -> ExecuteError {
    move |error| match error {
        PolicyCallError::PrincipalsRefused(source) => {
            ExecuteError::PrincipalsRefused { step, source }
        }
        PolicyCallError::Aws(source) => ExecuteError::Aws { step, source },
    }
}

/// What was made for one create, so that it can be removed again if the create fails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecord {
    pub cluster_id: String,
    pub request_id: String,
    pub secret: Option<SecretRef>,
    pub disposable_key_id: Option<String>,
    pub shared_key_id: Option<String>,
}

/// A started clone.
#[derive(Debug, Clone)]
pub enum Started {
    /// This request had already made its clone (a replay).
    Existing { cluster_id: String, arn: String },
    /// The clone is being made; `restored` is `None` while it waits for a copy, and
    /// `restore` is the restore request as sent (or to send), password tags included.
    Made {
        plan: Box<ProvisionPlan>,
        record: Box<CreateRecord>,
        restore: Box<RestoreRequest>,
        restored: Option<Box<ClusterInfo>>,
    },
}

/// Carries out a provision plan: purges, password artifacts, the copy, the restore and the
/// instance. If a call fails, what was made for the request is removed before the error
/// is returned.
pub async fn apply_provision_plan(
    app: &Context,
    plan: &ProvisionPlan,
    placement: &Placement,
    root_lease: &KeptLease,
) -> Result<(CreateRecord, RestoreRequest, Option<ClusterInfo>), ExecuteError> {
    for purge in &plan.purge {
        // Purging is housekeeping: a failure is logged and never fails the clone.
        if let Err(error) = teardown::delete_copy(app, &purge.cluster_id).await {
            tracing::warn!(copy = %purge.cluster_id, %error, "could not delete an obsolete copy");
        }
    }
    let mut record = CreateRecord {
        cluster_id: plan.cluster_id.clone(),
        request_id: plan
            .restore
            .tags
            .get(tags::REQUEST)
            .cloned()
            .unwrap_or_default(),
        ..CreateRecord::default()
    };
    let made = async {
        let mut restore = plan.restore.clone();
        if let Some(password) = &plan.password {
            create_password_artifacts(app, plan, password, placement, &mut record, &mut restore)
                .await?;
        }
        // The plan took a slot of the inventory read under the root's lease; if the lease
        // was lost meanwhile, another request may have planned into the same slot.
        if !root_lease.is_held(app.now()) {
            return Err(ExecuteError::LeaseLost);
        }
        if let Some(copy) = &plan.copy {
            restore_or_adopt(app, &copy.restore)
                .await
                .map_err(step_error("starting the copy"))?;
            try_create_instance(app, &copy.instance).await?;
        }
        if plan.source.wait_until_cloneable {
            return Ok((restore, None));
        }
        let restored = restore_or_adopt(app, &restore)
            .await
            .map_err(step_error("starting the clone"))?;
        try_create_instance(app, &plan.instance).await?;
        Ok((restore, Some(restored)))
    }
    .await;
    match made {
        Ok((restore, restored)) => Ok((record, restore, restored)),
        Err(error) => {
            undo_create(app, &record).await;
            Err(error)
        }
    }
}

/// Starts a restore. When the identifier is already taken by the cluster this very request
/// made (its first attempt got through but the answer was lost), that cluster is the
/// result; anyone else's cluster is an error.
pub async fn restore_or_adopt(
    app: &Context,
    request: &RestoreRequest,
) -> Result<ClusterInfo, AwsError> {
    match app.ports.rds.restore_cluster(request).await {
        Ok(cluster) => Ok(cluster),
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => {
            match app.ports.rds.describe_cluster(&request.cluster_id).await? {
                Some(existing) if made_by(&existing, request) => {
                    tracing::info!(cluster = %existing.id, "the restore had already been accepted");
                    Ok(existing)
                }
                _ => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

/// Whether a cluster carries the identity tags a restore request asked for.
fn made_by(cluster: &ClusterInfo, request: &RestoreRequest) -> bool {
    [
        tags::ROLE,
        tags::STACK,
        tags::REQUEST,
        tags::DATA_TIMESTAMP,
        tags::SOURCE_ARN,
        tags::ROOT_ARN,
    ]
    .iter()
    .all(|key| cluster.tag(key) == request.tags.get(*key).map(String::as_str))
}

/// Adds an instance now if the cluster takes it; a cluster still `creating` may refuse,
/// and then the finisher adds it later.
pub async fn try_create_instance(
    app: &Context,
    request: &InstanceRequest,
) -> Result<(), ExecuteError> {
    match app.ports.rds.create_instance(request).await {
        Ok(_) => Ok(()),
        Err(error)
            if matches!(
                error.kind(),
                AwsErrorKind::InvalidState | AwsErrorKind::AlreadyExists
            ) =>
        {
            tracing::info!(instance = %request.instance_id, reason = %error, "instance left for the finisher");
            Ok(())
        }
        Err(error) => Err(ExecuteError::Aws {
            step: "adding the instance",
            source: error,
        }),
    }
}

async fn create_password_artifacts(
    app: &Context,
    plan: &ProvisionPlan,
    password_plan: &PasswordPlan,
    placement: &Placement,
    record: &mut CreateRecord,
    restore: &mut RestoreRequest,
) -> Result<(), ExecuteError> {
    let password = password::generate_password()?;
    let key_id = match &password_plan.key {
        KeyPlan::Shared {
            key_id,
            from_property,
            ..
        } => {
            if !from_property {
                record.shared_key_id = Some(key_id.clone());
            }
            key_id.clone()
        }
        KeyPlan::Disposable {
            alias,
            description,
            tags,
        } => {
            let managers = app
                .policy_managers()
                .await
                .map_err(step_error("reading who the clone manager is"))?;
            let key_request = KeyRequest {
                description: description.clone(),
                policy: password::disposable_key_policy(
                    &placement.partition,
                    &placement.account_id,
                    &placement.region,
                    &password_plan.principals,
                    &managers,
                ),
                tags: tags.clone(),
            };
            // The key policy names the readers: CreateKey refuses it while a reader made
            // moments ago has not propagated in IAM, and then nothing was created.
            let key = while_principals_propagate(&password_plan.principals, || {
                app.ports.keys.create_key(&key_request)
            })
            .await
            .map_err(policy_step_error("creating the password's KMS key"))?;
            record.disposable_key_id = Some(key.key_id.clone());
            create_or_confirm_alias(app, alias, &key.key_id, &plan.cluster_id)
                .await
                .map_err(step_error("naming the password's KMS key"))?;
            key.key_id
        }
    };
    let document = password::credentials_document(
        &Credentials {
            username: &password_plan.master_username,
            engine: &password_plan.engine,
            cluster_id: &plan.cluster_id,
            database: password_plan.database_name.as_deref(),
            host: None,
            port: None,
        },
        &password,
    );
    let secret_request = SecretRequest {
        name: password_plan.secret_name.clone(),
        description: format!("Master password of Aurora clone {}", plan.cluster_id),
        value: document,
        kms_key_id: Some(key_id.clone()),
        tags: password_plan.secret_tags.clone(),
    };
    let secret = create_or_adopt_secret(app, &secret_request, &plan.cluster_id)
        .await
        .map_err(step_error("creating the password secret"))?;
    record.secret = Some(secret.clone());
    grant_password_access(app, password_plan, &key_id, &secret.arn).await?;
    restore.tags.insert(tags::PASSWORD_KEY.into(), key_id);
    restore
        .tags
        .insert(tags::PASSWORD_SECRET_ARN.into(), secret.arn);
    Ok(())
}

/// Creates the secret; if the name is taken by our own secret for this cluster (an earlier
/// attempt of the same call got through), that secret is used.
async fn create_or_adopt_secret(
    app: &Context,
    request: &SecretRequest,
    cluster_id: &str,
) -> Result<SecretRef, AwsError> {
    match app.ports.secrets.create_secret(request).await {
        Ok(secret) => Ok(secret),
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => {
            // By name: ListSecrets may not show a secret made minutes ago.
            let ours = app
                .ports
                .secrets
                .describe_secret(&request.name)
                .await?
                .filter(|secret| {
                    secret.tags.get(tags::CLUSTER).map(String::as_str) == Some(cluster_id)
                        && secret.tags.get(tags::STACK) == Some(&app.config.stack_name)
                });
            match ours {
                Some(secret) => Ok(SecretRef {
                    arn: secret.arn,
                    name: secret.name,
                }),
                None => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

/// Points the alias at the key. An alias that already points there is fine; one that points
/// at another disposable key of ours for the same cluster is left from an interrupted
/// attempt of this create: that key is scheduled for deletion and the alias moved.
async fn create_or_confirm_alias(
    app: &Context,
    alias: &str,
    key_id: &str,
    cluster_id: &str,
) -> Result<(), AwsError> {
    let error = match app.ports.keys.create_alias(alias, key_id).await {
        Ok(()) => return Ok(()),
        Err(error) if error.kind() == AwsErrorKind::AlreadyExists => error,
        Err(error) => return Err(error),
    };
    let Some(current) = app
        .ports
        .keys
        .list_aliases(alias)
        .await?
        .into_iter()
        .find(|entry| entry.alias_name == alias)
        .and_then(|entry| entry.key_id)
    else {
        return Err(error);
    };
    if current == key_id {
        return Ok(());
    }
    let current_tags = app.ports.keys.key_tags(&current).await?.unwrap_or_default();
    let abandoned = current_tags.get(tags::STACK) == Some(&app.config.stack_name)
        && current_tags.get(tags::DISPOSABLE).map(String::as_str) == Some("true")
        && current_tags.get(tags::CLUSTER).map(String::as_str) == Some(cluster_id);
    if !abandoned {
        return Err(error);
    }
    tracing::info!(alias, abandoned_key = %current, "moving an alias left by an interrupted attempt");
    app.ports.keys.schedule_key_deletion(&current).await?;
    app.ports.keys.delete_alias(alias).await?;
    app.ports.keys.create_alias(alias, key_id).await
}

/// Lets the plan's principals read the secret: its resource policy, and on a shared key one
/// grant per principal limited to this secret.
pub async fn grant_password_access(
    app: &Context,
    password_plan: &PasswordPlan,
    key_id: &str,
    secret_arn: &str,
) -> Result<(), ExecuteError> {
    let managers = app
        .policy_managers()
        .await
        .map_err(step_error("reading who the clone manager is"))?;
    let secret_policy = password::secret_policy(&password_plan.principals, &managers);
    while_principals_propagate(&password_plan.principals, || {
        app.ports
            .secrets
            .put_resource_policy(secret_arn, &secret_policy)
    })
    .await
    .map_err(policy_step_error("granting access to the password secret"))?;
    // A key named by the KmsKeyId property belongs to its owner, whose key policy decides
    // who may decrypt; grants are made only on the deployment's own default key.
    if let KeyPlan::Shared {
        grant_name,
        from_property: false,
        ..
    } = &password_plan.key
    {
        let context = [("SecretARN".to_string(), secret_arn.to_string())];
        for principal in &password_plan.principals {
            app.ports
                .keys
                .grant_decrypt(key_id, grant_name, principal, &context)
                .await
                .map_err(step_error("granting decrypt on the KMS key"))?;
        }
    }
    Ok(())
}

/// Removes what a failed create made: the clone (only if it carries this request's tag),
/// the secret, the disposable key and the grants. Best effort: failures are logged, and
/// maintenance sweeps whatever remains.
pub async fn undo_create(app: &Context, record: &CreateRecord) -> TeardownReport {
    let mut report = TeardownReport {
        cluster_id: record.cluster_id.clone(),
        ..TeardownReport::default()
    };
    match app.ports.rds.describe_cluster(&record.cluster_id).await {
        Ok(Some(cluster)) if cluster.tag(tags::REQUEST) == Some(record.request_id.as_str()) => {
            match teardown::delete_clone(app, &cluster, false).await {
                Ok(deleted) => report = deleted,
                Err(error) => {
                    tracing::error!(%error, "could not remove the clone of a failed create")
                }
            }
        }
        Ok(_) => {}
        Err(error) => tracing::error!(%error, "could not look for the clone of a failed create"),
    }
    if let Some(secret) = &record.secret {
        match app.ports.secrets.delete_secret(&secret.arn).await {
            Ok(()) => {
                if !report.secrets_deleted.contains(&secret.name) {
                    report.secrets_deleted.push(secret.name.clone());
                }
            }
            Err(error) => tracing::error!(%error, "could not remove the secret of a failed create"),
        }
    }
    if let Some(key_id) = &record.disposable_key_id
        && !report.keys_scheduled_for_deletion.contains(key_id)
    {
        if let Err(error) =
            teardown::schedule_disposable_key_deletion(app, key_id, &mut report).await
        {
            tracing::error!(%error, "could not remove the key of a failed create");
        }
        let alias =
            crate::model::naming::disposable_key_alias(&app.config.stack_name, &record.cluster_id);
        if let Err(error) = app.ports.keys.delete_alias(&alias).await {
            tracing::error!(%error, "could not remove the key alias of a failed create");
        }
    }
    if let Some(key_id) = &record.shared_key_id
        && let Err(error) =
            teardown::revoke_grants(app, key_id, &record.cluster_id, &mut report).await
    {
        tracing::error!(%error, "could not revoke the grants of a failed create");
    }
    report
}
