//! `bulk-upload init [--demo]`.

use crate::args::{DbArgs, ExecArgs};
use crate::db::{admins, seed, Db};
use crate::exit::{self, CliError};
use crate::report;

/// The demo administrator of the screens.
pub const DEMO_ADMIN: &str = "admin@example.co.nz";

pub fn run(db_args: &DbArgs, demo: bool, exec_args: &ExecArgs) -> Result<u8, CliError> {
    let db = Db::open(&db_args.db)?;
    // The key that signs this database's plans, made now rather than at the first plan.
    db.plan_key()?;
    let mut demo_password = None;
    if demo {
        seed::seed_demo(&db)?;
        if admins::find(&db, DEMO_ADMIN)?.is_none() {
            let params = super::exec::hash_params(exec_args)?;
            let password = lms_bulk_upload::generate_password(16, &lms_bulk_upload::OsRandom);
            admins::add(&db, DEMO_ADMIN, &password, &params)?;
            demo_password = Some(password);
        }
    }
    let count = |table: &str| -> Result<i64, CliError> {
        Ok(db
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    println!(
        "database {}: {} users, {} groups, {} content items",
        report::clean(&db_args.db.display().to_string()),
        count("users")?,
        count("groups")?,
        count("content_items")?
    );
    if let Some(password) = demo_password {
        println!();
        println!("Demo administrator of the screens (shown once, stored only as a hash):");
        println!("  email:    {DEMO_ADMIN}");
        println!("  password: {}", password.expose());
        println!(
            "  `bulk-upload serve --db {}` serves the screens; `bulk-upload admin add` sets \
             another password",
            report::clean(&db_args.db.display().to_string())
        );
    } else if demo {
        println!(
            "the demo administrator {DEMO_ADMIN} exists already: `bulk-upload admin add \
             {DEMO_ADMIN} --db {}` sets a new password",
            report::clean(&db_args.db.display().to_string())
        );
    }
    Ok(exit::OK)
}
