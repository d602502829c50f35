//! Quoting user input in messages: never more than a readable piece of it, so an error
//! about a huge value stays small (a CloudFormation reason, a log line).

/// How much of a value a message quotes.
pub const QUOTED_CHARS: usize = 60;

/// `text` itself if short, else its first [`QUOTED_CHARS`] characters and `...`.
pub fn shorten(text: &str) -> String {
    shorten_to(text, QUOTED_CHARS)
}

/// `text` itself if at most `max_chars` long, else its first `max_chars` characters and `...`.
pub fn shorten_to(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(max_chars).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_marked_and_short_text_is_kept() {
        assert_eq!(shorten("prod-db"), "prod-db");
        let long = "é".repeat(100);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), QUOTED_CHARS + 3);
        assert!(cut.ends_with("..."));
    }
}
