//! Plans: made from an upload and the settings (lines excluded), previewed with old → new
//! values, approved (the host runs the plan it stored, never one from the request).

use super::{json_body, offset, page_json, paging, query, uploads, Ctx};
use crate::hooks::{NewPlan, StoredPlan};
use crate::http::Response;
use crate::problem::Problem;
use crate::{hook_problem, lock, views, Api};
use lms_bulk_upload::{
    email_key, ExistingUser, Password, PasswordSource, PlanOptions, SettingsBuilder,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// The settings a plan request may give (docs/http-api.md, Settings).
const SETTINGS_KEYS: [&str; 14] = [
    "enrol_existing_users",
    "update_existing_profiles",
    "update_existing_passwords",
    "generate_passwords",
    "send_invitations",
    "default_password",
    "force_password_reset",
    "send_notification_email",
    "enrolments",
    "groups",
    "default_login_method",
    "suspend_missing_users",
    "missing_users_threshold",
    "reactivate_suspended_users",
];

/// Most lines one plan request excludes.
const MAX_EXCLUDED: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    #[serde(default)]
    settings: Map<String, Value>,
    #[serde(default)]
    exclude_lines: Vec<u32>,
}

/// The plan, if it is this administrator's.
pub(super) fn load(ctx: &Ctx<'_>, id: &str) -> Result<StoredPlan, Problem> {
    match ctx.api.host().plan(id).map_err(hook_problem)? {
        Some(p) if p.owner == ctx.session.email => Ok(p),
        _ => Err(Problem::new("not_found", "no such plan")),
    }
}

/// The Settings object shown back: the builder's values, never the default password.
fn settings_view(builder: &SettingsBuilder) -> Value {
    let all = serde_json::to_value(builder).unwrap_or(Value::Null);
    let mut shown = Map::new();
    for key in SETTINGS_KEYS {
        if key == "default_password" {
            continue;
        }
        shown.insert(key.into(), all.get(key).cloned().unwrap_or(Value::Null));
    }
    Value::Object(shown)
}

/// Stores a plan the API made and answers its PlanView (201).
pub(super) fn store(
    api: &Api,
    new: NewPlan<'_>,
    default_password: Option<Password>,
) -> Result<Response, Problem> {
    let id = api.host().create_plan(new).map_err(hook_problem)?;
    if let Some(password) = default_password {
        lock(&api.default_passwords).insert(id.clone(), password);
    }
    let stored =
        api.host().plan(&id).map_err(hook_problem)?.ok_or_else(|| {
            Problem::new("host_failed", "the plan just stored cannot be read back")
        })?;
    Ok(Response::json(201, &views::plan_json(&stored))
        .with_header("location", format!("/api/plans/{id}")))
}

pub(super) fn create(ctx: &Ctx<'_>, upload_id: &str) -> Result<Response, Problem> {
    let body: PlanRequest = json_body(ctx.req)?;
    if let Some(key) = body
        .settings
        .keys()
        .find(|k| !SETTINGS_KEYS.contains(&k.as_str()))
    {
        return Err(Problem::new(
            "unknown_field",
            format!("unknown setting {key:?}"),
        ));
    }
    if body.exclude_lines.len() > MAX_EXCLUDED {
        return Err(Problem::new(
            "invalid_request",
            format!("at most {MAX_EXCLUDED} lines are excluded at once"),
        ));
    }
    let stored = uploads::load(ctx, upload_id)?;
    let (parsed, _) = ctx.api.parsed(&stored)?;
    let upload = parsed.parsed.as_ref().map_err(Problem::engine)?;
    let mut builder: SettingsBuilder = serde_json::from_value(Value::Object(body.settings))
        .map_err(|e| Problem::new("invalid_request", format!("settings: {e}")))?;
    let host = ctx.api.host();
    let run_id = host.reserve_run_id().map_err(hook_problem)?;
    let site = host.site_url();
    builder.site_url = site.clone();
    builder.results_url = format!("{site}/runs/{run_id}/results");
    // Sign-in links open this server's own page (`/invitations/{token}`).
    builder.invitation_url = Some(format!("{site}/invitations/{{token}}"));
    builder.uploader_email = Some(ctx.session.email.clone());
    let shown = settings_view(&builder);
    let default_password = builder.default_password.clone().map(Password::new);
    let settings = builder.build().map_err(|e| Problem::engine(&e))?;
    let excluded: BTreeSet<u32> = body.exclude_lines.into_iter().collect();
    let options = PlanOptions {
        exclude_lines: excluded.clone(),
        ..PlanOptions::default()
    };
    let mut outcome = None;
    host.with_store(&mut |store| {
        outcome = Some(lms_bulk_upload::plan_with(
            upload, &settings, store, &options,
        ));
    })
    .map_err(hook_problem)?;
    let plan = std::sync::Arc::new(
        outcome
            .ok_or_else(|| Problem::new("host_failed", "the store was not given"))?
            .map_err(|e| Problem::engine(&e))?,
    );
    let default_password =
        default_password.filter(|_| plan.settings().password_source == PasswordSource::Default);
    store(
        ctx.api,
        NewPlan {
            plan: &plan,
            owner: &ctx.session.email,
            upload: Some((&stored.id, stored.version)),
            undo_of_run: None,
            run_id: &run_id,
            settings: shown,
            excluded_lines: &excluded,
        },
        default_password,
    )
}

pub(super) fn view(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let plan = load(ctx, id)?;
    Ok(Response::json(200, &views::plan_json(&plan)))
}

pub(super) fn rows(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    let (page, per_page) = paging(ctx.req)?;
    let action = query(ctx.req, "action").filter(|a| !a.is_empty());
    if let Some(a) = &action {
        if !matches!(a.as_str(), "create" | "update" | "unchanged" | "rejected") {
            return Err(Problem::new(
                "invalid_request",
                "action is create, update, unchanged or rejected",
            ));
        }
    }
    let stored = load(ctx, id)?;
    // Rows are matched by their action, read without decoding them; only the page's are.
    let rows = stored.plan.rows();
    let matching: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            action
                .as_deref()
                .is_none_or(|a| rows.action(i).is_some_and(|got| got.as_str() == a))
        })
        .collect();
    let shown: Vec<_> = matching
        .iter()
        .skip(offset(page, per_page))
        .take(per_page as usize)
        .filter_map(|&i| rows.get(i))
        .collect();
    // Old values, read now from the store, for the rows that change a user.
    let emails: Vec<&str> = shown
        .iter()
        .filter(|r| r.user_id.is_some())
        .map(|r| r.email.as_str())
        .collect();
    let mut before: HashMap<String, ExistingUser> = HashMap::new();
    if !emails.is_empty() {
        let mut found = Ok(Vec::new());
        ctx.api
            .host()
            .with_store(&mut |store| found = store.find_users(&emails))
            .map_err(hook_problem)?;
        let found = found.map_err(|e| Problem::new("host_failed", e.to_string()))?;
        for user in found {
            before.insert(email_key(&user.email), user);
        }
    }
    let items = shown
        .iter()
        .map(|r| views::plan_row_json(r, before.get(&email_key(&r.email))))
        .collect();
    Ok(page_json(page, per_page, matching.len() as u64, items))
}

pub(super) fn approve(ctx: &Ctx<'_>, id: &str) -> Result<Response, Problem> {
    if !ctx.req.body.is_empty() && ctx.req.body.iter().any(|b| !b.is_ascii_whitespace()) {
        // Nothing is taken from the request: a plan sent here is refused, never run.
        let body: Map<String, Value> = super::json_body(ctx.req)?;
        if let Some(key) = body.keys().next() {
            return Err(Problem::new(
                "unknown_field",
                format!("unknown field {key:?}: approval takes no body; the server runs the plan it stored"),
            ));
        }
    }
    let stored = load(ctx, id)?;
    if stored.approved {
        return Err(Problem::new(
            "plan_already_approved",
            format!("this plan was approved already (run {})", stored.run_id),
        ));
    }
    if let Some((upload_id, version)) = &stored.upload {
        let now = ctx.api.host().upload(upload_id).map_err(hook_problem)?;
        if now.is_none_or(|u| u.version != *version) {
            return Err(Problem::new(
                "plan_outdated",
                "the upload changed after this plan was made: make the plan again",
            ));
        }
    }
    let needs_password = stored.plan.settings().password_source == PasswordSource::Default
        && stored.plan.rows().any_sets_password();
    let password = lock(&ctx.api.default_passwords).remove(id);
    if needs_password && password.is_none() {
        return Err(Problem::new(
            "default_password_lost",
            "the server restarted since this plan was made, and the default password is never stored: make the plan again",
        ));
    }
    let kept = password.as_ref().map(|p| Password::new(p.expose()));
    let run = match ctx.api.host().approve(id, &ctx.session.email, password) {
        Ok(run) => run,
        Err(e) => {
            // Not approved: the plan may be approved again, with its password.
            if let Some(p) = kept {
                lock(&ctx.api.default_passwords).insert(id.to_owned(), p);
            }
            return Err(hook_problem(e));
        }
    };
    Ok(Response::json(202, &views::run_json(&run))
        .with_header("location", format!("/api/runs/{}", run.id)))
}
