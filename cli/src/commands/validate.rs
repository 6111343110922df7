//! `bulk-upload validate FILE`.

use crate::args::ParseArgs;
use crate::config;
use crate::exit::{self, CliError};
use crate::report;
use std::path::Path;

pub fn run(
    file: &Path,
    parse: &ParseArgs,
    settings: Option<&Path>,
    json: bool,
) -> Result<u8, CliError> {
    let settings = settings.map(config::settings_file).transpose()?;
    let options = config::parse_options(parse, settings.as_ref())?;
    let upload = super::read_and_parse(file, &options, settings.as_ref(), None)?;
    let file_report = upload.report();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&file_report).unwrap_or_default()
        );
    } else {
        report::file_report(&file.display().to_string(), &file_report);
    }
    Ok(if upload.has_errors() {
        exit::ROWS_REJECTED
    } else {
        exit::OK
    })
}
