//! `verify_invitation()` and `redeem_invitation()`: the core's checks of a sign-in link's
//! token against a store (a `MemoryStore` or the host's own object, through its
//! `find_invitation` and `redeem_invitation` methods).

use crate::errors::OrRaise;
use crate::host::StoreArg;
use lms_bulk_upload::host::HostStore;
use pyo3::prelude::*;

/// The invited user's id when the token works; `InvitationError` with `invitation_unknown`,
/// `invitation_used` or `invitation_expired` otherwise. Does not use the link up. `now`:
/// seconds since the Unix epoch (default: now).
#[pyfunction]
#[pyo3(signature = (store, token, *, now=None))]
fn verify_invitation(
    py: Python<'_>,
    store: &Bound<'_, PyAny>,
    token: &str,
    now: Option<u64>,
) -> PyResult<String> {
    let mut store = StoreArg::new(store, HostStore::new)?;
    let store = store.get();
    let user = match now {
        Some(now) => lms_bulk_upload::verify_invitation_at(store, token, now),
        None => lms_bulk_upload::verify_invitation(store, token),
    };
    Ok(user.or_raise(py)?.0)
}

/// Verifies the token and uses the link up (once: a second call raises `invitation_used`);
/// the store drops the user's other links. Set the password the user chose, then commit.
#[pyfunction]
#[pyo3(signature = (store, token, *, now=None))]
fn redeem_invitation(
    py: Python<'_>,
    store: &Bound<'_, PyAny>,
    token: &str,
    now: Option<u64>,
) -> PyResult<String> {
    let mut store = StoreArg::new(store, HostStore::new)?;
    let store = store.get();
    let user = match now {
        Some(now) => lms_bulk_upload::redeem_invitation_at(store, token, now),
        None => lms_bulk_upload::redeem_invitation(store, token),
    };
    Ok(user.or_raise(py)?.0)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(verify_invitation, m)?)?;
    m.add_function(wrap_pyfunction!(redeem_invitation, m)?)
}
