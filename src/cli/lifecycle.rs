//! `extend` and `protect`: change when a clone expires, or keep it from being expired
//! until a time; `start`: start a stopped clone. All only touch this deployment's
//! clones.

use crate::cli::args::{ExtendArgs, ProtectArgs, StartArgs};
use crate::cli::error::Failure;
use crate::cli::output::{print_json, print_text};
use crate::model::naming::cluster_id_from_arn;
use crate::model::time::format_timestamp;
use crate::run::machinery::context::Context;
use crate::run::workflows::lifecycle::{self, ChangeError, LifecycleChange};

pub async fn extend(app: &Context, args: &ExtendArgs, json: bool) -> Result<(), Failure> {
    let cluster_id = cluster_id_from_arn(&args.cluster).unwrap_or(&args.cluster);
    let change = lifecycle::extend(app, cluster_id, args.by)
        .await
        .map_err(|error| explain(app, &error))?;
    show(&change, json)
}

pub async fn protect(app: &Context, args: &ProtectArgs, json: bool) -> Result<(), Failure> {
    let cluster_id = cluster_id_from_arn(&args.cluster).unwrap_or(&args.cluster);
    let change = lifecycle::protect(app, cluster_id, args.until)
        .await
        .map_err(|error| explain(app, &error))?;
    show(&change, json)
}

pub async fn start(app: &Context, args: &StartArgs, json: bool) -> Result<(), Failure> {
    let cluster_id = cluster_id_from_arn(&args.cluster).unwrap_or(&args.cluster);
    let cluster = lifecycle::start(app, cluster_id)
        .await
        .map_err(|error| explain(app, &error))?;
    if json {
        return print_json(&serde_json::json!({"started": cluster.id}));
    }
    print_text(&format!(
        "Starting {}; it takes a few minutes to become available.\n",
        cluster.id
    ));
    Ok(())
}

fn show(change: &LifecycleChange, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(change);
    }
    print_text(&render(change));
    Ok(())
}

fn render(change: &LifecycleChange) -> String {
    let expiry = match change.expires_at {
        Some(at) => format!("expires {}", format_timestamp(at)),
        None => "never expires".to_string(),
    };
    match change.protected_until {
        Some(until) => format!(
            "{}: {expiry}, protected until {}\n",
            change.cluster_id,
            format_timestamp(until)
        ),
        None => format!("{}: {expiry}\n", change.cluster_id),
    }
}

fn explain(app: &Context, error: &ChangeError) -> Failure {
    match error {
        ChangeError::Refused(_) => Failure::new(format!(
            "{error}; only clones this clone manager made can be changed (is --stack '{}' right?)",
            app.config.stack_name
        )),
        ChangeError::NoExpiry(_) => Failure::new(format!(
            "{error}; it lives until deleted (a clone gets an expiry when it is made: provision --ttl)"
        )),
        ChangeError::NotFound(_) => {
            Failure::new(format!("{error}; check the identifier and --region"))
        }
        ChangeError::Aws { source, .. } => Failure::aws(&error.to_string(), source),
        _ => Failure::new(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::now;

    #[test]
    fn a_change_is_shown_with_the_expiry_and_any_protection() {
        let mut change = LifecycleChange {
            cluster_id: "acm-c1".into(),
            expires_at: Some(now()),
            protected_until: None,
        };
        assert_eq!(render(&change), "acm-c1: expires 2024-05-01T12:00:00Z\n");
        change.expires_at = None;
        change.protected_until = Some(now());
        assert_eq!(
            render(&change),
            "acm-c1: never expires, protected until 2024-05-01T12:00:00Z\n"
        );
    }
}
