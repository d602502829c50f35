//! The state table as DynamoDB keeps it: items by (pk, sk), writes that happen only when
//! their condition holds for the item there at that moment, strongly consistent reads, and
//! `ResourceNotFoundException` for a table nobody created. The key and size rules of the
//! rules table are refused as DynamoDB refuses them.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::FakeAws;
use crate::operations::{
    DYNAMODB_DELETE_ITEM, DYNAMODB_GET_ITEM, DYNAMODB_PUT_ITEM, DYNAMODB_QUERY,
};
use crate::{AwsError, AwsErrorKind, StateCondition, StateItem, StateTable};
use aurora_clone_model::rules::{check_state_item, check_state_key};

/// Every table, by name, with its items by (pk, sk).
#[derive(Default)]
pub(super) struct DynamoState {
    tables: BTreeMap<String, BTreeMap<(String, String), StateItem>>,
}

impl FakeAws {
    /// Creates an empty state table (the stack's CloudFormation resource, in production).
    pub fn create_state_table(&self, table: &str) {
        self.lock()
            .dynamo
            .tables
            .entry(table.to_string())
            .or_default();
    }

    /// Every item of a table, in key order; empty when the table does not exist.
    pub fn state_items(&self, table: &str) -> Vec<StateItem> {
        self.lock()
            .dynamo
            .tables
            .get(table)
            .map(|items| items.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Runs `change` on a table's items, or answers as DynamoDB does for a missing table.
    fn with_table<T>(
        &self,
        operation: &'static str,
        table: &str,
        change: impl FnOnce(&mut BTreeMap<(String, String), StateItem>) -> T,
    ) -> Result<T, AwsError> {
        let mut state = self.lock();
        let Some(items) = state.dynamo.tables.get_mut(table) else {
            return Err(AwsError::with_code(
                AwsErrorKind::NotFound,
                operation,
                "ResourceNotFoundException",
                format!("Requested resource not found: Table: {table} not found"),
            ));
        };
        Ok(change(items))
    }
}

fn key(pk: &str, sk: &str) -> (String, String) {
    (pk.to_string(), sk.to_string())
}

#[async_trait]
impl StateTable for FakeAws {
    async fn get_item(
        &self,
        table: &str,
        pk: &str,
        sk: &str,
    ) -> Result<Option<StateItem>, AwsError> {
        self.enter(DYNAMODB_GET_ITEM.name).await?;
        check_state_key(pk, sk)
            .map_err(|violation| violation.into_aws_error(DYNAMODB_GET_ITEM.name))?;
        self.with_table(DYNAMODB_GET_ITEM.name, table, |items| {
            items.get(&key(pk, sk)).cloned()
        })
    }

    async fn put_item(
        &self,
        table: &str,
        item: &StateItem,
        condition: &StateCondition,
    ) -> Result<bool, AwsError> {
        self.enter(DYNAMODB_PUT_ITEM.name).await?;
        check_state_item(item)
            .map_err(|violation| violation.into_aws_error(DYNAMODB_PUT_ITEM.name))?;
        self.with_table(DYNAMODB_PUT_ITEM.name, table, |items| {
            let key = key(&item.pk, &item.sk);
            if !condition.holds_for(items.get(&key)) {
                return false;
            }
            items.insert(key, item.clone());
            true
        })
    }

    async fn delete_item(
        &self,
        table: &str,
        pk: &str,
        sk: &str,
        condition: &StateCondition,
    ) -> Result<bool, AwsError> {
        self.enter(DYNAMODB_DELETE_ITEM.name).await?;
        check_state_key(pk, sk)
            .map_err(|violation| violation.into_aws_error(DYNAMODB_DELETE_ITEM.name))?;
        self.with_table(DYNAMODB_DELETE_ITEM.name, table, |items| {
            let key = key(pk, sk);
            if !condition.holds_for(items.get(&key)) {
                return false;
            }
            items.remove(&key);
            true
        })
    }

    async fn query(&self, table: &str, pk: &str) -> Result<Vec<StateItem>, AwsError> {
        self.enter(DYNAMODB_QUERY.name).await?;
        if pk.is_empty() || pk.len() > aurora_clone_model::rules::STATE_PARTITION_KEY_MAX_BYTES {
            check_state_key(pk, "-")
                .map_err(|violation| violation.into_aws_error(DYNAMODB_QUERY.name))?;
        }
        self.with_table(DYNAMODB_QUERY.name, table, |items| {
            items
                .values()
                .filter(|item| item.pk == pk)
                .cloned()
                .collect()
        })
    }
}
