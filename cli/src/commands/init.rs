//! `bulk-upload init [--demo]`.

use crate::args::DbArgs;
use crate::db::{seed, Db};
use crate::exit::{self, CliError};

pub fn run(db_args: &DbArgs, demo: bool) -> Result<u8, CliError> {
    let db = Db::open(&db_args.db)?;
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
        db_args.db.display(),
        count("users")?,
        count("groups")?,
        count("content_items")?
    );
    Ok(exit::OK)
}
