use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = fieldflow::cli::Cli::parse();
    match fieldflow::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Logging may not be set up yet (bad configuration), so the error goes to stderr directly.
            eprintln!("fieldflow: {error:#}");
            ExitCode::FAILURE
        }
    }
}
