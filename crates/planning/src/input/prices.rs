//! The maintenance config's price table (`:prices`), from which `status` and the
//! maintenance run estimate what the pool costs. Every key is optional: a key given
//! replaces its default (`:instance-hour` replaces the whole default class table), a key
//! left out keeps it. A bad value is reported by its path and its default is kept.

use serde_json::Value;

use crate::input::maintenance_config::ConfigProblem;
use crate::plan::cost::PriceTable;

/// Says where the prices come from when the config gives any.
const CONFIG_SOURCE: &str = "the maintenance config's :prices (keys it leaves out: defaults)";

/// Longest currency name accepted: a code like `USD` or a symbol, not a sentence.
const MAX_CURRENCY_CHARS: usize = 16;

/// Reads `:prices`; problems go to `problems`, named `prices.<key>`.
pub fn parse_prices(value: &Value, problems: &mut Vec<ConfigProblem>) -> PriceTable {
    let mut prices = PriceTable::default();
    let mut problem = |path: String, text: &str| {
        problems.push(ConfigProblem {
            path,
            problem: text.to_string(),
        })
    };
    let object = match value {
        Value::Null => return prices,
        Value::Object(object) => object,
        _ => {
            problem(
                "prices".into(),
                "expected a map like {:instance-hour {\"db.r6g.large\" 0.26} :acu-hour 0.12 \
                 :storage-gb-month 0.10 :currency \"USD\"}; the default prices are used",
            );
            return prices;
        }
    };
    if !object.is_empty() {
        prices.source = CONFIG_SOURCE.to_string();
    }
    for (raw_key, item) in object {
        let key = normalize(raw_key);
        let path = format!("prices.{key}");
        match key.as_str() {
            "instance-hour" => {
                let Some(classes) = item.as_object() else {
                    problem(
                        path,
                        "expected a map of instance class to price per hour, like \
                         {\"db.r6g.large\" 0.26}; the default classes are used",
                    );
                    continue;
                };
                prices.instance_hour.clear();
                for (class, price) in classes {
                    let class_path = format!("{path}.{}", aurora_clone_model::text::shorten(class));
                    if !class.starts_with("db.") {
                        problem(class_path, "is not an instance class (they start with db.)");
                        continue;
                    }
                    match price_value(price) {
                        Ok(price) => {
                            prices.instance_hour.insert(class.clone(), price);
                        }
                        Err(text) => problem(
                            class_path,
                            &format!("{text}; this class is priced as unknown"),
                        ),
                    }
                }
            }
            "acu-hour" => match price_value(item) {
                Ok(price) => prices.acu_hour = price,
                Err(text) => problem(path, &format!("{text}; the default is used")),
            },
            "storage-gb-month" => match price_value(item) {
                Ok(price) => prices.storage_gb_month = price,
                Err(text) => problem(path, &format!("{text}; the default is used")),
            },
            "currency" => match item.as_str() {
                Some(text)
                    if !text.trim().is_empty()
                        && text.chars().count() <= MAX_CURRENCY_CHARS
                        && !text.chars().any(char::is_control) =>
                {
                    prices.currency = text.trim().to_string();
                }
                _ => problem(
                    path,
                    &format!(
                        "expected a currency like \"USD\" (at most {MAX_CURRENCY_CHARS} \
                         characters); the default is used"
                    ),
                ),
            },
            _ => problem(
                format!("prices.{}", aurora_clone_model::text::shorten(raw_key)),
                "is not a price (instance-hour, acu-hour, storage-gb-month, currency are)",
            ),
        }
    }
    prices
}

/// `instanceHour`, `instance_hour` and `instance-hour` name the same key.
fn normalize(key: &str) -> String {
    let mut normalized = String::new();
    for character in key.chars() {
        if character.is_ascii_uppercase() {
            normalized.push('-');
            normalized.push(character.to_ascii_lowercase());
        } else if character == '_' {
            normalized.push('-');
        } else {
            normalized.push(character);
        }
    }
    normalized
}

/// A price: a finite number, zero or more.
fn price_value(value: &Value) -> Result<f64, String> {
    match value.as_f64() {
        Some(price) if price.is_finite() && price >= 0.0 => Ok(price),
        Some(price) => Err(format!("{price} is not a price (zero or more)")),
        None => Err("expected a number like 0.26".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::input::maintenance_config::parse_maintenance_config;
    use crate::plan::cost::{DEFAULT_ACU_HOUR, PriceTable};

    #[test]
    fn a_config_without_prices_uses_the_defaults() {
        let config = parse_maintenance_config("{:clusters []}").unwrap();
        assert_eq!(config.prices, PriceTable::default());
        assert_eq!(config.prices.instance_hour["db.r6g.large"], 0.26);
    }

    #[test]
    fn prices_in_edn_and_json_replace_the_defaults_they_name() {
        let edn = r#"{:clusters []
                      :prices {:instance-hour {"db.r6g.large" 0.3 "db.t4g.medium" 1}
                               :storage-gb-month 0.11 :currency "EUR"}}"#;
        let json = r#"{"clusters": [], "prices": {"instanceHour": {"db.r6g.large": 0.3,
                       "db.t4g.medium": 1}, "storageGbMonth": 0.11, "currency": "EUR"}}"#;
        let config = parse_maintenance_config(edn).unwrap();
        assert!(config.problems.is_empty(), "{:?}", config.problems);
        let prices = &config.prices;
        assert_eq!(prices.instance_hour.len(), 2, "the class table is replaced");
        assert_eq!(prices.instance_hour["db.t4g.medium"], 1.0);
        assert_eq!(prices.storage_gb_month, 0.11);
        assert_eq!(
            prices.acu_hour, DEFAULT_ACU_HOUR,
            "a key left out keeps its default"
        );
        assert_eq!(prices.currency, "EUR");
        assert!(prices.source.contains("maintenance config"));
        assert_eq!(config, parse_maintenance_config(json).unwrap());
    }

    #[test]
    fn bad_prices_are_reported_by_field_and_keep_their_default() {
        let config = parse_maintenance_config(
            r#"{:clusters [{:cluster-id "a" :target-clone-slots 1}]
                :prices {:acu-hour -1 :storage-gb-month "cheap" :currency ""
                         :instance-hour {"db.r6g.large" "x" "large" 0.2 "db.r7g.large" 0.276}
                         :io-request 0.2}}"#,
        )
        .unwrap();
        let problems: Vec<String> = config
            .problems
            .iter()
            .map(|problem| problem.to_string())
            .collect();
        assert_eq!(
            problems,
            [
                "prices.acu-hour: -1 is not a price (zero or more); the default is used",
                "prices.currency: expected a currency like \"USD\" (at most 16 characters); \
                 the default is used",
                "prices.instance-hour.db.r6g.large: expected a number like 0.26; this class is \
                 priced as unknown",
                "prices.instance-hour.large: is not an instance class (they start with db.)",
                "prices.io-request: is not a price (instance-hour, acu-hour, storage-gb-month, \
                 currency are)",
                "prices.storage-gb-month: expected a number like 0.26; the default is used",
            ]
        );
        let defaults = PriceTable::default();
        assert_eq!(config.prices.acu_hour, defaults.acu_hour);
        assert_eq!(config.prices.storage_gb_month, defaults.storage_gb_month);
        assert_eq!(config.prices.currency, "USD");
        assert_eq!(
            config.prices.instance_hour.keys().collect::<Vec<_>>(),
            ["db.r7g.large"]
        );
        assert_eq!(config.targets.len(), 1, "bad prices do not stop the roots");
    }

    #[test]
    fn prices_that_are_not_a_map_are_reported() {
        let config = parse_maintenance_config(r#"{:clusters [] :prices 5}"#).unwrap();
        assert_eq!(config.problems[0].path, "prices");
        assert_eq!(config.prices, PriceTable::default());
    }
}
