//! The page a sign-in link opens (`/invitations/{token}`, served as a static page and its
//! script) and its two public routes, which need no session: `POST /api/invitations/verify`
//! (does the link work?) and `POST /api/invitations/redeem` (choose a password with it). The
//! engine verifies and redeems (`verify_invitation`, `redeem_invitation`) and judges the
//! password (`check_chosen_password`: zxcvbn); the password is hashed with argon2id here and
//! set through the host's store, the link used up in the same transaction.

use super::{json_body, site_origin};
use crate::http::{Request, Response};
use crate::problem::Problem;
use crate::{hook_problem, security, Api};
use lms_bulk_upload::{ErrorKind, IssueCode, OsRandom, Password, PasswordPolicy, Store};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verify {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeem {
    token: String,
    password: String,
}

/// An engine refusal of a link: 404 for an unknown one, 410 for a used or expired one; other
/// engine errors as usual.
fn refused(e: &lms_bulk_upload::Error) -> Problem {
    let mut problem = Problem::engine(e);
    if e.kind() == ErrorKind::Invitation {
        problem.status = if e.code() == IssueCode::InvitationUnknown {
            404
        } else {
            410
        };
    }
    problem
}

/// Runs `f` with the host's store; 404 when the host serves no sign-in links.
fn with_store<T>(
    api: &Api,
    mut f: impl FnMut(&mut dyn Store) -> Result<T, lms_bulk_upload::Error>,
) -> Result<T, Problem> {
    let mut outcome = None;
    let served = api
        .host()
        .with_store_mut(&mut |store| outcome = Some(f(store)))
        .map_err(hook_problem)?;
    match outcome {
        Some(result) if served => result.map_err(|e| refused(&e)),
        _ => Err(Problem::new(
            "not_found",
            "this server sends no sign-in links",
        )),
    }
}

pub(super) fn verify(api: &Api, req: &Request) -> Result<Response, Problem> {
    security::check_origin(req, &site_origin(api))?;
    let body: Verify = json_body(req)?;
    with_store(api, |store| {
        lms_bulk_upload::verify_invitation(store, &body.token)
    })?;
    Ok(Response::json(200, &json!({ "valid": true })))
}

pub(super) fn redeem(api: &Api, req: &Request) -> Result<Response, Problem> {
    security::check_origin(req, &site_origin(api))?;
    let body: Redeem = json_body(req)?;
    let password = Password::new(body.password);
    // A dead link is said so before the password is judged or hashed.
    with_store(api, |store| {
        lms_bulk_upload::verify_invitation(store, &body.token)
    })?;
    let site = api.host().site_url();
    let min_length = PasswordPolicy::default().min_length;
    lms_bulk_upload::check_chosen_password(&password, min_length, &[site.as_str()])
        .map_err(|e| Problem::engine(&e))?;
    let hash = lms_bulk_upload::hash_password(&password, &api.host().hash_params(), &OsRandom)
        .map_err(|e| Problem::engine(&e))?;
    // The link is used up and the password set in one transaction: committed together by
    // the checkpoint, or neither (a failed write leaves the link working).
    let stored = with_store(api, |store| {
        let user = lms_bulk_upload::redeem_invitation(store, &body.token)?;
        Ok(store
            .set_password(&user, &hash, false)
            .and_then(|()| store.checkpoint()))
    })?;
    stored.map_err(|e| Problem::new("host_failed", e.message()))?;
    Ok(Response::json(
        200,
        &json!({ "password_set": true, "sign_in_url": site }),
    ))
}
