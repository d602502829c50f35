//! The state table through the DynamoDB SDK: conditions become condition expressions with
//! placeholder names and values (so no attribute name can collide with a reserved word),
//! reads are strongly consistent, and a failed condition is an answer, not an error.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::map_sdk_error;
use crate::operations::{
    DYNAMODB_DELETE_ITEM, DYNAMODB_GET_ITEM, DYNAMODB_PUT_ITEM, DYNAMODB_QUERY,
};
use crate::{AwsError, StateCondition, StateItem, StateTable, StateValue};

pub struct SdkStateTable {
    client: aws_sdk_dynamodb::Client,
}

impl SdkStateTable {
    pub fn new(client: aws_sdk_dynamodb::Client) -> SdkStateTable {
        SdkStateTable { client }
    }
}

/// A condition expression with its placeholders.
#[derive(Debug, Default, PartialEq)]
struct Expression {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    /// The expression for `condition`; `None` for [`StateCondition::Always`].
    fn of(condition: &StateCondition) -> Option<Expression> {
        if *condition == StateCondition::Always {
            return None;
        }
        let mut expression = Expression::default();
        expression.text = expression.render(condition);
        Some(expression)
    }

    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names
            .insert(placeholder.clone(), attribute.to_string());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn render(&mut self, condition: &StateCondition) -> String {
        match condition {
            // Inside AND/OR, "always" is a test that every item passes.
            StateCondition::Always => {
                let pk = self.name("pk");
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            }
            StateCondition::Absent => format!("attribute_not_exists({})", self.name("pk")),
            StateCondition::Missing(attribute) => {
                format!("attribute_not_exists({})", self.name(attribute))
            }
            StateCondition::Equals(attribute, value) => {
                let name = self.name(attribute);
                let value = self.value(attribute_value(value));
                format!("{name} = {value}")
            }
            StateCondition::Below(attribute, limit) => {
                let name = self.name(attribute);
                let value = self.value(AttributeValue::N(limit.to_string()));
                format!("{name} < {value}")
            }
            StateCondition::Any(conditions) => self.join(conditions, " OR "),
            StateCondition::All(conditions) => self.join(conditions, " AND "),
        }
    }

    fn join(&mut self, conditions: &[StateCondition], operator: &str) -> String {
        let parts: Vec<String> = conditions
            .iter()
            .map(|condition| self.render(condition))
            .collect();
        format!("({})", parts.join(operator))
    }
}

fn attribute_value(value: &StateValue) -> AttributeValue {
    match value {
        StateValue::Text(text) => AttributeValue::S(text.clone()),
        StateValue::Number(number) => AttributeValue::N(number.to_string()),
    }
}

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.to_string())),
        ("sk".to_string(), AttributeValue::S(sk.to_string())),
    ])
}

fn to_attributes(item: &StateItem) -> HashMap<String, AttributeValue> {
    let mut attributes = key(&item.pk, &item.sk);
    for (name, value) in &item.attributes {
        attributes.insert(name.clone(), attribute_value(value));
    }
    attributes
}

/// The item as read back. Records are untrusted: an item without a text key is no item,
/// and attributes of other types (or numbers that are not whole) are left out, so the
/// reader sees them as missing.
fn from_attributes(attributes: &HashMap<String, AttributeValue>) -> Option<StateItem> {
    let text = |name: &str| match attributes.get(name) {
        Some(AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    };
    let mut item = StateItem::new(&text("pk")?, &text("sk")?);
    for (name, value) in attributes {
        if name == "pk" || name == "sk" {
            continue;
        }
        let value = match value {
            AttributeValue::S(text) => StateValue::Text(text.clone()),
            AttributeValue::N(number) => match number.parse() {
                Ok(number) => StateValue::Number(number),
                Err(_) => continue,
            },
            _ => continue,
        };
        item.attributes.insert(name.clone(), value);
    }
    Some(item)
}

#[async_trait]
impl StateTable for SdkStateTable {
    async fn get_item(
        &self,
        table: &str,
        pk: &str,
        sk: &str,
    ) -> Result<Option<StateItem>, AwsError> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| map_sdk_error(DYNAMODB_GET_ITEM.name, error))?;
        Ok(output.item().and_then(from_attributes))
    }

    async fn put_item(
        &self,
        table: &str,
        item: &StateItem,
        condition: &StateCondition,
    ) -> Result<bool, AwsError> {
        let mut request = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(to_attributes(item)));
        if let Some(expression) = Expression::of(condition) {
            request = request
                .condition_expression(expression.text)
                .set_expression_attribute_names(Some(expression.names))
                .set_expression_attribute_values(
                    Some(expression.values).filter(|values| !values.is_empty()),
                );
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(map_sdk_error(DYNAMODB_PUT_ITEM.name, error)),
        }
    }

    async fn delete_item(
        &self,
        table: &str,
        pk: &str,
        sk: &str,
        condition: &StateCondition,
    ) -> Result<bool, AwsError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(table)
            .set_key(Some(key(pk, sk)));
        if let Some(expression) = Expression::of(condition) {
            request = request
                .condition_expression(expression.text)
                .set_expression_attribute_names(Some(expression.names))
                .set_expression_attribute_values(
                    Some(expression.values).filter(|values| !values.is_empty()),
                );
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(map_sdk_error(DYNAMODB_DELETE_ITEM.name, error)),
        }
    }

    async fn query(&self, table: &str, pk: &str) -> Result<Vec<StateItem>, AwsError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| map_sdk_error(DYNAMODB_QUERY.name, error))?;
            items.extend(output.items().iter().filter_map(from_attributes));
            match output.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(items),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_takeover_condition_becomes_one_expression_with_placeholders() {
        let condition = StateCondition::Any(vec![
            StateCondition::Absent,
            StateCondition::Below("expires".into(), 1_000),
            StateCondition::Equals("work".into(), StateValue::Text("request-1".into())),
        ]);
        let expression = Expression::of(&condition).unwrap();
        assert_eq!(
            expression.text,
            "(attribute_not_exists(#n0) OR #n1 < :v0 OR #n2 = :v1)"
        );
        assert_eq!(expression.names["#n0"], "pk");
        assert_eq!(expression.names["#n1"], "expires");
        assert_eq!(expression.values[":v0"], AttributeValue::N("1000".into()));
        assert_eq!(
            expression.values[":v1"],
            AttributeValue::S("request-1".into())
        );
        assert_eq!(Expression::of(&StateCondition::Always), None);
        let missing = Expression::of(&StateCondition::Missing("expires_ms".into())).unwrap();
        assert_eq!(missing.text, "attribute_not_exists(#n0)");
        assert_eq!(missing.names["#n0"], "expires_ms");
    }

    #[test]
    fn an_item_read_back_keeps_only_what_it_can_trust() {
        let attributes = HashMap::from([
            ("pk".to_string(), AttributeValue::S("lease".into())),
            ("sk".to_string(), AttributeValue::S("prod".into())),
            ("holder".to_string(), AttributeValue::S("h1".into())),
            ("expires".to_string(), AttributeValue::N("12".into())),
            ("odd".to_string(), AttributeValue::N("1.5".into())),
            ("flag".to_string(), AttributeValue::Bool(true)),
        ]);
        let item = from_attributes(&attributes).unwrap();
        assert_eq!(item.text("holder"), Some("h1"));
        assert_eq!(item.number("expires"), Some(12));
        assert_eq!(item.attributes.len(), 2);
        let keyless = HashMap::from([("pk".to_string(), AttributeValue::N("1".into()))]);
        assert_eq!(from_attributes(&keyless), None);
    }
}
