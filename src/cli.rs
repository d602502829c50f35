//! The operator CLI (filled in below).
pub async fn run() -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
