//! `bulk-upload invite verify TOKEN`: checks (and with `--redeem`, uses up) a sign-in link
//! for a script. The engine verifies (`verify_invitation`, `redeem_invitation`); the token is
//! read from the argument or standard input and never printed.

use crate::args::DbArgs;
use crate::db::{Db, SqliteStore};
use crate::exit::{self, CliError};
use crate::report;
use lms_bulk_upload::{redeem_invitation, verify_invitation, Store};
use std::io::BufRead;

/// The token of the argument: itself, or the first line of standard input for `-`.
fn token(arg: &str) -> Result<zeroize::Zeroizing<String>, CliError> {
    if arg != "-" {
        return Ok(zeroize::Zeroizing::new(arg.trim().to_owned()));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("cannot read the token: {e}")))?;
    Ok(zeroize::Zeroizing::new(line.trim().to_owned()))
}

pub fn verify(db_args: &DbArgs, arg: &str, redeem: bool, json: bool) -> Result<u8, CliError> {
    let token = token(arg)?;
    let db = Db::open(&db_args.db)?;
    let mut store = SqliteStore::new(db.clone());
    let user = if redeem {
        let user = redeem_invitation(&mut store, &token)?;
        store
            .checkpoint()
            .map_err(|e| CliError::host(e.message()))?;
        user
    } else {
        verify_invitation(&mut store, &token)?
    };
    let email: String = db
        .conn()
        .query_row(
            "SELECT email FROM users WHERE id = ?1",
            [user.0.parse::<i64>().unwrap_or(-1)],
            |r| r.get(0),
        )
        .unwrap_or_default();
    if json {
        println!(
            "{}",
            serde_json::json!({"user_id": user.0, "email": email, "redeemed": redeem})
        );
    } else {
        println!(
            "{} {}{}",
            user,
            report::clean(&email),
            if redeem { " (link used up)" } else { "" }
        );
    }
    Ok(exit::OK)
}
