//! Where results go: standard output, as text or as one JSON document. A closed pipe
//! (`| head`) ends the output quietly instead of panicking.

use std::io::Write;

use serde::Serialize;

use crate::cli::error::Failure;

/// Prints text as it is (callers end lines themselves).
pub fn print_text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Prints one pretty JSON document and a newline.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::new(format!("could not write the result as JSON: {error}")))?;
    print_text(&format!("{text}\n"));
    Ok(())
}

/// A line on standard error, for notes that are not results.
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}
