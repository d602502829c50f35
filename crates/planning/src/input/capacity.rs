//! Parsing of Serverless v2 capacity as people write it: ACU numbers (`0`, `0.5`, `4`),
//! a `MIN-MAX` range for the CLI, and the auto-pause interval as an ISO-8601 duration
//! (`PT10M`). Whether AWS takes the values is decided by the planner
//! (`plan::capacity`), which names the rule; here only the shape is checked.

use serde_json::Value;

use aurora_clone_model::time::parse_duration;

/// A number of ACUs from text or a JSON number.
pub fn parse_acu(value: &Value) -> Result<f64, String> {
    let number = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match number {
        Some(number) if number.is_finite() => Ok(number),
        _ => Err(format!(
            "expected a number of ACUs like 0, 0.5 or 4, got {}",
            aurora_clone_model::text::shorten(&value.to_string())
        )),
    }
}

/// A `MIN-MAX` range of ACUs, as the CLI's `--serverless 0-4` takes it.
pub fn parse_acu_range(text: &str) -> Result<(f64, f64), String> {
    let shape = || {
        format!(
            "expected MIN-MAX in ACUs like 0-4 or 0.5-16, got \"{}\"",
            aurora_clone_model::text::shorten(text)
        )
    };
    let (min, max) = text.trim().split_once('-').ok_or_else(shape)?;
    let number = |part: &str| part.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    match (number(min), number(max)) {
        (Some(min), Some(max)) => Ok((min, max)),
        _ => Err(shape()),
    }
}

/// The auto-pause interval in whole seconds, from an ISO-8601 duration.
pub fn parse_auto_pause(text: &str) -> Result<i32, String> {
    let duration = parse_duration(text)?;
    if duration.subsec_nanos() != 0 {
        return Err("must be a whole number of seconds".to_string());
    }
    i32::try_from(duration.num_seconds())
        .map_err(|_| "is longer than AWS's longest auto-pause interval, a day".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acu_values_are_read_from_numbers_and_text() {
        assert_eq!(parse_acu(&json!(0)), Ok(0.0));
        assert_eq!(parse_acu(&json!("0.5")), Ok(0.5));
        assert_eq!(parse_acu(&json!(4.0)), Ok(4.0));
        assert!(
            parse_acu(&json!("four"))
                .unwrap_err()
                .contains("like 0, 0.5 or 4")
        );
        assert!(parse_acu(&json!(true)).is_err());
    }

    #[test]
    fn a_cli_range_is_min_dash_max() {
        assert_eq!(parse_acu_range("0-4"), Ok((0.0, 4.0)));
        assert_eq!(parse_acu_range("0.5-16"), Ok((0.5, 16.0)));
        assert!(parse_acu_range("4").unwrap_err().contains("MIN-MAX"));
        assert!(parse_acu_range("a-b").is_err());
    }

    #[test]
    fn serverless_properties_become_a_capacity_request_and_their_mistakes_name_the_property() {
        use crate::input::properties::parse_properties;
        let parsed = parse_properties(&json!({
            "SourceClusterId": "prod",
            "ServerlessMinCapacity": "0",
            "ServerlessMaxCapacity": "4",
            "AutoPauseAfter": "PT10M",
        }))
        .unwrap();
        assert_eq!(
            parsed.serverless,
            Some(crate::plan::capacity::CapacityRequest {
                min_acu: 0.0,
                max_acu: 4.0,
                auto_pause_seconds: Some(600),
            })
        );
        let refused = |properties: Value| parse_properties(&properties).unwrap_err().to_string();
        assert_eq!(
            refused(json!({"SourceClusterId": "prod", "ServerlessMinCapacity": "0"})),
            "ServerlessMaxCapacity: is required with ServerlessMinCapacity"
        );
        assert!(
            refused(json!({"SourceClusterId": "prod", "AutoPauseAfter": "PT10M"}))
                .starts_with("AutoPauseAfter: needs ServerlessMinCapacity 0")
        );
        assert_eq!(
            refused(
                json!({"SourceClusterId": "prod", "ServerlessMinCapacity": "0",
                           "ServerlessMaxCapacity": "4", "AutoPauseAfter": "PT1M"})
            ),
            "AutoPauseAfter: SecondsUntilAutoPause 60 is outside 300 to 86400 (five minutes \
             to one day) (AWS rule rds-serverless-auto-pause-seconds)"
        );
        assert!(
            refused(
                json!({"SourceClusterId": "prod", "ServerlessMinCapacity": "0",
                           "ServerlessMaxCapacity": "4", "InstanceClass": "db.r6g.large"})
            )
            .starts_with("InstanceClass: 'db.r6g.large' cannot be combined")
        );
    }

    #[test]
    fn copy_capacity_in_the_maintenance_config_is_read_and_checked_by_path() {
        use crate::input::maintenance_config::parse_maintenance_config;
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "prod" :target-clone-slots 20
                            :copy-capacity {:min 0 :max 4 :auto-pause "PT10M"}}
                           {:cluster-id "other" :target-clone-slots 5
                            :copy-capacity {:min 0.25 :max 4}}
                           {:cluster-id "third" :target-clone-slots 5
                            :copy-instance-class "db.r6g.large"
                            :copy-capacity {:min 0 :max 4}}]}"#,
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(
            config.targets[0].copy_capacity,
            Some(crate::plan::capacity::CapacityRequest {
                min_acu: 0.0,
                max_acu: 4.0,
                auto_pause_seconds: Some(600),
            })
        );
        let problems: Vec<String> = config.problems.iter().map(ToString::to_string).collect();
        assert!(
            problems[0].starts_with("clusters[1].copy-capacity.min: MinCapacity 0.25"),
            "{problems:#?}"
        );
        assert!(
            problems[1].starts_with(
                "clusters[2].copy-capacity: cannot be combined with copy-instance-class"
            ),
            "{problems:#?}"
        );
    }

    #[test]
    fn the_auto_pause_interval_is_an_iso_duration_in_seconds() {
        assert_eq!(parse_auto_pause("PT10M"), Ok(600));
        assert_eq!(parse_auto_pause("P1D"), Ok(86_400));
        assert!(parse_auto_pause("ten minutes").is_err());
    }
}
