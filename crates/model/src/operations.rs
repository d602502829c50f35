//! Every AWS operation the ports call, written once: its name, the IAM action that
//! authorizes it, and whether it changes state.
//!
//! The in-process fake counts calls by these names, the hooks (fault injection, counting,
//! recording) match on them, the IAM-call check reads the actions from here, and the rules
//! table names the operations it governs. Only the SDK adapters spell an operation again,
//! as the SDK's own method. A port method names its operation where the port is declared
//! (`aurora-clone-aws`), so a new method cannot exist without a row here.

use std::fmt;

use serde::Serialize;

/// One AWS API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Operation {
    /// `service:ApiName`, the name faults, counts and errors use (`rds:CreateDBInstance`).
    pub name: &'static str,
    /// The IAM action that authorizes the call; the API name but for a few
    /// (`lambda:Invoke` is authorized as `lambda:InvokeFunction`).
    pub iam_action: &'static str,
    /// The call changes something in AWS. A crash test counts these as steps, and a
    /// read-only dry run must make none of them.
    pub changes_state: bool,
}

impl Operation {
    const fn reads(name: &'static str) -> Operation {
        Operation {
            name,
            iam_action: name,
            changes_state: false,
        }
    }

    const fn changes(name: &'static str) -> Operation {
        Operation {
            name,
            iam_action: name,
            changes_state: true,
        }
    }

    /// The service prefix (`rds`, `kms`, ...).
    pub fn service(&self) -> &'static str {
        self.name
            .split_once(':')
            .map_or(self.name, |(service, _)| service)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

// RDS
pub const RDS_DESCRIBE_DB_CLUSTERS: Operation = Operation::reads("rds:DescribeDBClusters");
pub const RDS_DESCRIBE_DB_INSTANCES: Operation = Operation::reads("rds:DescribeDBInstances");
pub const RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME: Operation =
    Operation::changes("rds:RestoreDBClusterToPointInTime");
pub const RDS_CREATE_DB_INSTANCE: Operation = Operation::changes("rds:CreateDBInstance");
pub const RDS_DELETE_DB_INSTANCE: Operation = Operation::changes("rds:DeleteDBInstance");
pub const RDS_START_DB_CLUSTER: Operation = Operation::changes("rds:StartDBCluster");
pub const RDS_STOP_DB_CLUSTER: Operation = Operation::changes("rds:StopDBCluster");
pub const RDS_DELETE_DB_CLUSTER: Operation = Operation::changes("rds:DeleteDBCluster");
pub const RDS_MODIFY_DB_CLUSTER: Operation = Operation::changes("rds:ModifyDBCluster");
pub const RDS_ADD_TAGS_TO_RESOURCE: Operation = Operation::changes("rds:AddTagsToResource");
pub const RDS_REMOVE_TAGS_FROM_RESOURCE: Operation =
    Operation::changes("rds:RemoveTagsFromResource");

// Systems Manager Parameter Store
pub const SSM_GET_PARAMETER: Operation = Operation::reads("ssm:GetParameter");
pub const SSM_GET_PARAMETERS_BY_PATH: Operation = Operation::reads("ssm:GetParametersByPath");
pub const SSM_PUT_PARAMETER: Operation = Operation::changes("ssm:PutParameter");
pub const SSM_DELETE_PARAMETER: Operation = Operation::changes("ssm:DeleteParameter");

// DynamoDB (the state table)
pub const DYNAMODB_GET_ITEM: Operation = Operation::reads("dynamodb:GetItem");
pub const DYNAMODB_PUT_ITEM: Operation = Operation::changes("dynamodb:PutItem");
pub const DYNAMODB_DELETE_ITEM: Operation = Operation::changes("dynamodb:DeleteItem");
pub const DYNAMODB_QUERY: Operation = Operation::reads("dynamodb:Query");

// STS
pub const STS_GET_CALLER_IDENTITY: Operation = Operation::reads("sts:GetCallerIdentity");

// Secrets Manager
pub const SECRETS_CREATE_SECRET: Operation = Operation::changes("secretsmanager:CreateSecret");
pub const SECRETS_PUT_RESOURCE_POLICY: Operation =
    Operation::changes("secretsmanager:PutResourcePolicy");
pub const SECRETS_GET_SECRET_VALUE: Operation = Operation::reads("secretsmanager:GetSecretValue");
pub const SECRETS_PUT_SECRET_VALUE: Operation = Operation::changes("secretsmanager:PutSecretValue");
pub const SECRETS_DELETE_SECRET: Operation = Operation::changes("secretsmanager:DeleteSecret");
pub const SECRETS_DESCRIBE_SECRET: Operation = Operation::reads("secretsmanager:DescribeSecret");
pub const SECRETS_LIST_SECRETS: Operation = Operation::reads("secretsmanager:ListSecrets");

// KMS
pub const KMS_CREATE_KEY: Operation = Operation::changes("kms:CreateKey");
pub const KMS_CREATE_ALIAS: Operation = Operation::changes("kms:CreateAlias");
pub const KMS_DELETE_ALIAS: Operation = Operation::changes("kms:DeleteAlias");
pub const KMS_LIST_ALIASES: Operation = Operation::reads("kms:ListAliases");
pub const KMS_LIST_KEYS: Operation = Operation::reads("kms:ListKeys");
pub const KMS_DESCRIBE_KEY: Operation = Operation::reads("kms:DescribeKey");
pub const KMS_LIST_RESOURCE_TAGS: Operation = Operation::reads("kms:ListResourceTags");
pub const KMS_PUT_KEY_POLICY: Operation = Operation::changes("kms:PutKeyPolicy");
pub const KMS_SCHEDULE_KEY_DELETION: Operation = Operation::changes("kms:ScheduleKeyDeletion");
pub const KMS_CREATE_GRANT: Operation = Operation::changes("kms:CreateGrant");
pub const KMS_LIST_GRANTS: Operation = Operation::reads("kms:ListGrants");
pub const KMS_REVOKE_GRANT: Operation = Operation::changes("kms:RevokeGrant");

// EventBridge
pub const EVENTS_PUT_EVENTS: Operation = Operation::changes("events:PutEvents");

// CloudWatch
pub const CLOUDWATCH_GET_METRIC_DATA: Operation = Operation::reads("cloudwatch:GetMetricData");

// Lambda: the API is Invoke, IAM authorizes it as InvokeFunction.
pub const LAMBDA_INVOKE: Operation = Operation {
    name: "lambda:Invoke",
    iam_action: "lambda:InvokeFunction",
    changes_state: true,
};

// SQS (the CLI's dead-letter reader only)
pub const SQS_RECEIVE_MESSAGE: Operation = Operation::changes("sqs:ReceiveMessage");
pub const SQS_DELETE_MESSAGE: Operation = Operation::changes("sqs:DeleteMessage");

/// Every operation above, in the order of the table.
pub const OPERATIONS: &[Operation] = &[
    RDS_DESCRIBE_DB_CLUSTERS,
    RDS_DESCRIBE_DB_INSTANCES,
    RDS_RESTORE_DB_CLUSTER_TO_POINT_IN_TIME,
    RDS_CREATE_DB_INSTANCE,
    RDS_DELETE_DB_INSTANCE,
    RDS_START_DB_CLUSTER,
    RDS_STOP_DB_CLUSTER,
    RDS_DELETE_DB_CLUSTER,
    RDS_MODIFY_DB_CLUSTER,
    RDS_ADD_TAGS_TO_RESOURCE,
    RDS_REMOVE_TAGS_FROM_RESOURCE,
    SSM_GET_PARAMETER,
    SSM_GET_PARAMETERS_BY_PATH,
    SSM_PUT_PARAMETER,
    SSM_DELETE_PARAMETER,
    DYNAMODB_GET_ITEM,
    DYNAMODB_PUT_ITEM,
    DYNAMODB_DELETE_ITEM,
    DYNAMODB_QUERY,
    STS_GET_CALLER_IDENTITY,
    SECRETS_CREATE_SECRET,
    SECRETS_PUT_RESOURCE_POLICY,
    SECRETS_GET_SECRET_VALUE,
    SECRETS_PUT_SECRET_VALUE,
    SECRETS_DELETE_SECRET,
    SECRETS_DESCRIBE_SECRET,
    SECRETS_LIST_SECRETS,
    KMS_CREATE_KEY,
    KMS_CREATE_ALIAS,
    KMS_DELETE_ALIAS,
    KMS_LIST_ALIASES,
    KMS_LIST_KEYS,
    KMS_DESCRIBE_KEY,
    KMS_LIST_RESOURCE_TAGS,
    KMS_PUT_KEY_POLICY,
    KMS_SCHEDULE_KEY_DELETION,
    KMS_CREATE_GRANT,
    KMS_LIST_GRANTS,
    KMS_REVOKE_GRANT,
    EVENTS_PUT_EVENTS,
    CLOUDWATCH_GET_METRIC_DATA,
    LAMBDA_INVOKE,
    SQS_RECEIVE_MESSAGE,
    SQS_DELETE_MESSAGE,
];

/// The operation of that name (`rds:CreateDBInstance`), if the ports call it.
pub fn by_name(name: &str) -> Option<Operation> {
    OPERATIONS
        .iter()
        .copied()
        .find(|operation| operation.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_listed_once_with_a_service_prefix() {
        let mut names: Vec<&str> = OPERATIONS.iter().map(|operation| operation.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            OPERATIONS.len(),
            "an operation is listed twice"
        );
        for operation in OPERATIONS {
            let (service, api) = operation.name.split_once(':').expect("service:Api");
            assert!(!service.is_empty() && !api.is_empty(), "{operation}");
            assert_eq!(operation.service(), service);
            assert!(
                operation.iam_action.starts_with(&format!("{service}:")),
                "{operation}: the IAM action belongs to the same service"
            );
        }
    }

    #[test]
    fn operations_are_found_by_name() {
        assert_eq!(by_name("lambda:Invoke"), Some(LAMBDA_INVOKE));
        assert_eq!(LAMBDA_INVOKE.iam_action, "lambda:InvokeFunction");
        assert_eq!(by_name("rds:CreateDBCluster"), None);
    }
}
