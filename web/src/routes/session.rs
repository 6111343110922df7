//! Sign in, the session, sign out, and the catalog the settings screen offers.

use super::{json_body, site_origin, Ctx};
use crate::hooks::SessionRecord;
use crate::http::{Request, Response};
use crate::problem::Problem;
use crate::{hook_problem, lock, security, Api};
use lms_bulk_upload::{Password, SettingsBuilder};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    email: String,
    password: String,
}

pub(super) fn sign_in(api: &Api, req: &Request) -> Result<Response, Problem> {
    security::check_origin(req, &site_origin(api))?;
    let body: SignIn = json_body(req)?;
    let password = Password::new(body.password);
    let account = body.email.trim().to_lowercase();
    if account.is_empty() || account.len() > 254 {
        return Err(Problem::new(
            "invalid_credentials",
            "wrong email or password",
        ));
    }
    let now = api.now();
    let limits = api.config.sign_in;
    if let Some(wait) = lock(&api.limiter).blocked(&limits, &account, req.peer, now) {
        let mut p = Problem::new(
            "too_many_attempts",
            format!("too many failed sign-ins: try again in {wait} seconds"),
        );
        p.retry_after = Some(wait);
        return Err(p);
    }
    let found = api
        .host()
        .verify_admin(&account, &password)
        .map_err(hook_problem)?;
    let Some(email) = found else {
        lock(&api.limiter).failed(&limits, &account, req.peer, now);
        return Err(Problem::new(
            "invalid_credentials",
            "wrong email or password",
        ));
    };
    lock(&api.limiter).succeeded(&account);
    let id = security::random_hex(32);
    let session = SessionRecord {
        digest: security::digest(&id),
        email: email.clone(),
        csrf_token: security::random_hex(32),
        expires_at: now + api.config.session_secs,
    };
    api.host().put_session(&session).map_err(hook_problem)?;
    Ok(Response::json(
        200,
        &json!({"email": email, "csrf_token": session.csrf_token}),
    )
    .with_header(
        "set-cookie",
        security::cookie(&id, api.config.session_secs, api.config.secure_cookies),
    ))
}

pub(super) fn current(ctx: &Ctx<'_>) -> Result<Response, Problem> {
    Ok(Response::json(
        200,
        &json!({"email": ctx.session.email, "csrf_token": ctx.session.csrf_token}),
    ))
}

pub(super) fn sign_out(ctx: &Ctx<'_>) -> Result<Response, Problem> {
    ctx.api
        .host()
        .delete_session(&ctx.session.digest)
        .map_err(hook_problem)?;
    Ok(Response::no_content().with_header(
        "set-cookie",
        security::cookie("", 0, ctx.api.config.secure_cookies),
    ))
}

/// The Settings object with the seed's defaults.
pub(crate) fn default_settings() -> serde_json::Value {
    let d = SettingsBuilder::default();
    json!({
        "enrol_existing_users": d.enrol_existing_users,
        "update_existing_profiles": d.update_existing_profiles,
        "update_existing_passwords": d.update_existing_passwords,
        "generate_passwords": d.generate_passwords,
        "send_invitations": d.send_invitations,
        "default_password": null,
        "force_password_reset": d.force_password_reset,
        "send_notification_email": d.send_notification_email,
        "enrolments": [],
        "groups": [],
        "default_login_method": null,
        "suspend_missing_users": d.suspend_missing_users,
        "missing_users_threshold": d.missing_users_threshold,
        "reactivate_suspended_users": d.reactivate_suspended_users,
    })
}

pub(super) fn catalog(ctx: &Ctx<'_>) -> Result<Response, Problem> {
    let host = ctx.api.host();
    let catalog = host.catalog().map_err(hook_problem)?;
    let options = host.parse_options();
    let groups: Vec<_> = catalog
        .groups
        .iter()
        .map(|g| json!({"id": g.id, "name": g.name}))
        .collect();
    let content: Vec<_> = catalog
        .content
        .iter()
        .map(|(c, name)| json!({"kind": c.kind.as_str(), "id": c.id, "name": name}))
        .collect();
    let mut login_methods = vec![lms_bulk_upload::PASSWORD_LOGIN.to_owned()];
    login_methods.extend(options.login_methods.iter().cloned());
    let fields: Vec<_> = options
        .fields
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "aliases": f.aliases,
                "kind": f.kind,
                "required": f.required,
                "max_length": f.max_length,
            })
        })
        .collect();
    Ok(Response::json(
        200,
        &json!({
            "groups": groups,
            "content": content,
            "login_methods": login_methods,
            "fields": fields,
            "max_file_bytes": options.max_file_bytes,
            "defaults": default_settings(),
        }),
    ))
}
