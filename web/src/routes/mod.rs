//! Routing: which handler answers which method and path.

mod invitations;
mod pages;
mod plans;
mod runs;
mod session;
mod uploads;

use crate::hooks::SessionRecord;
use crate::http::{Request, Response};
use crate::problem::Problem;
use crate::{security, Api};
use serde::de::DeserializeOwned;

/// A signed-in request.
pub(crate) struct Ctx<'a> {
    pub api: &'a Api,
    pub req: &'a Request,
    pub session: SessionRecord,
}

pub(crate) fn method_not_allowed(allowed: &str) -> Problem {
    Problem::new("method_not_allowed", format!("this route takes {allowed}")).with_allow(allowed)
}

pub(crate) fn route(api: &Api, req: &Request) -> Result<Response, Problem> {
    let method = req.method.to_ascii_uppercase();
    let path = req.path.as_str();
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    if segments.first() != Some(&"api") {
        return pages::page(&method, path, pages::mount_path(&api.host().site_url()));
    }
    let rest = &segments[1..];
    // Public routes.
    match rest {
        ["openapi.yaml"] => {
            return match method.as_str() {
                "GET" | "HEAD" => Ok(Response::new(200, "application/yaml", crate::OPENAPI_YAML)),
                _ => Err(method_not_allowed("GET")),
            }
        }
        ["session"] if method == "POST" => return session::sign_in(api, req),
        ["invitations", "verify"] if method == "POST" => return invitations::verify(api, req),
        ["invitations", "redeem"] if method == "POST" => return invitations::redeem(api, req),
        ["invitations", "verify" | "redeem"] => return Err(method_not_allowed("POST")),
        _ => {}
    }
    let known = known_route(rest).ok_or_else(|| Problem::new("not_found", "no such route"))?;
    if !known.contains(&method.as_str()) {
        let mut allowed = known.join(", ");
        if known.contains(&"GET") {
            allowed.push_str(", HEAD");
        }
        return Err(method_not_allowed(&allowed));
    }
    let now = api.now();
    let Some(session) = security::session(api.host(), req, now)? else {
        return Err(Problem::new(
            "unauthenticated",
            "sign in first (POST /api/session)",
        ));
    };
    if !matches!(method.as_str(), "GET" | "HEAD") {
        let token = req.header("x-csrf-token").unwrap_or("");
        if !security::same(token, &session.csrf_token) {
            return Err(Problem::new(
                "csrf_failed",
                "the X-CSRF-Token header is missing or wrong",
            ));
        }
        security::check_origin(req, &site_origin(api))?;
    }
    let ctx = Ctx { api, req, session };
    let method = if method == "HEAD" {
        "GET".to_owned()
    } else {
        method
    };
    match (method.as_str(), rest) {
        ("GET", ["session"]) => session::current(&ctx),
        ("DELETE", ["session"]) => session::sign_out(&ctx),
        ("GET", ["catalog"]) => session::catalog(&ctx),
        ("POST", ["uploads"]) => uploads::create(&ctx),
        ("GET", ["uploads", id]) => uploads::report_route(&ctx, id),
        ("GET", ["uploads", id, "issues"]) => uploads::issues(&ctx, id),
        ("GET", ["uploads", id, "rows"]) => uploads::rows(&ctx, id),
        ("PUT", ["uploads", id, "columns"]) => uploads::assign(&ctx, id),
        ("PUT", ["uploads", id, "reading"]) => uploads::reading(&ctx, id),
        ("PATCH", ["uploads", id, "cells"]) => uploads::fix_cell(&ctx, id),
        ("GET", ["uploads", id, "file"]) => uploads::file(&ctx, id),
        ("POST", ["uploads", id, "plans"]) => plans::create(&ctx, id),
        ("GET", ["plans", id]) => plans::view(&ctx, id),
        ("GET", ["plans", id, "rows"]) => plans::rows(&ctx, id),
        ("POST", ["plans", id, "approve"]) => plans::approve(&ctx, id),
        ("GET", ["runs"]) => runs::list(&ctx),
        ("GET", ["runs", id]) => runs::view(&ctx, id),
        ("GET", ["runs", id, "events"]) => runs::events(&ctx, id),
        ("POST", ["runs", id, "cancel"]) => runs::cancel(&ctx, id),
        ("GET", ["runs", id, "results"]) => runs::results(&ctx, id),
        ("GET", ["runs", id, "results.csv"]) => runs::results_csv(&ctx, id),
        ("POST", ["runs", id, "undo"]) => runs::undo(&ctx, id),
        _ => Err(Problem::new("not_found", "no such route")),
    }
}

/// The methods a known route takes.
fn known_route(rest: &[&str]) -> Option<&'static [&'static str]> {
    Some(match rest {
        ["session"] => &["GET", "POST", "DELETE"],
        ["catalog"] => &["GET"],
        ["uploads"] => &["POST"],
        ["uploads", _] => &["GET"],
        ["uploads", _, "issues" | "rows" | "file"] => &["GET"],
        ["uploads", _, "columns" | "reading"] => &["PUT"],
        ["uploads", _, "cells"] => &["PATCH"],
        ["uploads", _, "plans"] => &["POST"],
        ["plans", _] => &["GET"],
        ["plans", _, "rows"] => &["GET"],
        ["plans", _, "approve"] => &["POST"],
        ["runs"] => &["GET"],
        ["runs", _] => &["GET"],
        ["runs", _, "events" | "results" | "results.csv"] => &["GET"],
        ["runs", _, "cancel" | "undo"] => &["POST"],
        _ => return None,
    })
}

/// The site's own origin (from the host's site URL).
pub(crate) fn site_origin(api: &Api) -> String {
    security::origin_of(&api.host().site_url()).unwrap_or_default()
}

/// A JSON body: `application/json` (415 otherwise), well formed (`invalid_request`), no
/// unknown field (`unknown_field`).
pub(crate) fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Problem> {
    let json = req
        .header("content-type")
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Problem::new(
            "unsupported_media_type",
            "send the body as application/json",
        ));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown field") {
            let field = text.split('`').nth(1).unwrap_or("?");
            Problem::new("unknown_field", format!("unknown field {field:?}"))
        } else {
            Problem::new("invalid_request", format!("the JSON body: {text}"))
        }
    })
}

/// `page` and `per_page` (1-based; 50 by default, at most 500).
pub(crate) fn paging(req: &Request) -> Result<(u64, u64), Problem> {
    let mut page = 1u64;
    let mut per_page = 50u64;
    for (k, v) in req.query_pairs() {
        let n = || {
            v.parse::<u64>()
                .map_err(|_| Problem::new("invalid_request", format!("{k} must be a whole number")))
        };
        match k.as_str() {
            "page" => page = n()?,
            "per_page" => per_page = n()?,
            _ => {}
        }
    }
    if page == 0 || page > 1_000_000_000 {
        return Err(Problem::new("invalid_request", "page is 1 or more"));
    }
    if per_page == 0 || per_page > 500 {
        return Err(Problem::new(
            "invalid_request",
            "per_page is between 1 and 500",
        ));
    }
    Ok((page, per_page))
}

/// A query parameter's value.
pub(crate) fn query(req: &Request, name: &str) -> Option<String> {
    req.query_pairs()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A page of items.
pub(crate) fn page_json(
    page: u64,
    per_page: u64,
    total: u64,
    items: Vec<serde_json::Value>,
) -> Response {
    Response::json(
        200,
        &serde_json::json!({"page": page, "per_page": per_page, "total": total, "items": items}),
    )
}

/// The first index of a page, and whether it is past `total`.
pub(crate) fn offset(page: u64, per_page: u64) -> usize {
    usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX)
}
