//! The RDS port on aws-sdk-rds.

use async_trait::async_trait;
use aws_sdk_rds::types::{DbCluster, DbInstance, Filter, ServerlessV2ScalingConfiguration, Tag};

use super::{collect_pages, map_sdk_error, to_chrono};
use crate::{
    AwsError, AwsErrorKind, ClusterInfo, ClusterMember, ClusterPage, ClusterStatus, InstanceInfo,
    InstanceRequest, Rds, RestoreRequest, SecretString, ServerlessV2Scaling, Tags,
};

pub struct SdkRds {
    client: aws_sdk_rds::Client,
}

impl SdkRds {
    pub fn new(client: aws_sdk_rds::Client) -> SdkRds {
        SdkRds { client }
    }
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

fn cluster_info(cluster: &DbCluster) -> ClusterInfo {
    ClusterInfo {
        id: cluster
            .db_cluster_identifier()
            .unwrap_or_default()
            .to_string(),
        arn: cluster.db_cluster_arn().unwrap_or_default().to_string(),
        status: ClusterStatus::parse(cluster.status().unwrap_or_default()),
        pending_master_password: cluster
            .pending_modified_values()
            .and_then(|pending| pending.master_user_password())
            .is_some(),
        engine: cluster.engine().unwrap_or_default().to_string(),
        engine_version: cluster.engine_version().map(str::to_string),
        created_at: cluster.cluster_create_time().and_then(to_chrono),
        tags: cluster
            .tag_list()
            .iter()
            .filter_map(|tag| {
                Some((
                    tag.key()?.to_string(),
                    tag.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        members: cluster
            .db_cluster_members()
            .iter()
            .filter_map(|member| {
                Some(ClusterMember {
                    instance_id: member.db_instance_identifier()?.to_string(),
                    is_writer: member.is_cluster_writer().unwrap_or(false),
                })
            })
            .collect(),
        clone_group_id: cluster.clone_group_id().map(str::to_string),
        endpoint: cluster.endpoint().map(str::to_string),
        reader_endpoint: cluster.reader_endpoint().map(str::to_string),
        port: cluster.port(),
        master_username: cluster.master_username().map(str::to_string),
        database_name: cluster.database_name().map(str::to_string),
        db_subnet_group: cluster.db_subnet_group().map(str::to_string),
        vpc_security_group_ids: cluster
            .vpc_security_groups()
            .iter()
            .filter_map(|group| group.vpc_security_group_id().map(str::to_string))
            .collect(),
        db_cluster_parameter_group: cluster.db_cluster_parameter_group().map(str::to_string),
        iam_database_authentication_enabled: cluster
            .iam_database_authentication_enabled()
            .unwrap_or(false),
        storage_type: cluster.storage_type().map(str::to_string),
        enabled_cloudwatch_logs_exports: cluster.enabled_cloudwatch_logs_exports().to_vec(),
        serverless_v2_scaling: cluster
            .serverless_v2_scaling_configuration()
            .map(|scaling| ServerlessV2Scaling {
                min_capacity: scaling.min_capacity(),
                max_capacity: scaling.max_capacity(),
                seconds_until_auto_pause: scaling.seconds_until_auto_pause(),
            }),
        resource_id: cluster.db_cluster_resource_id().map(str::to_string),
    }
}

fn sdk_scaling(scaling: &ServerlessV2Scaling) -> ServerlessV2ScalingConfiguration {
    ServerlessV2ScalingConfiguration::builder()
        .set_min_capacity(scaling.min_capacity)
        .set_max_capacity(scaling.max_capacity)
        .set_seconds_until_auto_pause(scaling.seconds_until_auto_pause)
        .build()
}

fn instance_info(instance: &DbInstance) -> InstanceInfo {
    InstanceInfo {
        id: instance
            .db_instance_identifier()
            .unwrap_or_default()
            .to_string(),
        arn: instance.db_instance_arn().unwrap_or_default().to_string(),
        cluster_id: instance.db_cluster_identifier().map(str::to_string),
        status: instance
            .db_instance_status()
            .unwrap_or_default()
            .to_string(),
        instance_class: instance.db_instance_class().unwrap_or_default().to_string(),
        engine: instance.engine().unwrap_or_default().to_string(),
        endpoint: instance
            .endpoint()
            .and_then(|endpoint| endpoint.address())
            .map(str::to_string),
        port: instance.endpoint().and_then(|endpoint| endpoint.port()),
        db_parameter_group: instance
            .db_parameter_groups()
            .first()
            .and_then(|group| group.db_parameter_group_name())
            .map(str::to_string),
        publicly_accessible: instance.publicly_accessible().unwrap_or(false),
    }
}

#[async_trait]
impl Rds for SdkRds {
    async fn describe_clusters_page(
        &self,
        marker: Option<String>,
        max_records: i32,
    ) -> Result<ClusterPage, AwsError> {
        let output = self
            .client
            .describe_db_clusters()
            .set_marker(marker)
            .max_records(max_records)
            .send()
            .await
            .map_err(|error| map_sdk_error("rds:DescribeDBClusters", error))?;
        Ok(ClusterPage {
            clusters: output.db_clusters().iter().map(cluster_info).collect(),
            marker: output
                .marker()
                .filter(|marker| !marker.is_empty())
                .map(str::to_string),
        })
    }

    async fn describe_cluster(&self, cluster_id: &str) -> Result<Option<ClusterInfo>, AwsError> {
        match self
            .client
            .describe_db_clusters()
            .db_cluster_identifier(cluster_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.db_clusters().first().map(cluster_info)),
            Err(error) => {
                let error = map_sdk_error("rds:DescribeDBClusters", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn describe_instance(&self, instance_id: &str) -> Result<Option<InstanceInfo>, AwsError> {
        match self
            .client
            .describe_db_instances()
            .db_instance_identifier(instance_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.db_instances().first().map(instance_info)),
            Err(error) => {
                let error = map_sdk_error("rds:DescribeDBInstances", error);
                if error.is_not_found() {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn describe_cluster_instances(
        &self,
        cluster_id: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError> {
        let filter = Filter::builder()
            .name("db-cluster-id")
            .values(cluster_id)
            .build();
        let filter = &filter;
        let mut instances = collect_pages(|marker| async move {
            let output = self
                .client
                .describe_db_instances()
                .filters(filter.clone())
                .set_marker(marker)
                .send()
                .await
                .map_err(|error| map_sdk_error("rds:DescribeDBInstances", error))?;
            let page = output.db_instances().iter().map(instance_info).collect();
            Ok((page, output.marker().map(str::to_string)))
        })
        .await?;
        // Some emulators ignore the filter; the contract is "instances of this cluster".
        instances.retain(|instance| instance.cluster_id.as_deref() == Some(cluster_id));
        Ok(instances)
    }

    async fn restore_cluster(&self, request: &RestoreRequest) -> Result<ClusterInfo, AwsError> {
        let settings = &request.settings;
        let output = self
            .client
            .restore_db_cluster_to_point_in_time()
            .db_cluster_identifier(&request.cluster_id)
            .source_db_cluster_identifier(&request.source_cluster_id)
            .restore_type(request.restore_type.as_api_str())
            .use_latest_restorable_time(true)
            .set_tags(Some(sdk_tags(&request.tags)))
            .set_db_subnet_group_name(request.db_subnet_group_name.clone())
            .set_vpc_security_group_ids(
                (!request.vpc_security_group_ids.is_empty())
                    .then(|| request.vpc_security_group_ids.clone()),
            )
            .set_db_cluster_parameter_group_name(request.db_cluster_parameter_group_name.clone())
            .set_port(settings.port)
            .enable_iam_database_authentication(settings.enable_iam_database_authentication)
            .set_storage_type(settings.storage_type.clone())
            .set_enable_cloudwatch_logs_exports(
                (!settings.enable_cloudwatch_logs_exports.is_empty())
                    .then(|| settings.enable_cloudwatch_logs_exports.clone()),
            )
            .set_serverless_v2_scaling_configuration(
                settings.serverless_v2_scaling.as_ref().map(sdk_scaling),
            )
            .copy_tags_to_snapshot(true)
            .deletion_protection(false)
            .send()
            .await
            .map_err(|error| map_sdk_error("rds:RestoreDBClusterToPointInTime", error))?;
        output.db_cluster().map(cluster_info).ok_or_else(|| {
            AwsError::new(
                AwsErrorKind::Other,
                "rds:RestoreDBClusterToPointInTime",
                "no cluster in the response",
            )
        })
    }

    async fn create_instance(&self, request: &InstanceRequest) -> Result<InstanceInfo, AwsError> {
        let output = self
            .client
            .create_db_instance()
            .db_instance_identifier(&request.instance_id)
            .db_cluster_identifier(&request.cluster_id)
            .db_instance_class(&request.instance_class)
            .engine(&request.engine)
            .set_db_parameter_group_name(request.db_parameter_group_name.clone())
            .publicly_accessible(request.publicly_accessible)
            .set_tags(Some(sdk_tags(&request.tags)))
            .send()
            .await
            .map_err(|error| map_sdk_error("rds:CreateDBInstance", error))?;
        output.db_instance().map(instance_info).ok_or_else(|| {
            AwsError::new(
                AwsErrorKind::Other,
                "rds:CreateDBInstance",
                "no instance in the response",
            )
        })
    }

    async fn delete_instance(&self, instance_id: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_db_instance()
            .db_instance_identifier(instance_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("rds:DeleteDBInstance", error);
                match error.kind() {
                    AwsErrorKind::NotFound => Ok(()),
                    AwsErrorKind::InvalidState => {
                        // AWS words it "Instance <id> is already being deleted."; the wording
                        // is not a contract, the instance's status is.
                        match self.describe_instance(instance_id).await? {
                            None => Ok(()),
                            Some(instance) if instance.is_deleting() => Ok(()),
                            Some(_) => Err(error),
                        }
                    }
                    _ => Err(error),
                }
            }
        }
    }

    async fn start_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.client
            .start_db_cluster()
            .db_cluster_identifier(cluster_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:StartDBCluster", error))
    }

    async fn stop_cluster(&self, cluster_id: &str) -> Result<(), AwsError> {
        self.client
            .stop_db_cluster()
            .db_cluster_identifier(cluster_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:StopDBCluster", error))
    }

    async fn delete_cluster(
        &self,
        cluster_id: &str,
        final_snapshot_id: Option<&str>,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .delete_db_cluster()
            .db_cluster_identifier(cluster_id)
            .skip_final_snapshot(final_snapshot_id.is_none())
            .set_final_db_snapshot_identifier(final_snapshot_id.map(str::to_string))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                let error = map_sdk_error("rds:DeleteDBCluster", error);
                match error.kind() {
                    AwsErrorKind::NotFound => Ok(()),
                    AwsErrorKind::InvalidState => {
                        // Already being deleted counts as done; anything else is a real refusal.
                        match self.describe_cluster(cluster_id).await? {
                            None => Ok(()),
                            Some(cluster) if cluster.is_deleting() => Ok(()),
                            Some(_) => Err(error),
                        }
                    }
                    _ => Err(error),
                }
            }
        }
    }

    async fn set_master_password(
        &self,
        cluster_id: &str,
        password: &SecretString,
    ) -> Result<(), AwsError> {
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(cluster_id)
            .master_user_password(password.expose())
            .apply_immediately(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:ModifyDBCluster", error))
    }

    async fn rename_cluster(&self, cluster_id: &str, new_cluster_id: &str) -> Result<(), AwsError> {
        // Without ApplyImmediately the rename waits for the next maintenance window.
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(cluster_id)
            .new_db_cluster_identifier(new_cluster_id)
            .apply_immediately(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:ModifyDBCluster", error))
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:AddTagsToResource", error))
    }

    async fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("rds:RemoveTagsFromResource", error))
    }
}
