//! One binary: the Lambda function when run by Lambda, the operator CLI otherwise.

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match runtime.block_on(aurora_clone_manager::lambda::run()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!(
                    "{{\"level\":\"ERROR\",\"message\":\"{}\"}}",
                    error.to_string().replace('"', "'")
                );
                ExitCode::FAILURE
            }
        };
    }
    runtime.block_on(aurora_clone_manager::cli::run())
}
