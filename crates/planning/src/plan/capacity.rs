//! Aurora Serverless v2 capacity for copies and clones: the range a request asks for,
//! checked against AWS's rules, and lowered to what the root's engine version allows.
//!
//! A copy or clone restored with a capacity range gets a `db.serverless` instance. A minimum
//! of 0 ACUs lets the instance pause when nobody is connected, but only some engine versions
//! take it (rule `rds-serverless-scale-to-zero-version`; a restore keeps its source's
//! version). On any other version the planner uses the lowest minimum the version allows,
//! 0.5 ACU, and says so in the plan, naming the rule. Everything else that AWS would refuse
//! (half steps, the range, the pause interval) is refused here, naming the field.

use serde::{Deserialize, Serialize};

use aurora_clone_model::rules::{self, ScaleToZero};
use aurora_clone_model::{ClusterInfo, ServerlessV2Scaling};

/// The capacity range a request asks for, in Aurora capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityRequest {
    pub min_acu: f64,
    pub max_acu: f64,
    /// Seconds without connections before the instance pauses; only with a minimum of 0.
    /// None: AWS's default (300 seconds) when the minimum is 0.
    #[serde(default)]
    pub auto_pause_seconds: Option<i32>,
}

// Capacities are parsed from decimal text and checked to be half steps, never NaN once
// accepted, so equality is total.
impl Eq for CapacityRequest {}

/// Which part of a [`CapacityRequest`] a problem is about, so that the caller can name its
/// own field (`ServerlessMinCapacity`, `:min`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityField {
    Min,
    Max,
    AutoPause,
}

/// Why a requested capacity cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CapacityProblem {
    pub field: CapacityField,
    pub message: String,
}

/// The capacity decided for a new cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityChoice {
    pub scaling: ServerlessV2Scaling,
    /// Set when the request could not be met as asked, saying why and which rule applied.
    pub note: Option<String>,
}

/// Checks what AWS would refuse of a range whatever the engine version: half steps, the
/// range, the pause interval, and a pause asked for beside a nonzero minimum.
pub fn check_request(wanted: &CapacityRequest) -> Result<(), CapacityProblem> {
    let problem = |field: CapacityField| {
        move |violation: rules::RuleViolation| CapacityProblem {
            field,
            message: violation.to_string(),
        }
    };
    rules::check_min_capacity(wanted.min_acu).map_err(problem(CapacityField::Min))?;
    rules::check_max_capacity(wanted.min_acu, wanted.max_acu)
        .map_err(problem(CapacityField::Max))?;
    if let Some(seconds) = wanted.auto_pause_seconds {
        rules::check_seconds_until_auto_pause(seconds)
            .map_err(problem(CapacityField::AutoPause))?;
        if wanted.min_acu > 0.0 {
            return Err(CapacityProblem {
                field: CapacityField::AutoPause,
                message: format!(
                    "an instance pauses only with a minimum of 0 ACUs, and the minimum asked \
                     is {}; ask for a minimum of 0 or leave the auto-pause out",
                    wanted.min_acu
                ),
            });
        }
    }
    Ok(())
}

/// Decides the capacity range of a copy or clone of `root`.
pub fn choose_capacity(
    root: &ClusterInfo,
    wanted: &CapacityRequest,
) -> Result<CapacityChoice, CapacityProblem> {
    check_request(wanted)?;
    if wanted.min_acu > 0.0 {
        return Ok(CapacityChoice {
            scaling: scaling(wanted.min_acu, wanted.max_acu, None),
            note: None,
        });
    }
    let version = root
        .engine_version
        .as_deref()
        .unwrap_or("(version unknown)");
    let why = match rules::scale_to_zero(&root.engine, root.engine_version.as_deref()) {
        ScaleToZero::Allowed => {
            return Ok(CapacityChoice {
                scaling: scaling(0.0, wanted.max_acu, wanted.auto_pause_seconds),
                note: None,
            });
        }
        ScaleToZero::NotThisVersion { needs } => {
            format!(
                "{} {version} cannot scale to 0 (needs {needs})",
                root.engine
            )
        }
        ScaleToZero::Unknown => format!(
            "{} {version} is not known to scale to 0 (the engine version does not say)",
            root.engine
        ),
    };
    let min = rules::MIN_ACU_WITHOUT_AUTO_PAUSE;
    Ok(CapacityChoice {
        scaling: scaling(min, wanted.max_acu, None),
        note: Some(format!(
            "{why}; using min {min} ACU, so it never pauses (AWS rule {})",
            rules::RDS_SERVERLESS_SCALE_TO_ZERO_VERSION
        )),
    })
}

fn scaling(min: f64, max: f64, auto_pause_seconds: Option<i32>) -> ServerlessV2Scaling {
    ServerlessV2Scaling {
        min_capacity: Some(min),
        max_capacity: Some(max),
        seconds_until_auto_pause: auto_pause_seconds,
    }
}

/// A capacity range in words, for plans: `0-4 ACU, pauses after 600 s without connections`.
pub fn describe(scaling: &ServerlessV2Scaling) -> String {
    let bound = |value: Option<f64>| value.map_or("?".to_string(), |value| value.to_string());
    let range = format!(
        "{}-{} ACU",
        bound(scaling.min_capacity),
        bound(scaling.max_capacity)
    );
    match (scaling.min_capacity, scaling.seconds_until_auto_pause) {
        (Some(0.0), Some(seconds)) => {
            format!("{range}, pauses after {seconds} s without connections")
        }
        (Some(0.0), None) => format!(
            "{range}, pauses after {} s without connections (AWS's default)",
            rules::MIN_SECONDS_UNTIL_AUTO_PAUSE
        ),
        _ => range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aurora_clone_model::testing::cluster;

    fn root(engine: &str, version: &str) -> ClusterInfo {
        let mut root = cluster("prod");
        root.engine = engine.to_string();
        root.engine_version = Some(version.to_string());
        root
    }

    fn wanted(min: f64, max: f64, auto_pause_seconds: Option<i32>) -> CapacityRequest {
        CapacityRequest {
            min_acu: min,
            max_acu: max,
            auto_pause_seconds,
        }
    }

    #[test]
    fn a_version_that_scales_to_zero_gets_the_range_and_pause_asked_for() {
        let choice = choose_capacity(
            &root("aurora-postgresql", "16.3"),
            &wanted(0.0, 4.0, Some(600)),
        )
        .unwrap();
        assert_eq!(choice.scaling, scaling(0.0, 4.0, Some(600)));
        assert_eq!(choice.note, None);
        assert_eq!(
            describe(&choice.scaling),
            "0-4 ACU, pauses after 600 s without connections"
        );
    }

    #[test]
    fn a_version_that_cannot_scale_to_zero_gets_half_an_acu_and_the_plan_says_why() {
        let choice = choose_capacity(
            &root("aurora-postgresql", "14.9"),
            &wanted(0.0, 4.0, Some(600)),
        )
        .unwrap();
        assert_eq!(choice.scaling, scaling(0.5, 4.0, None));
        assert_eq!(
            choice.note.as_deref(),
            Some(
                "aurora-postgresql 14.9 cannot scale to 0 (needs 14.12+); using min 0.5 ACU, \
                 so it never pauses (AWS rule rds-serverless-scale-to-zero-version)"
            )
        );
        let mysql = choose_capacity(
            &root("aurora-mysql", "8.0.mysql_aurora.3.05.2"),
            &wanted(0.0, 2.0, None),
        )
        .unwrap();
        assert_eq!(mysql.scaling, scaling(0.5, 2.0, None));
        assert!(mysql.note.unwrap().starts_with(
            "aurora-mysql 8.0.mysql_aurora.3.05.2 cannot scale to 0 (needs Aurora MySQL 3.08.0+)"
        ));
    }

    #[test]
    fn a_nonzero_minimum_is_kept_as_asked() {
        let choice =
            choose_capacity(&root("aurora-postgresql", "14.9"), &wanted(1.5, 8.0, None)).unwrap();
        assert_eq!(choice.scaling, scaling(1.5, 8.0, None));
        assert_eq!(choice.note, None);
        assert_eq!(describe(&choice.scaling), "1.5-8 ACU");
    }

    #[test]
    fn an_impossible_capacity_range_is_refused_naming_the_field_and_the_rule() {
        let root = root("aurora-postgresql", "16.3");
        let refused = |request: CapacityRequest| choose_capacity(&root, &request).unwrap_err();

        let not_half = refused(wanted(0.25, 4.0, None));
        assert_eq!(not_half.field, CapacityField::Min);
        assert!(
            not_half
                .message
                .ends_with("(AWS rule rds-serverless-capacity-range)"),
            "{not_half}"
        );

        let inverted = refused(wanted(4.0, 2.0, None));
        assert_eq!(inverted.field, CapacityField::Max);
        assert_eq!(
            inverted.message,
            "MaxCapacity 2 is below MinCapacity 4 (AWS rule rds-serverless-capacity-range)"
        );

        assert_eq!(refused(wanted(0.0, 300.0, None)).field, CapacityField::Max);

        let too_soon = refused(wanted(0.0, 4.0, Some(60)));
        assert_eq!(too_soon.field, CapacityField::AutoPause);
        assert!(
            too_soon
                .message
                .ends_with("(AWS rule rds-serverless-auto-pause-seconds)"),
            "{too_soon}"
        );

        let pause_without_zero = refused(wanted(0.5, 4.0, Some(600)));
        assert_eq!(pause_without_zero.field, CapacityField::AutoPause);
        assert!(pause_without_zero.message.contains("minimum of 0 ACUs"));
    }
}
