//! ISO-8601 durations and timestamps as users write them in properties and config.
//!
//! chrono parses timestamps but not durations; the duration grammar we accept is small
//! (`PnW`, `PnDTnHnMnS`, and a bare number of days, which the original tool accepted).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use crate::text::shorten;

/// Parses an ISO-8601 duration such as `P3D`, `PT50M`, `P1DT12H`, `P2W`, or a bare number
/// of days (`3`). Years and months are refused because they have no fixed length.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let quoted = shorten(text.trim());
    parse_duration_quoting(text.trim(), &quoted)
}

/// The parser proper; messages quote `quoted` (a short form of the input).
fn parse_duration_quoting(text: &str, quoted: &str) -> Result<TimeDelta, String> {
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        let days: i64 = text
            .parse()
            .map_err(|_| format!("'{quoted}' is too large a number of days"))?;
        return checked_days(days, quoted);
    }
    let upper = text.to_ascii_uppercase();
    let Some(body) = upper.strip_prefix('P') else {
        return Err(format!(
            "'{quoted}' is not an ISO-8601 duration (expected something like P3D or PT12H)"
        ));
    };
    let (date_part, time_part) = match body.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (body, None),
    };
    let mut total = TimeDelta::zero();
    let mut saw_component = false;
    for (part, is_time) in [(date_part, false), (time_part.unwrap_or(""), true)] {
        let mut number = String::new();
        for character in part.chars() {
            if character.is_ascii_digit() {
                number.push(character);
                continue;
            }
            if number.is_empty() {
                return Err(format!(
                    "'{quoted}' is not an ISO-8601 duration: '{character}' has no number before it"
                ));
            }
            let amount: i64 = number
                .parse()
                .map_err(|_| format!("'{quoted}' has a number that is too large"))?;
            number.clear();
            let unit_seconds: i64 = match (is_time, character) {
                (false, 'W') => 7 * 86_400,
                (false, 'D') => 86_400,
                (true, 'H') => 3_600,
                (true, 'M') => 60,
                (true, 'S') => 1,
                (false, 'Y') | (false, 'M') => {
                    return Err(format!(
                        "'{quoted}': years and months have no fixed length; use days (P30D) or weeks (P4W)"
                    ));
                }
                _ => {
                    return Err(format!(
                        "'{quoted}' is not an ISO-8601 duration: unexpected '{character}'"
                    ));
                }
            };
            let seconds = amount
                .checked_mul(unit_seconds)
                .ok_or_else(|| format!("'{quoted}' is too long a duration"))?;
            total = total
                .checked_add(
                    &TimeDelta::try_seconds(seconds)
                        .ok_or_else(|| format!("'{quoted}' is too long a duration"))?,
                )
                .ok_or_else(|| format!("'{quoted}' is too long a duration"))?;
            saw_component = true;
        }
        if !number.is_empty() {
            return Err(format!(
                "'{quoted}' is not an ISO-8601 duration: the number {} has no unit",
                shorten(&number)
            ));
        }
    }
    if !saw_component {
        return Err(format!(
            "'{quoted}' is not an ISO-8601 duration (expected something like P3D or PT12H)"
        ));
    }
    Ok(total)
}

/// Parses a lifetime as people type it on a command line: `7d`, `12h`, `30m`, `2w`, or
/// anything [`parse_duration`] reads (`P7D`, `PT12H`). Must be longer than zero.
pub fn parse_lifetime(text: &str) -> Result<TimeDelta, String> {
    let trimmed = text.trim();
    let quoted = shorten(trimmed);
    let lower = trimmed.to_ascii_lowercase();
    let short = lower
        .char_indices()
        .last()
        .filter(|(index, unit)| {
            *index > 0
                && "wdhm".contains(*unit)
                && lower[..*index].bytes().all(|byte| byte.is_ascii_digit())
        })
        .map(|(index, unit)| (lower[..index].to_string(), unit));
    let duration = match short {
        Some((number, unit)) => {
            let iso = match unit {
                'w' => format!("P{number}W"),
                'd' => format!("P{number}D"),
                'h' => format!("PT{number}H"),
                _ => format!("PT{number}M"),
            };
            parse_duration_quoting(&iso, &quoted)?
        }
        None => parse_duration_quoting(trimmed, &quoted).map_err(|problem| {
            format!("{problem}; short forms like 7d, 12h, 30m or 2w work too")
        })?,
    };
    if duration <= TimeDelta::zero() {
        return Err(format!("'{quoted}' must be longer than zero"));
    }
    Ok(duration)
}

fn checked_days(days: i64, text: &str) -> Result<TimeDelta, String> {
    TimeDelta::try_days(days).ok_or_else(|| format!("'{text}' is too long a duration"))
}

/// Formats a duration the way [`parse_duration`] reads it back (`P3D`, `PT50M`, `P1DT2H`).
pub fn format_duration(duration: TimeDelta) -> String {
    let mut seconds = duration.num_seconds();
    if seconds <= 0 {
        return "PT0S".to_string();
    }
    let days = seconds / 86_400;
    seconds %= 86_400;
    let hours = seconds / 3_600;
    seconds %= 3_600;
    let minutes = seconds / 60;
    seconds %= 60;
    let mut text = String::from("P");
    if days > 0 {
        text.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 {
        text.push('T');
        if hours > 0 {
            text.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            text.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 {
            text.push_str(&format!("{seconds}S"));
        }
    }
    text
}

/// Parses an ISO-8601 timestamp: with an offset (`2024-05-01T10:00:00Z`), without one
/// (`2018-07-20T00:30:00`, read as UTC, as the original tool did), or a bare date.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Ok(parsed.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(parsed.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    Err(format!(
        "'{}' is not an ISO-8601 timestamp (expected something like 2024-05-01T10:00:00Z)",
        shorten(text)
    ))
}

/// The timestamp format of tags and outputs: RFC 3339 in UTC, whole seconds.
pub fn format_timestamp(timestamp: DateTime<Utc>) -> String {
    timestamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A compact timestamp for identifiers and secret names: `20240501T100000`.
pub fn compact_timestamp(timestamp: DateTime<Utc>) -> String {
    timestamp.format("%Y%m%dT%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_the_forms_users_write_parse() {
        assert_eq!(parse_duration("P3D").unwrap(), TimeDelta::days(3));
        assert_eq!(parse_duration("PT50M").unwrap(), TimeDelta::minutes(50));
        assert_eq!(parse_duration("P1DT12H").unwrap(), TimeDelta::hours(36));
        assert_eq!(parse_duration("P2W").unwrap(), TimeDelta::days(14));
        assert_eq!(parse_duration("pt90s").unwrap(), TimeDelta::seconds(90));
        assert_eq!(parse_duration("3").unwrap(), TimeDelta::days(3));
    }

    #[test]
    fn durations_without_a_fixed_length_or_form_are_refused_with_the_reason() {
        assert!(parse_duration("P1M").unwrap_err().contains("months"));
        assert!(parse_duration("P1Y").unwrap_err().contains("years"));
        assert!(parse_duration("P").is_err());
        assert!(parse_duration("PT").is_err());
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("P3").unwrap_err().contains("no unit"));
        assert!(parse_duration("PD").is_err());
        assert!(parse_duration("P1H").is_err());
        assert!(parse_duration("P99999999999999999999D").is_err());
        assert!(parse_duration("P9999999999999D").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn lifetimes_read_short_forms_and_iso_durations() {
        assert_eq!(parse_lifetime("7d").unwrap(), TimeDelta::days(7));
        assert_eq!(parse_lifetime("12h").unwrap(), TimeDelta::hours(12));
        assert_eq!(parse_lifetime("30M").unwrap(), TimeDelta::minutes(30));
        assert_eq!(parse_lifetime("2w").unwrap(), TimeDelta::days(14));
        assert_eq!(parse_lifetime("PT2H").unwrap(), TimeDelta::hours(2));
        assert!(
            parse_lifetime("0d")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(parse_lifetime("d").is_err());
        assert!(
            parse_lifetime("7 days")
                .unwrap_err()
                .contains("short forms")
        );
        assert!(parse_lifetime("-3d").is_err());
    }

    #[test]
    fn formatted_durations_read_back_the_same() {
        for text in ["P3D", "PT50M", "P1DT2H3M4S", "PT0S"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }

    #[test]
    fn timestamps_with_and_without_offsets_parse_as_utc() {
        let expected = NaiveDate::from_ymd_opt(2018, 7, 20)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap()
            .and_utc();
        assert_eq!(parse_timestamp("2018-07-20T00:30:00").unwrap(), expected);
        assert_eq!(parse_timestamp("2018-07-20T00:30:00Z").unwrap(), expected);
        assert_eq!(
            parse_timestamp("2018-07-20T02:30:00+02:00").unwrap(),
            expected
        );
        assert_eq!(
            parse_timestamp("2018-07-20").unwrap(),
            expected - TimeDelta::minutes(30)
        );
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_timestamp("2018-13-01").is_err());
    }
}
