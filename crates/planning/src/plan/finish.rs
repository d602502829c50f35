//! The finisher's next step: from one look at a managed cluster (and at its instances,
//! once they matter), what takes it closer to *ready*. Pure; `run::finish` makes the calls
//! and comes back for the next step, so whoever triggers a pass (the creating invocation,
//! an RDS event, the maintenance sweep) acts on the same decision.

use aurora_clone_model::naming;
use aurora_clone_model::tags::{self, LifecycleState, Role};
use aurora_clone_model::{ClusterInfo, ClusterStatus, InstanceInfo, InstanceRequest, Tags};

/// Whether a clone in this status will not become usable by waiting: it failed for good,
/// or it was stopped or is being deleted.
pub fn will_not_become_usable(status: &ClusterStatus) -> bool {
    status.is_failed() || matches!(status, ClusterStatus::Stopped | ClusterStatus::Deleting)
}

/// Instance statuses from which an instance will not become available by waiting.
pub const FAILED_INSTANCE_STATUSES: &[&str] = &[
    "failed",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-parameters",
    "incompatible-restore",
    "inaccessible-encryption-credentials",
    "storage-full",
    "deleting",
];

/// What the finisher does next.
#[derive(Debug, Clone, PartialEq)]
pub enum FinishStep {
    /// Waiting will not help: answer FAILED and undo.
    Fail(String),
    /// Already tagged ready.
    AlreadyReady,
    /// Nothing to do until AWS moves on; says what is awaited.
    Wait(String),
    /// Add the cluster's first instance, as its tags describe it.
    AddFirstInstance(Box<InstanceRequest>),
    /// Set the clone's master password to the value of its secret.
    SetPassword { secret_id: String },
    /// Complete the secret with the endpoint, announce a clone (after checking for a silent
    /// full copy) and tag the cluster ready.
    MakeReady {
        secret_id: Option<String>,
        announce: bool,
        instance: Box<InstanceInfo>,
    },
}

/// What the cluster alone decides.
#[derive(Debug, Clone, PartialEq)]
pub enum FirstLook {
    Decided(FinishStep),
    /// The step depends on the cluster's instances.
    NeedsInstances,
}

/// The step the cluster decides without its instances: not ours, ready, failed or still
/// creating.
pub fn look_at_cluster(cluster: &ClusterInfo, stack_name: &str) -> FirstLook {
    if tags::managed_role(cluster, stack_name).is_none() {
        return FirstLook::Decided(FinishStep::Fail(format!(
            "cluster {} is not managed by this clone manager",
            cluster.id
        )));
    }
    if tags::lifecycle_state(cluster) == Some(LifecycleState::Ready) {
        return FirstLook::Decided(FinishStep::AlreadyReady);
    }
    if will_not_become_usable(&cluster.status) {
        return FirstLook::Decided(FinishStep::Fail(format!(
            "cluster {} is {}",
            cluster.id, cluster.status
        )));
    }
    if cluster.is_creating() {
        return FirstLook::Decided(FinishStep::Wait(format!(
            "cluster {} is creating",
            cluster.id
        )));
    }
    FirstLook::NeedsInstances
}

/// The next step for a managed cluster with these instances.
pub fn next_step(
    cluster: &ClusterInfo,
    stack_name: &str,
    instances: &[InstanceInfo],
) -> FinishStep {
    if let FirstLook::Decided(step) = look_at_cluster(cluster, stack_name) {
        return step;
    }
    let role = tags::managed_role(cluster, stack_name);
    let state = tags::lifecycle_state(cluster);
    let Some(instance) = first_instance(cluster, instances) else {
        if !cluster.is_available() {
            return FinishStep::Wait(format!("cluster {} is {}", cluster.id, cluster.status));
        }
        return FinishStep::AddFirstInstance(Box::new(first_instance_request(cluster)));
    };
    if FAILED_INSTANCE_STATUSES.contains(&instance.status.as_str()) {
        return FinishStep::Fail(format!("instance {} is {}", instance.id, instance.status));
    }
    if !instance.is_available() {
        return FinishStep::Wait(format!("instance {} is {}", instance.id, instance.status));
    }
    if !cluster.is_available() {
        return FinishStep::Wait(format!("cluster {} is {}", cluster.id, cluster.status));
    }
    // Right after ModifyDBCluster a describe may still say `available` with the new
    // password only pending: announcing then would hand out a password that fails.
    if cluster.pending_master_password {
        return FinishStep::Wait(format!(
            "cluster {}'s new master password is still pending",
            cluster.id
        ));
    }
    let secret_id = password_secret_id(cluster);
    if role == Some(Role::Clone)
        && state == Some(LifecycleState::Pending)
        && let Some(secret_id) = secret_id
    {
        return FinishStep::SetPassword { secret_id };
    }
    FinishStep::MakeReady {
        secret_id,
        announce: role == Some(Role::Clone),
        instance: Box::new(instance.clone()),
    }
}

/// The writer instance, or any instance when no writer is flagged yet.
pub fn first_instance<'a>(
    cluster: &ClusterInfo,
    instances: &'a [InstanceInfo],
) -> Option<&'a InstanceInfo> {
    let writer = cluster.writer_instance_id();
    instances
        .iter()
        .find(|instance| Some(instance.id.as_str()) == writer)
        .or_else(|| instances.first())
}

/// The instance a managed cluster gets when the finisher has to add it: class and
/// parameter group come from the tags the plan wrote.
pub fn first_instance_request(cluster: &ClusterInfo) -> InstanceRequest {
    let tags: Tags = cluster
        .tags
        .iter()
        .filter(|(key, _)| {
            !key.starts_with(tags::TAG_PREFIX)
                || [tags::ROLE, tags::STACK, tags::OWNER, tags::ROOT_ARN].contains(&key.as_str())
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    InstanceRequest {
        instance_id: naming::first_instance_id(&cluster.id),
        cluster_id: cluster.id.clone(),
        instance_class: cluster
            .tag(tags::INSTANCE_CLASS)
            .unwrap_or("db.t4g.medium")
            .to_string(),
        engine: cluster.engine.clone(),
        db_parameter_group_name: cluster
            .tag(tags::INSTANCE_PARAMETER_GROUP)
            .map(str::to_string),
        publicly_accessible: cluster.tag(tags::INSTANCE_PUBLICLY_ACCESSIBLE) == Some("true"),
        tags,
    }
}

/// The secret that holds a managed cluster's password, as its tags name it.
pub fn password_secret_id(cluster: &ClusterInfo) -> Option<String> {
    cluster
        .tag(tags::PASSWORD_SECRET_ARN)
        .or_else(|| cluster.tag(tags::PASSWORD_SECRET))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::testing::{cluster, copy_of, now, tagged_clone};

    const STACK: &str = "acm";

    fn pending_clone() -> ClusterInfo {
        let mut clone = tagged_clone(STACK, "dev-1", &cluster("prod"));
        clone.tags.insert(tags::STATE.into(), "pending".into());
        clone
            .tags
            .insert(tags::INSTANCE_CLASS.into(), "db.r6g.large".into());
        clone
    }

    fn instance_of(cluster: &ClusterInfo, status: &str) -> InstanceInfo {
        InstanceInfo {
            id: format!("{}-1", cluster.id),
            arn: format!("arn:aws:rds:us-east-1:123456789012:db:{}-1", cluster.id),
            cluster_id: Some(cluster.id.clone()),
            status: status.into(),
            instance_class: "db.r6g.large".into(),
            engine: cluster.engine.clone(),
            endpoint: None,
            port: None,
            db_parameter_group: None,
            publicly_accessible: false,
        }
    }

    #[test]
    fn a_cluster_of_another_deployment_is_never_finished() {
        let clone = tagged_clone("someone-else", "dev-1", &cluster("prod"));
        assert_eq!(
            look_at_cluster(&clone, STACK),
            FirstLook::Decided(FinishStep::Fail(
                "cluster dev-1 is not managed by this clone manager".into()
            ))
        );
    }

    #[test]
    fn a_creating_cluster_is_awaited_without_reading_its_instances() {
        let mut clone = pending_clone();
        clone.status = ClusterStatus::Creating;
        assert_eq!(
            look_at_cluster(&clone, STACK),
            FirstLook::Decided(FinishStep::Wait("cluster dev-1 is creating".into()))
        );
        clone.status = ClusterStatus::Available;
        assert_eq!(look_at_cluster(&clone, STACK), FirstLook::NeedsInstances);
    }

    #[test]
    fn an_available_clone_without_an_instance_gets_the_one_its_tags_describe() {
        let step = next_step(&pending_clone(), STACK, &[]);
        let FinishStep::AddFirstInstance(request) = step else {
            panic!("expected the first instance, got {step:?}");
        };
        assert_eq!(request.cluster_id, "dev-1");
        assert_eq!(request.instance_class, "db.r6g.large");
    }

    #[test]
    fn a_clone_with_a_secret_gets_its_password_before_it_is_announced() {
        let mut clone = pending_clone();
        clone
            .tags
            .insert(tags::PASSWORD_SECRET_ARN.into(), "arn:secret".into());
        let instances = [instance_of(&clone, "available")];
        assert_eq!(
            next_step(&clone, STACK, &instances),
            FinishStep::SetPassword {
                secret_id: "arn:secret".into()
            }
        );
        clone.pending_master_password = true;
        clone.tags.insert(tags::STATE.into(), "password-set".into());
        assert_eq!(
            next_step(&clone, STACK, &instances),
            FinishStep::Wait("cluster dev-1's new master password is still pending".into())
        );
        clone.pending_master_password = false;
        assert_eq!(
            next_step(&clone, STACK, &instances),
            FinishStep::MakeReady {
                secret_id: Some("arn:secret".into()),
                announce: true,
                instance: Box::new(instances[0].clone()),
            }
        );
    }

    #[test]
    fn a_copy_is_made_ready_without_an_announcement() {
        let mut copy = copy_of(STACK, "prod-copy-1", &cluster("prod"), now());
        copy.tags.insert(tags::STATE.into(), "pending".into());
        let instances = [instance_of(&copy, "available")];
        let FinishStep::MakeReady { announce, .. } = next_step(&copy, STACK, &instances) else {
            panic!("expected the copy to be made ready");
        };
        assert!(!announce);
    }

    #[test]
    fn a_failed_instance_fails_the_clone_and_a_starting_one_is_awaited() {
        let clone = pending_clone();
        assert_eq!(
            next_step(&clone, STACK, &[instance_of(&clone, "storage-full")]),
            FinishStep::Fail("instance dev-1-1 is storage-full".into())
        );
        assert_eq!(
            next_step(&clone, STACK, &[instance_of(&clone, "creating")]),
            FinishStep::Wait("instance dev-1-1 is creating".into())
        );
    }
}
