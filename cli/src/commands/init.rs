//! `bulk-upload init [--demo]`.

use crate::args::DbArgs;
use crate::db::{seed, Db};
use crate::exit::{self, CliError};
use crate::report;

pub fn run(db_args: &DbArgs, demo: bool) -> Result<u8, CliError> {
    let db = Db::open(&db_args.db)?;
    // The key that signs this database's plans, made now rather than at the first plan.
    db.plan_key()?;
    if demo {
        seed::seed_demo(&db)?;
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
    Ok(exit::OK)
}
