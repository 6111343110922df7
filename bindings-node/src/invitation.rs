//! Sign-in links: the core's `verify_invitation` and `redeem_invitation` on a worker thread,
//! against a `MemoryStore` or the host's own store (its `findInvitation` and
//! `redeemInvitation`, through the bridge).

use crate::host::{spawn, Bridge, Given};
use crate::memory::MemoryStoreHandle;
use crate::to_napi;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Verifies a link's token (and with `redeem`, uses it up) on a worker thread: the user's id,
/// or an `invitation` error (`invitation_unknown`, `invitation_used`, `invitation_expired`).
/// Give one store (`memory` or `bridge`); `now` in seconds since the Unix epoch (none: now).
#[napi(ts_return_type = "Promise<string>")]
pub fn verify_invitation_async<'env>(
    env: &'env Env,
    memory: Option<&MemoryStoreHandle>,
    #[napi(
        ts_arg_type = "((method: string, argsJson: string | null) => Promise<string>) | undefined | null"
    )]
    bridge: Option<Bridge>,
    token: String,
    redeem: bool,
    now: Option<f64>,
) -> Result<Object<'env>> {
    let store = Given::one(memory.map(|m| m.inner.share()), bridge)?;
    // A whole number of seconds; JavaScript gives numbers as doubles.
    let now = now.map(|n| {
        if n.is_finite() && n > 0.0 {
            n as u64
        } else {
            0
        }
    });
    spawn(env, move || {
        let mut store = store.store()?;
        let store = store.as_mut();
        let user = match (redeem, now) {
            (false, None) => lms_bulk_upload::verify_invitation(store, &token),
            (false, Some(now)) => lms_bulk_upload::verify_invitation_at(store, &token, now),
            (true, None) => lms_bulk_upload::redeem_invitation(store, &token),
            (true, Some(now)) => lms_bulk_upload::redeem_invitation_at(store, &token, now),
        };
        Ok(user.map_err(to_napi)?.0)
    })
}
