//! The integration tests of the application crate, in one binary so that the harnesses
//! (the in-process fake AWS, the moto server and its proxies) are compiled once and one
//! moto server serves every test that needs it, each in an account of its own.

mod fake_harness;
mod moto_harness;

mod answer_fake;
mod aws_rules;
mod aws_rules_fake;
mod cli;
mod cloudformation_fake;
mod cost_fake;
mod crash_points;
mod event_fixtures;
mod fault_tolerance;
mod fuzz_inputs;
mod harness_selftest;
mod iam_calls;
mod key_policies_fake;
mod lambda_runtime;
mod layering;
mod lifecycle_fake;
mod maintenance_fake;
mod malformed_events;
mod metrics_wire;
mod moto_flows;
mod password_fake;
mod password_logs;
mod rds_behaviours_fake;
mod rds_rename_fake;
mod rds_wire;
mod refresh_fake;
mod response_urls;
mod serverless_fake;
mod serverless_moto;
mod state_table_fake;
mod template_config;
