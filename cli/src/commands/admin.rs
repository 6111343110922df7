//! `bulk-upload admin add EMAIL`: an administrator of the screens, with a password typed
//! twice on the terminal (never echoed) or read from standard input (`--password-stdin`).

use super::exec;
use crate::args::{DbArgs, ExecArgs};
use crate::db::{admins, Db};
use crate::exit::{self, CliError};
use crate::report;
use lms_bulk_upload::Password;
use std::io::BufRead;

pub fn add(
    db_args: &DbArgs,
    email: &str,
    stdin: bool,
    exec_args: &ExecArgs,
) -> Result<u8, CliError> {
    let params = exec::hash_params(exec_args)?;
    let password = if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("cannot read the password: {e}")))?;
        let password = Password::new(line.trim_end_matches(['\r', '\n']).to_owned());
        zeroize::Zeroize::zeroize(&mut line);
        password
    } else {
        let first = rpassword::prompt_password(format!("Password for {}: ", report::clean(email)))
            .map_err(|e| {
                CliError::usage(format!(
                    "cannot read the password from the terminal ({e}); use --password-stdin"
                ))
            })?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| CliError::usage(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(CliError::usage(
                "the two passwords differ: nothing was changed",
            ));
        }
        Password::new(first)
    };
    let db = Db::open(&db_args.db)?;
    let added = admins::add(&db, email, &password, &params)?;
    println!(
        "{} {}",
        match added {
            admins::Added::Created => "administrator added:",
            admins::Added::PasswordChanged => "new password set (their sessions ended) for",
        },
        report::clean(email.trim())
    );
    Ok(exit::OK)
}
