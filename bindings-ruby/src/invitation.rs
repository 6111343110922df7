//! Sign-in links: the core's `verify_invitation` and `redeem_invitation` against a
//! `MemoryStore` or the host's own store object (its `find_invitation` and
//! `redeem_invitation`, through the host protocol).

use crate::error::NativeResult;
use crate::memory::StoreArg;

/// The invited user's id when the token works (with `redeem`, the link is used up); an
/// `invitation` error (`invitation_unknown`, `invitation_used`, `invitation_expired`)
/// otherwise. `now`: seconds since the Unix epoch (null: now).
#[uniffi::export]
pub fn verify_invitation(
    store: StoreArg,
    token: String,
    redeem: bool,
    now: Option<u64>,
) -> NativeResult<String> {
    let mut store = store.open()?;
    let store = store.store();
    let user = match (redeem, now) {
        (false, None) => lms_bulk_upload::verify_invitation(store, &token),
        (false, Some(now)) => lms_bulk_upload::verify_invitation_at(store, &token, now),
        (true, None) => lms_bulk_upload::redeem_invitation(store, &token),
        (true, Some(now)) => lms_bulk_upload::redeem_invitation_at(store, &token, now),
    }?;
    Ok(user.0)
}
