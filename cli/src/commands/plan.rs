//! `bulk-upload plan FILE`: what `apply` would do; writes nothing.

use crate::args::{DbArgs, ParseArgs, SettingsArgs};
use crate::exit::{self, CliError};
use crate::report;
use std::path::Path;

pub fn run(
    file: &Path,
    db: &DbArgs,
    parse: &ParseArgs,
    settings: &SettingsArgs,
    json: bool,
    rows: bool,
) -> Result<u8, CliError> {
    let planned = super::plan_file(file, db, parse, settings)?;
    let plan = &planned.plan;
    if json {
        // Signed with the database's key: `apply --plan-file` accepts no other plan.
        println!("{}", plan.to_signed_json(&planned.db.plan_key()?));
    } else {
        report::plan_summary(plan, rows);
        if let Some(resume) = &planned.resume {
            report::note(&format!(
                "run #{} of this file was interrupted: `apply` will resume it instead of planning again",
                resume.id
            ));
        }
    }
    Ok(if plan.summary().rejected > 0 {
        exit::ROWS_REJECTED
    } else {
        exit::OK
    })
}
