//! `bulk-upload serve`: the administrator's screens on this database. The API's behaviour is
//! the `web` crate's (`Api::handle`, no framework in it) over the SQLite hooks of
//! `host-sqlite`; this module is only the edge: axum and tower-http turn HTTP into the
//! API's requests and its responses back into HTTP.

mod edge;

use crate::args::ServeArgs;
use crate::commands::{beside, exec};
use crate::config;
use crate::exit::{self, CliError};
use crate::mail;
use crate::report;
use lms_bulk_upload_sqlite::run::ExecSettings;
use lms_bulk_upload_sqlite::web::{MailSettings, SqliteWebHost, WebConfig};
use lms_bulk_upload_web::{Api, ApiConfig};
use std::sync::Arc;

pub fn run(args: &ServeArgs) -> Result<u8, CliError> {
    let hash_params = exec::hash_params(&args.exec)?;
    let settings_file = match &args.settings {
        Some(path) => Some(config::settings_file(path)?),
        None => None,
    };
    let parse_options = config::parse_options(&args.parse, settings_file.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::host(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let local = listener
            .local_addr()
            .map_err(|e| CliError::host(format!("cannot listen: {e}")))?;
        let site_url = args
            .site_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"))
            .trim_end_matches('/')
            .to_owned();
        if lms_bulk_upload_web::security::origin_of(&site_url).is_none() {
            return Err(CliError::usage(format!(
                "--site-url {site_url:?} is not a URL such as https://lms.example.com"
            )));
        }
        if args.mail.outbox_format == Some(crate::args::OutboxFormatArg::Mbox) {
            return Err(CliError::usage(
                "serve writes one .eml per message: --outbox-format mbox is for apply and undo",
            ));
        }
        let from = mail::sender(args.mail.mail_from.as_deref(), &site_url).map_err(CliError::usage)?;
        let outbox = args
            .mail
            .outbox
            .clone()
            .unwrap_or_else(|| beside(&args.db.db, "outbox"));
        let defaults = ExecSettings::default();
        let host = SqliteWebHost::open(WebConfig {
            db: args.db.db.clone(),
            site_url: site_url.clone(),
            parse_options,
            mail: MailSettings {
                smtp: args.mail.smtp.clone(),
                outbox: outbox.clone(),
                from,
            },
            exec: ExecSettings {
                hash_params,
                threads: args.exec.threads.unwrap_or(0),
                batch_size: args.exec.batch_size.unwrap_or(defaults.batch_size),
                invitation_expiry: args.exec.invitation_hours.map_or(
                    defaults.invitation_expiry,
                    |h| std::time::Duration::from_secs(h.saturating_mul(3600)),
                ),
            },
        })?;
        let api = Arc::new(Api::new(
            Arc::new(host),
            ApiConfig {
                secure_cookies: args.secure_cookies,
                ..ApiConfig::default()
            },
        ));
        // The first line says where: tests (and scripts) read it.
        println!("bulk-upload serve: listening on {local}, screens at {site_url}/");
        println!(
            "  database {}; emails {}",
            report::clean(&args.db.db.display().to_string()),
            match &args.mail.smtp {
                Some(url) => format!("by SMTP ({})", lms_bulk_upload_sqlite::mail::redact(url)),
                None => format!("to the outbox {}", report::clean(&outbox.display().to_string())),
            }
        );
        if local.ip().is_unspecified() && args.site_url.is_none() {
            report::note("listening on every address: give --site-url (the address browsers use), or sign-in is refused as cross-origin");
        }
        if !args.secure_cookies && !site_url.starts_with("http://127.") && !site_url.starts_with("http://localhost") && !site_url.starts_with("http://[::1]") {
            report::note("the session cookie is not marked Secure: serve over TLS (or behind a proxy that is) with --secure-cookies");
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        edge::serve(listener, api)
            .await
            .map_err(|e| CliError::host(format!("the server stopped: {e}")))?;
        Ok(exit::OK)
    })
}
