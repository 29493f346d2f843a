//! The command line (clap). Each command loads the config, then calls into the library;
//! `main.rs` only calls [`main`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DEFAULT_TOML, Sources};

#[derive(Debug, Parser)]
#[command(
    name = "oneonone",
    version,
    about = "Turns a manager's calendar into a 1:1 practice."
)]
pub struct Cli {
    /// Config file (else ONEONONE_CONFIG, else the built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: HTTP server (health, readiness, metrics) and the sync loop.
    Run {
        /// Start the clock at this instant (RFC 3339) instead of now: replays any week.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Show or check configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the default configuration, every key commented.
    PrintDefault,
    /// Check a config file (with the environment applied); exits non-zero naming the bad key.
    Check {
        /// The file to check (else --config / ONEONONE_CONFIG / defaults only).
        file: Option<PathBuf>,
    },
}

/// Parses the command line and runs it. Errors print as one line per cause, exit code 1
/// (2 for a bad command line, from clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(file: Option<PathBuf>) -> anyhow::Result<Config> {
    Config::load(&Sources::from_process(file)).context("invalid configuration")
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Config {
            action: ConfigAction::PrintDefault,
        } => {
            print!("{DEFAULT_TOML}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            action: ConfigAction::Check { file },
        } => {
            let named = file.or(cli.config);
            let shown = named
                .as_ref()
                .map_or_else(|| "defaults".into(), |p| p.display().to_string());
            load_config(named)?;
            println!("ok: {shown}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            runtime()?.block_on(async {
                let store = crate::store::Store::connect(&config.database).await?;
                let applied = store.migrate().await?;
                println!("{applied} migration(s) applied ({})", store.dialect());
                store.close().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { now } => {
            let config = load_config(cli.config)?;
            crate::telemetry::init_logging(&config.log);
            let clock = crate::clock::from_option(now);
            runtime()?.block_on(async {
                let listener = tokio::net::TcpListener::bind(config.server.listen)
                    .await
                    .with_context(|| {
                        format!("cannot listen on {} (server.listen)", config.server.listen)
                    })?;
                let cancel = CancellationToken::new();
                crate::app::cancel_on_signals(cancel.clone());
                crate::app::run(config, listener, cancel, clock).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
