//! `bai-service`: serve (default), print the OpenAPI spec, run migrations, administer users.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory, Parser, Subcommand};

use bai_service::config::{ConfigError, DEFAULT_WECHAT_API_BASE, LogFormat, Secret, Settings};
use bai_service::store::Db;
use bai_service::wechat::WechatCredentials;
use bai_service::{Application, cli_error, pocketbase, startup, telemetry};
use secrecy::ExposeSecret as _;

#[derive(Parser)]
#[command(
    name = "bai-service",
    version,
    about = "WeChat mini-program backend (PocketBase-hooks compatible)"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the generated OpenAPI document (YAML).
    Spec,
    /// Run the database migrations and exit.
    Migrate,
    /// Administer users.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Import the users and companies of another backend, keeping their ids and tokens valid.
    Import {
        #[command(subcommand)]
        from: ImportFrom,
    },
}

#[derive(Subcommand)]
enum ImportFrom {
    /// A PocketBase data directory, its data.db or a backup zip (read only; PocketBase may keep running).
    Pocketbase {
        path: std::path::PathBuf,
        /// Print what would happen; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import into a database that already has users (never overwrites a newer row).
        #[arg(long)]
        merge: bool,
    },
}

#[derive(Subcommand)]
enum UsersAction {
    /// Delete a user by record id (`pb_id`); their tokens then answer 404.
    Delete { pb_id: String },
    /// Give a user a new token key, revoking every token they hold.
    RevokeTokens { pb_id: String },
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => {
            match cli_error::clap_value_error(&err, &Cli::command(), &argv) {
                Some(line) => eprintln!("error: {line}"),
                None => err.exit(),
            }
            return ExitCode::from(cli_error::CONFIG_EXIT_CODE);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return cli_error::report(&err.into()),
    };
    // An import in JSON-log mode says everything, its failure too, as JSON log lines.
    let json_import = matches!(cli.command, Some(Command::Import { .. }))
        && cli.settings.log_format == LogFormat::Json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if json_import => {
            tracing::error!(error = %cli_error::one_line(&err), "PocketBase import failed");
            let bad_input = err.is::<pocketbase::ImportError>()
                || err.chain().any(|cause| cause.is::<ConfigError>());
            ExitCode::from(if bad_input {
                cli_error::CONFIG_EXIT_CODE
            } else {
                cli_error::RUNTIME_EXIT_CODE
            })
        }
        // Bad input or a refusal: one line, nothing written, the configuration exit code.
        Err(err) if err.is::<pocketbase::ImportError>() => {
            eprintln!("error: {err}");
            ExitCode::from(cli_error::CONFIG_EXIT_CODE)
        }
        Err(err) => cli_error::report(&err),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Spec => {
            print!("{}", bai_service::api::document::committed_yaml());
            Ok(())
        }
        Command::Serve => {
            telemetry::init(cli.settings.log_format);
            let app = Application::build(cli.settings).await?;
            app.log_banner();
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(cli.settings.log_format);
            connect(&cli.settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Import {
            from:
                ImportFrom::Pocketbase {
                    path,
                    dry_run,
                    merge,
                },
        } => {
            let json = cli.settings.log_format == LogFormat::Json;
            if json {
                telemetry::init(LogFormat::Json);
            }
            let terminal = pocketbase::TerminalProgress::on_stderr(json);
            let progress: &dyn pocketbase::Progress = match &terminal {
                Some(bar) => bar,
                None => &pocketbase::Silent,
            };
            progress.reading(&path.display().to_string());
            let report = import_pocketbase(&cli.settings, &path, dry_run, merge, progress).await;
            progress.finish();
            let report = report?;
            if json {
                report.log();
            } else {
                println!("{report}");
            }
            Ok(())
        }
        Command::Users { action } => {
            let db = connect(&cli.settings).await?;
            // The admin actions never call WeChat: without credentials nothing is started.
            let credentials =
                startup::configured_wechat(&cli.settings).unwrap_or_else(|| WechatCredentials {
                    api_base: DEFAULT_WECHAT_API_BASE.to_owned(),
                    appid: String::new(),
                    secret: Secret::from(""),
                });
            let users = startup::users_domain(&cli.settings, db, credentials).await?;
            let (done, pb_id, what) = match action {
                UsersAction::Delete { pb_id } => {
                    (users.delete_user(&pb_id).await?, pb_id, "deleted")
                }
                UsersAction::RevokeTokens { pb_id } => (
                    users.rotate_token_key(&pb_id).await?,
                    pb_id,
                    "tokens revoked",
                ),
            };
            users.store().close().await;
            if done {
                println!("{pb_id}: {what}");
                Ok(())
            } else {
                anyhow::bail!("no user with pb_id {pb_id}")
            }
        }
    }
}

async fn import_pocketbase(
    settings: &Settings,
    path: &std::path::Path,
    dry_run: bool,
    merge: bool,
    progress: &dyn pocketbase::Progress,
) -> anyhow::Result<pocketbase::ImportReport> {
    // Read (and validate) the source first: bad input must not create the target.
    let source = pocketbase::load(path).await?;
    let db = connect(settings).await?;
    let options = pocketbase::ImportOptions {
        dry_run,
        merge,
        configured_secret: settings
            .auth_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned()),
        token_ttl_secs: settings.token_ttl_secs,
    };
    let report = match pocketbase::import(&db, &source, &options, progress).await {
        Err(pocketbase::ImportError::Store(err)) => {
            return Err(anyhow::Error::new(err).context("importing (nothing was written)"));
        }
        other => other?,
    };
    db.close().await;
    Ok(report)
}

async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    settings.validate()?;
    Db::connect(&settings.db_options(2)).await.with_context(|| {
        format!(
            "connecting to the database at {}",
            settings.database_location()
        )
    })
}
