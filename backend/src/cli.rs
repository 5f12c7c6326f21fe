//! The `fieldflow` command line: serve, migrate, seed, user administration and key generation.

use crate::actor::Actor;
use crate::config::Settings;
use crate::jobs;
use crate::orgs::service::NewOrg;
use crate::state::AppState;
use crate::{app, db, orgs, seed, service_types, telemetry, users};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use domain::api::PasswordInput;
use domain::api::users::CreateUserRequest;
use domain::{Currency, Locale, OrgName, Role, TimeZone};
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "fieldflow", version, about = "Fieldflow field-service platform: API server and administration")]
pub struct Cli {
    /// A TOML settings file; `fieldflow.toml` in the working directory is read when present.
    #[arg(long, global = true, env = "FIELDFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the OpenAPI docs and the web app until SIGTERM or Ctrl-C, with the
    /// background workers unless `--no-workers`.
    Serve {
        /// Leave the notification relay, the periodic scheduler and the workers to `fieldflow worker`
        /// processes.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run the notification relay, the periodic scheduler and the workers only, until SIGTERM or
    /// Ctrl-C.
    Worker,
    /// Create the database if it does not exist and apply pending migrations.
    Migrate,
    /// Load data sets.
    #[command(subcommand)]
    Seed(SeedCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import and export service types (workflow templates) as YAML.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Print a new VAPID key pair for web push: the private key as a FIELDFLOW_VAPID_PRIVATE_KEY
    /// line, and the public key browsers subscribe with as a comment. Reads no settings.
    VapidKeygen,
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Load the demo organization: people, technicians, service types, customers and 300 past
    /// orders. Running it again changes nothing.
    Demo {
        /// The seed file; the copy of `seeds/demo.yaml` built into the binary by default.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Add N past orders with consistent histories to the demo organization, for benchmarks.
    Bench {
        /// How many orders to add.
        #[arg(long)]
        orders: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, and their organization when it does not exist. The password is read from
    /// FIELDFLOW_NEW_PASSWORD or, when that is unset, from the first line of standard input.
    Create {
        /// Organization name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// admin, dispatcher, manager or technician.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Full name; the part of the email before `@` when omitted.
        #[arg(long)]
        name: Option<String>,
        /// Time zone of a new organization.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Language of a new organization: en, ru, ar or he.
        #[arg(long, default_value = "en")]
        locale: String,
        /// Currency of a new organization (ISO 4217).
        #[arg(long, default_value = "USD")]
        currency: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Import service types from a YAML file (the format `templates export` writes): each is
    /// created, or updated when its code exists. Nothing is written unless the whole file is valid;
    /// every problem is printed with its path in the file.
    Import {
        /// Organization name; the organization must exist.
        #[arg(long)]
        org: String,
        /// The YAML document.
        file: PathBuf,
    },
    /// Write the organization's service types that are not archived to standard output as YAML.
    Export {
        /// Organization name; the organization must exist.
        #[arg(long)]
        org: String,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned()))
        .map_err(|_| "expected admin, dispatcher, manager or technician".to_owned())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    // Needs no settings: it makes the one a new deployment lacks.
    if matches!(cli.command, Command::VapidKeygen) {
        return vapid_keygen();
    }
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings);
    match cli.command {
        Command::Serve { no_workers } => {
            let mut state = AppState::connect(settings).await?;
            state.metrics = Some(crate::http::metrics::recorder()?);
            let jobs = (!no_workers).then(|| tokio::spawn(jobs::run_jobs(state.clone(), app::shutdown_signal())));
            app::serve(state).await?;
            if let Some(jobs) = jobs {
                jobs.await??;
            }
            Ok(())
        }
        Command::Worker => {
            let state = AppState::connect(settings).await?;
            jobs::run_jobs(state, app::shutdown_signal()).await
        }
        Command::Migrate => {
            db::create_if_missing(&settings).await?;
            let pool = db::connect(&settings).await?;
            db::migrate(&pool).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Seed(SeedCommand::Bench { orders }) => {
            let state = AppState::connect(settings).await?;
            let started = std::time::Instant::now();
            let written = seed::load_bench(&state, orders).await?;
            tracing::info!(orders = written, seconds = started.elapsed().as_secs_f64(), "bench orders written");
            Ok(())
        }
        Command::Seed(SeedCommand::Demo { file }) => {
            let state = AppState::connect(settings).await?;
            let source = match file {
                Some(path) => std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
                None => seed::DEMO.to_owned(),
            };
            let report = seed::load_demo(&state, &source).await?;
            tracing::info!(
                created = report.created,
                already_present = report.skipped,
                service_types_created = report.service_types.created,
                service_types_updated = report.service_types.updated,
                customers = report.customers,
                orders = report.orders,
                "demo seed loaded"
            );
            Ok(())
        }
        Command::Templates(command) => templates(settings, command).await,
        Command::VapidKeygen => vapid_keygen(),
        Command::User(UserCommand::Create { org, email, role, name, time_zone, locale, currency }) => {
            let new_org = NewOrg {
                name: OrgName::parse(&org).map_err(|e| anyhow::anyhow!("--org: {}", e.message))?,
                time_zone: TimeZone::parse(&time_zone).map_err(|e| anyhow::anyhow!("--time-zone: {}", e.message))?,
                locale: Locale::parse(&locale).map_err(|e| anyhow::anyhow!("--locale: {}", e.message))?,
                currency: Currency::parse(&currency).map_err(|e| anyhow::anyhow!("--currency: {}", e.message))?,
            };
            let password = read_new_password()?;
            let full_name = name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
            let request = CreateUserRequest {
                email,
                full_name,
                role,
                phone: None,
                locale: None,
                time_zone: None,
                password: Some(PasswordInput(password)),
            };
            // Checked before the organization is created, so a refused user leaves nothing behind.
            request.parse().map_err(|errors| anyhow::anyhow!("{}", describe_fields(&errors)))?;
            let state = AppState::connect(settings).await?;
            let org_id = orgs::service::find_or_create(&state, &new_org).await?;
            let created = users::service::create(&state, &Actor::System { org_id }, &request)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(user = %created.id, org = %org_id, email = %created.email, role = ?created.role, "user created");
            let starters = service_types::service::ensure_starter_set(&state, &Actor::System { org_id })
                .await
                .map_err(|e| anyhow::anyhow!("starter service types: {e}"))?;
            if starters > 0 {
                tracing::info!(org = %org_id, count = starters, "starter service types created");
            }
            Ok(())
        }
    }
}

/// `vapid-keygen`: a line `scripts/up` (or a person) can add to the environment, and the public key.
fn vapid_keygen() -> anyhow::Result<()> {
    let (private, public) = crate::push::VapidKey::generate();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "FIELDFLOW_VAPID_PRIVATE_KEY={private}")?;
    writeln!(stdout, "# public key (applicationServerKey): {public}")?;
    Ok(())
}

/// `templates import` and `templates export`, acting as the system within the named organization.
async fn templates(settings: Settings, command: TemplatesCommand) -> anyhow::Result<()> {
    let (TemplatesCommand::Import { org, .. } | TemplatesCommand::Export { org }) = &command;
    let name = OrgName::parse(org).map_err(|e| anyhow::anyhow!("--org: {}", e.message))?;
    let state = AppState::connect(settings).await?;
    let org_id = orgs::service::find_by_name(&state, &name).await.map_err(|e| anyhow::anyhow!("--org {org}: {e}"))?;
    let actor = Actor::System { org_id };
    let mut stdout = std::io::stdout().lock();
    match command {
        TemplatesCommand::Import { file, .. } => {
            let source = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            match service_types::service::import(&state, &actor, &source).await {
                Ok(summary) => {
                    let (created, updated, unchanged) = (summary.created, summary.updated, summary.unchanged);
                    writeln!(stdout, "{created} created, {updated} updated, {unchanged} unchanged")?;
                    Ok(())
                }
                Err(service_types::ServiceTypeError::Invalid(errors)) => {
                    let problems = service_types::document::lines(&errors);
                    for problem in &problems {
                        eprintln!("{problem}");
                    }
                    bail!("{} was not imported: {} problem(s); nothing was written", file.display(), problems.len())
                }
                Err(other) => Err(anyhow::anyhow!("{other}")),
            }
        }
        TemplatesCommand::Export { .. } => {
            let document = service_types::service::export(&state, &actor).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            stdout.write_all(document.as_bytes())?;
            Ok(())
        }
    }
}

/// The password for `user create`: never a command-line argument, where `ps` and shell history see it.
fn read_new_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("FIELDFLOW_NEW_PASSWORD") {
        return Ok(password);
    }
    eprintln!("Password for the new user (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password: set FIELDFLOW_NEW_PASSWORD or write it on standard input");
    }
    Ok(password)
}

fn describe_fields(errors: &domain::FieldErrors) -> String {
    errors
        .fields
        .iter()
        .map(|(field, list)| {
            let reasons: Vec<&str> = list.iter().map(|e| e.message.as_str()).collect();
            format!("{field}: {}", reasons.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
