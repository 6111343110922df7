//! `bulk-upload`: the reference host of lms-bulk-upload, on SQLite, with SMTP or an outbox.
#![forbid(unsafe_code)]
#![allow(missing_docs, unreachable_pub)]

mod args;
mod commands;
mod config;
mod exit;
mod progress;
mod report;
mod results_csv;
mod serve;

use args::{AdminCommand, Cli, ColorChoice, Command, InviteCommand};
use clap::Parser;
use commands::catalogue::Catalogue;
use lms_bulk_upload_sqlite::{db, files, lock, mail};
use std::process::ExitCode;

/// mimalloc: a million rows are tens of millions of small allocations, freed as often, some
/// on another thread (the outbox's formatter); glibc's malloc spent a fifth of the run there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    lms_bulk_upload_sqlite::set_note_sink(report::note);
    match cli.color {
        ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
        ColorChoice::Auto => {}
    }
    let outcome = match &cli.command {
        Command::Validate {
            file,
            parse,
            settings,
            json,
        } => commands::validate::run(file, parse, settings.as_deref(), *json),
        Command::Plan(a) => {
            commands::plan::run(&a.file, &a.db, &a.parse, &a.settings, a.json, a.rows)
        }
        Command::Apply(args) => commands::apply::run(args),
        Command::Undo(args) => commands::undo::run(args),
        Command::Results {
            db,
            run,
            list,
            format,
            output,
        } => commands::results::run(db, *run, *list, *format, output.as_ref()),
        Command::Init { db, demo, exec } => commands::init::run(db, *demo, exec),
        Command::Admin {
            command:
                AdminCommand::Add {
                    email,
                    db,
                    password_stdin,
                    exec,
                },
        } => commands::admin::add(db, email, *password_stdin, exec),
        Command::Groups { command } => commands::catalogue::run(Catalogue::Groups, command),
        Command::Courses { command } => commands::catalogue::run(Catalogue::Courses, command),
        Command::Collections { command } => {
            commands::catalogue::run(Catalogue::Collections, command)
        }
        Command::Campaigns { command } => commands::catalogue::run(Catalogue::Campaigns, command),
        Command::Invite {
            command:
                InviteCommand::Verify {
                    token,
                    redeem,
                    json,
                    db,
                },
        } => commands::invite::verify(db, token, *redeem, *json),
        Command::Serve(args) => serve::run(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report::error(&e.message);
            if let Some(code) = &e.issue_code {
                report::note(&format!("code: {code}"));
            }
            ExitCode::from(e.code)
        }
    }
}
