//! The SQS port on aws-sdk-sqs.

use std::time::Duration;

use async_trait::async_trait;

use super::map_sdk_error;
use crate::{AwsError, Queue, QueueMessage};

/// SQS returns at most 10 messages per ReceiveMessage.
const MAX_MESSAGES_PER_RECEIVE: i32 = 10;

/// Waiting a second for messages (long polling) avoids the empty answers a short poll may
/// give while messages exist; the CLI stops at the first empty answer.
const WAIT_SECONDS: i32 = 1;

pub struct SdkQueue {
    client: aws_sdk_sqs::Client,
}

impl SdkQueue {
    pub fn new(client: aws_sdk_sqs::Client) -> SdkQueue {
        SdkQueue { client }
    }

    pub fn from_config(sdk_config: &aws_config::SdkConfig) -> SdkQueue {
        SdkQueue::new(aws_sdk_sqs::Client::new(sdk_config))
    }
}

#[async_trait]
impl Queue for SdkQueue {
    async fn receive(
        &self,
        queue_url: &str,
        visibility: Duration,
    ) -> Result<Vec<QueueMessage>, AwsError> {
        let output = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(MAX_MESSAGES_PER_RECEIVE)
            .wait_time_seconds(WAIT_SECONDS)
            .visibility_timeout(i32::try_from(visibility.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|error| map_sdk_error("sqs:ReceiveMessage", error))?;
        Ok(output
            .messages()
            .iter()
            .filter_map(|message| {
                Some(QueueMessage {
                    message_id: message.message_id()?.to_string(),
                    receipt_handle: message.receipt_handle()?.to_string(),
                    body: message.body().unwrap_or_default().to_string(),
                })
            })
            .collect())
    }

    async fn delete(&self, queue_url: &str, receipt_handle: &str) -> Result<(), AwsError> {
        self.client
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| map_sdk_error("sqs:DeleteMessage", error))
    }
}
