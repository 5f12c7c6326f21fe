//! `fieldflow-bot`: the Telegram bot. Its dialogues arrive with the bot issue; for now it checks
//! its configuration and database like every other Fieldflow process, then says what it lacks.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match backend::config::Settings::load(None) {
        Ok(_) => {
            eprintln!("fieldflow-bot: the Telegram bot is not part of this release yet");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("fieldflow-bot: {error}");
            ExitCode::FAILURE
        }
    }
}
