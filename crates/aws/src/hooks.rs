//! One generic wrapper for every port: [`Hooked`] runs a [`Hook`] around each call before it
//! reaches the port it wraps. Fault injection, call counting and recording are hooks; the
//! forwarding code is generated with the port traits (see `ports!` in the crate root), so a
//! method added to a port is hooked without any new wrapper code.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use aurora_clone_model::AwsError;
use aurora_clone_model::operations::Operation;

use crate::Ports;

/// What runs around every call of a hooked port.
#[async_trait]
pub trait Hook: Send + Sync {
    /// Runs before the call reaches the port; an error is the call's answer, and the port
    /// is never called.
    async fn before(&self, call: &Call<'_>) -> Result<(), AwsError>;

    /// Runs once the port has answered, with its answer (the method's value, to be
    /// downcast to the method's type) or its error.
    fn after(&self, _call: &Call<'_>, _answer: Answer<'_>) {}
}

/// A port's answer as a hook sees it: the value (downcast it to the method's answer type,
/// e.g. `Option<ClusterInfo>`), or the error.
pub type Answer<'a> = Result<&'a (dyn Any + Send + Sync), &'a AwsError>;

/// One call of a port method, as a hook sees it.
pub struct Call<'a> {
    /// The AWS operation the method performs, from the operations table.
    pub operation: Operation,
    /// The port trait (`Rds`) and its method (`describe_cluster`).
    pub port: &'static str,
    pub method: &'static str,
    arguments: &'a [(&'static str, &'a (dyn Recordable + Sync))],
}

impl<'a> Call<'a> {
    pub fn new(
        operation: Operation,
        port: &'static str,
        method: &'static str,
        arguments: &'a [(&'static str, &'a (dyn Recordable + Sync))],
    ) -> Call<'a> {
        Call {
            operation,
            port,
            method,
            arguments,
        }
    }

    /// An owned copy of the argument of that name (as the port method names it), when it
    /// has that type: `&str` arguments are `String`, `&T` are `T`, `&[T]` are `Vec<T>`,
    /// `Option<&str>` is `Option<String>`.
    pub fn argument<T: 'static>(&self, name: &str) -> Option<T> {
        let (_, value) = self
            .arguments
            .iter()
            .find(|(argument, _)| *argument == name)?;
        let value: &(dyn Recordable + Sync) = *value;
        value.recorded().downcast::<T>().ok().map(|value| *value)
    }

    /// The names of the arguments, in the method's order.
    pub fn argument_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.arguments.iter().map(|(name, _)| *name)
    }
}

/// An argument a hook can take an owned copy of.
pub trait Recordable {
    fn recorded(&self) -> Box<dyn Any + Send>;
}

impl Recordable for &str {
    fn recorded(&self) -> Box<dyn Any + Send> {
        Box::new(self.to_string())
    }
}

impl Recordable for Option<&str> {
    fn recorded(&self) -> Box<dyn Any + Send> {
        Box::new(self.map(str::to_string))
    }
}

impl<T: Clone + Send + 'static> Recordable for &T {
    fn recorded(&self) -> Box<dyn Any + Send> {
        Box::new((*self).clone())
    }
}

impl<T: Clone + Send + 'static> Recordable for &[T] {
    fn recorded(&self) -> Box<dyn Any + Send> {
        Box::new(self.to_vec())
    }
}

macro_rules! recordable_by_value {
    ($($owned:ty),* $(,)?) => {
        $(impl Recordable for $owned {
            fn recorded(&self) -> Box<dyn Any + Send> {
                Box::new(self.clone())
            }
        })*
    };
}

recordable_by_value!(i32, i64, Option<String>, DateTime<Utc>, std::time::Duration);

/// A port whose calls pass through a [`Hook`] first. Every port trait is implemented for
/// `Hooked<dyn Port>` by the `ports!` declaration in the crate root.
pub struct Hooked<P: ?Sized> {
    pub(crate) inner: Arc<P>,
    pub(crate) hook: Arc<dyn Hook>,
}

impl<P: ?Sized> Hooked<P> {
    pub fn new(inner: Arc<P>, hook: Arc<dyn Hook>) -> Hooked<P> {
        Hooked { inner, hook }
    }
}

impl Ports {
    /// Every port, with `hook` run around each of its calls.
    pub fn hooked(self, hook: Arc<dyn Hook>) -> Ports {
        Ports {
            rds: Arc::new(Hooked::new(self.rds, hook.clone())),
            params: Arc::new(Hooked::new(self.params, hook.clone())),
            state: Arc::new(Hooked::new(self.state, hook.clone())),
            identity: Arc::new(Hooked::new(self.identity, hook.clone())),
            secrets: Arc::new(Hooked::new(self.secrets, hook.clone())),
            keys: Arc::new(Hooked::new(self.keys, hook.clone())),
            events: Arc::new(Hooked::new(self.events, hook.clone())),
            invoker: Arc::new(Hooked::new(self.invoker, hook.clone())),
            metrics: Arc::new(Hooked::new(self.metrics, hook)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::fake::FakeAws;
    use crate::{SecretString, Tags};
    use aurora_clone_model::operations;

    /// Keeps every call's operation, method and the arguments a test asks for.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<(Operation, &'static str, Vec<&'static str>)>>,
        passwords: Mutex<Vec<(String, String)>>,
    }

    #[async_trait]
    impl Hook for Recorder {
        async fn before(&self, call: &Call<'_>) -> Result<(), AwsError> {
            if let (Some(cluster), Some(password)) = (
                call.argument::<String>("cluster_id"),
                call.argument::<SecretString>("password"),
            ) {
                self.passwords
                    .lock()
                    .unwrap()
                    .push((cluster, password.expose().to_string()));
            }
            self.calls.lock().unwrap().push((
                call.operation,
                call.method,
                call.argument_names().collect(),
            ));
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_hook_sees_every_call_with_its_operation_and_typed_arguments() {
        let fake = FakeAws::new();
        let recorder = Arc::new(Recorder::default());
        let ports = fake.ports().hooked(recorder.clone());
        ports.params.get("/acm/x").await.unwrap();
        ports.rds.describe_clusters_page(None, 20).await.unwrap();
        let missing = ports
            .rds
            .set_master_password("nothing", &SecretString::new("p4ssw0rd".into()))
            .await;
        assert!(missing.is_err(), "no such cluster");
        let calls = recorder.calls.lock().unwrap().clone();
        assert_eq!(
            calls,
            vec![
                (operations::SSM_GET_PARAMETER, "get", vec!["name"]),
                (
                    operations::RDS_DESCRIBE_DB_CLUSTERS,
                    "describe_clusters_page",
                    vec!["marker", "max_records"]
                ),
                (
                    operations::RDS_MODIFY_DB_CLUSTER,
                    "set_master_password",
                    vec!["cluster_id", "password"]
                ),
            ]
        );
        assert_eq!(
            recorder.passwords.lock().unwrap().clone(),
            vec![("nothing".to_string(), "p4ssw0rd".to_string())]
        );
    }

    #[test]
    fn arguments_are_copied_out_with_their_owned_types() {
        let request: Tags = [("team".to_string(), "data".to_string())].into();
        let name = "prod";
        let marker: Option<String> = Some("m".into());
        let keys = ["a".to_string()];
        let arguments: &[(&'static str, &(dyn Recordable + Sync))] = &[
            ("request", &&request),
            ("name", &name),
            ("marker", &marker),
            ("keys", &&keys[..]),
        ];
        let call = Call::new(operations::RDS_ADD_TAGS_TO_RESOURCE, "Rds", "x", arguments);
        assert_eq!(call.argument::<Tags>("request"), Some(request.clone()));
        assert_eq!(call.argument::<String>("name").as_deref(), Some("prod"));
        assert_eq!(
            call.argument::<Option<String>>("marker"),
            Some(marker.clone())
        );
        assert_eq!(call.argument::<Vec<String>>("keys"), Some(keys.to_vec()));
        assert_eq!(call.argument::<i32>("name"), None, "another type");
        assert_eq!(call.argument::<String>("missing"), None);
    }
}
