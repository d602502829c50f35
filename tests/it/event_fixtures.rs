//! One real-format sample per event shape: each is dispatched to the right kind, parses into
//! its typed form, and survives a serialise/parse round trip.

use std::path::PathBuf;

use aurora_clone_manager::input::cfn::CfnRequest;
use aurora_clone_manager::input::event::{
    Action, Event, RdsInstanceEvent, ScheduledEvent, dispatch,
};
use aurora_clone_manager::input::properties::{ResourceProperties, parse_properties};
use aurora_clone_manager::run::workflows::finish::FinishJob;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn event_response_url(raw: &Value) -> String {
    raw["ResponseURL"].as_str().unwrap().to_string()
}

/// The request as the dispatcher reads it, once, with its properties.
fn cloudformation(name: &str) -> CfnRequest<ResourceProperties> {
    match dispatch(fixture(name)).unwrap() {
        Event::CloudFormation(event) => {
            assert_eq!(
                event.envelope.response_url,
                event_response_url(&fixture(name))
            );
            event.request.unwrap()
        }
        other => panic!("{name} dispatched as {other:?}"),
    }
}

#[test]
fn the_create_sample_parses_with_string_typed_properties() {
    let CfnRequest::Create(create) = cloudformation("cloudformation-create.json") else {
        panic!("not a Create");
    };
    assert_eq!(create.logical_resource_id, "TestDb");
    let properties = create.resource_properties.clone.unwrap();
    assert_eq!(properties.source_cluster_id, "prod-db");
    assert!(properties.set_password);
    assert_eq!(properties.access_principal_arns.len(), 2);
    assert!(properties.copy_created_since.is_some());
    let typed = serde_json::to_value(&properties).unwrap();
    let round_trip: aurora_clone_manager::plan::request::CloneProperties =
        serde_json::from_value(typed).unwrap();
    assert_eq!(round_trip, properties);
}

#[test]
fn the_update_sample_carries_old_and_new_properties() {
    let CfnRequest::Update(update) = cloudformation("cloudformation-update.json") else {
        panic!("not an Update");
    };
    assert!(update.physical_resource_id.starts_with("arn:aws:rds:"));
    let old = update.old_resource_properties.clone.unwrap();
    let new = update.resource_properties.clone.unwrap();
    assert_eq!(old.identity(), new.identity());
    assert_ne!(old.tags, new.tags);
}

#[test]
fn the_delete_sample_names_the_clone() {
    let CfnRequest::Delete(delete) = cloudformation("cloudformation-delete.json") else {
        panic!("not a Delete");
    };
    assert_eq!(delete.request_id, "2c4e6a8b-0d1f-4e3a-9c5b-7d9e1f3a5b7c");
    assert!(!delete.resource_properties.final_snapshot);
}

#[test]
fn the_schedule_samples_both_start_maintenance() {
    let Event::Scheduled(scheduled) = dispatch(fixture("scheduled-event.json")).unwrap() else {
        panic!("not scheduled");
    };
    let again: ScheduledEvent =
        serde_json::from_value(serde_json::to_value(&scheduled).unwrap()).unwrap();
    assert_eq!(again, scheduled);
    assert_eq!(scheduled.resources.len(), 1);
    assert!(matches!(
        dispatch(fixture("schedule-legacy-maintain.json")).unwrap(),
        Event::Scheduled(_)
    ));
}

#[test]
fn the_rds_sample_is_an_instance_created_event() {
    let Event::RdsInstance(event) = dispatch(fixture("rds-instance-created.json")).unwrap() else {
        panic!("not an RDS event");
    };
    assert!(event.is_instance_created());
    assert_eq!(event.detail.source_identifier, "app-testdb-1a2b3c4d-1");
    let again: RdsInstanceEvent =
        serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
    assert_eq!(again, event);
}

#[test]
fn the_manual_samples_are_actions() {
    assert_eq!(
        dispatch(fixture("manual-maintain-dry-run.json")).unwrap(),
        Event::Action(Action::Maintain { dry_run: true })
    );
    let Event::Action(Action::Provision {
        dry_run,
        properties,
    }) = dispatch(fixture("manual-provision-dry-run.json")).unwrap()
    else {
        panic!("not a provision");
    };
    assert!(dry_run);
    assert!(parse_properties(&properties).unwrap().copy_ok);
    assert_eq!(
        dispatch(fixture("manual-status.json")).unwrap(),
        Event::Action(Action::Status {
            source_cluster_id: Some("prod-db".into())
        })
    );
}

#[test]
fn the_continuation_sample_is_a_finish_job() {
    let Event::Action(Action::Finish { job }) =
        dispatch(fixture("continuation-finish.json")).unwrap()
    else {
        panic!("not a finish");
    };
    let job: FinishJob = serde_json::from_value(job).unwrap();
    assert_eq!(job.hop, 1);
    let again: FinishJob = serde_json::from_value(serde_json::to_value(&job).unwrap()).unwrap();
    assert_eq!(again, job);
}
