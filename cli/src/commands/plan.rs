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
        println!("{}", plan.to_json_pretty());
    } else {
        report::plan_summary(plan, rows);
        if let Some((id, _)) = &planned.resume {
            report::note(&format!(
                "run #{id} of this file was interrupted: `apply` will resume it instead of planning again"
            ));
        }
    }
    Ok(if plan.summary().rejected > 0 {
        exit::ROWS_REJECTED
    } else {
        exit::OK
    })
}
