//! Plain-text tables: left-aligned columns separated by two spaces, widths by characters.

use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Utc};

/// A table built row by row and rendered with aligned columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
    indent: usize,
}

impl Table {
    /// A table whose first row is `headers`.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            rows: vec![headers.iter().map(|header| header.to_string()).collect()],
            indent: 0,
        }
    }

    /// Indents every line by `spaces`.
    pub fn indented(mut self, spaces: usize) -> Table {
        self.indent = spaces;
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, each ending in a newline; trailing blanks
    /// are trimmed so that an empty last column leaves no spaces behind.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|column| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(column))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        for row in &self.rows {
            let mut line = " ".repeat(self.indent);
            for (column, cell) in row.iter().enumerate() {
                let _ = write!(line, "{cell:<width$}  ", width = widths[column]);
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

/// `-` for a missing value.
pub fn or_dash(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_string(), |value| value.to_string())
}

/// A timestamp in whole seconds, UTC.
pub fn timestamp(value: DateTime<Utc>) -> String {
    crate::model::time::format_timestamp(value)
}

/// A short age: `45s`, `12m`, `5h10m`, `3d4h`.
pub fn age(duration: TimeDelta) -> String {
    let seconds = duration.num_seconds().max(0);
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, minutes) => format!("{minutes}m"),
        (0, hours, 0) => format!("{hours}h"),
        (0, hours, minutes) => format!("{hours}h{minutes}m"),
        (days, 0, _) => format!("{days}d"),
        (days, hours, _) => format!("{days}d{hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_characters_and_lines_have_no_trailing_blanks() {
        let mut table = Table::new(&["NAME", "STATE", "NOTE"]).indented(2);
        table.row(vec!["└─ clone-1".into(), "ready".into(), String::new()]);
        table.row(vec!["root".into(), "available".into(), "x".into()]);
        assert_eq!(
            table.render(),
            "  NAME        STATE      NOTE\n  └─ clone-1  ready\n  root        available  x\n"
        );
    }

    #[test]
    fn ages_are_short_and_never_negative() {
        assert_eq!(age(TimeDelta::seconds(-5)), "0s");
        assert_eq!(age(TimeDelta::seconds(45)), "45s");
        assert_eq!(age(TimeDelta::minutes(12)), "12m");
        assert_eq!(age(TimeDelta::minutes(310)), "5h10m");
        assert_eq!(age(TimeDelta::hours(76)), "3d4h");
        assert_eq!(age(TimeDelta::days(2)), "2d");
    }
}
