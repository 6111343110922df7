//! The Python binding of `lms-bulk-upload`: the native module `lms_bulk_upload._native`.
//!
//! The binding only converts types; all behaviour lives in the core crate. Files are named
//! after the core's modules. Long work (parse, plan, execute) runs with the GIL released;
//! calls into a Python store, mailer, journal or progress callback take it back for the call.

mod convert;
mod errors;
mod execute;
mod issue;
mod journal;
mod mailer;
mod memory;
mod plan;
mod results;
mod settings;
mod store;
mod upload;

use pyo3::prelude::*;

/// The native module; `lms_bulk_upload/__init__.py` re-exports it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PLAN_FORMAT_VERSION", lms_bulk_upload::PLAN_FORMAT_VERSION)?;
    issue::register(m)?;
    upload::register(m)?;
    settings::register(m)?;
    plan::register(m)?;
    execute::register(m)?;
    results::register(m)?;
    memory::register(m)?;
    journal::register(m)?;
    Ok(())
}
