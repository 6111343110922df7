//! The screens' paths (the app's page), its assets and the OpenAPI document.

use super::method_not_allowed;
use crate::assets;
use crate::http::Response;
use crate::problem::Problem;

/// Whether a path is one of the screens' (`docs/http-api.md`, "The screens' URLs").
fn is_screen(path: &str) -> bool {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let id = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    match segments.as_slice() {
        [""] | ["sign-in"] | ["runs"] => true,
        ["uploads", "new"] => true,
        ["uploads", i] | ["plans", i] | ["runs", i] => id(i),
        ["uploads", i, "settings"] | ["runs", i, "results"] => id(i),
        _ => false,
    }
}

/// `/invitations/{token}`: the page a sign-in link opens (the token is read by its script
/// from the address; the server does not look at it here).
fn is_invitation(path: &str) -> bool {
    path.strip_prefix("/invitations/").is_some_and(|token| {
        !token.is_empty()
            && token.len() <= 64
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

pub(super) fn page(method: &str, path: &str) -> Result<Response, Problem> {
    let asset = match path {
        "/assets/app.js" => Some(("text/javascript; charset=utf-8", assets::APP_JS)),
        "/assets/app.css" => Some(("text/css; charset=utf-8", assets::APP_CSS)),
        "/assets/invitation.js" => Some(("text/javascript; charset=utf-8", assets::INVITATION_JS)),
        p if is_invitation(p) => Some(("text/html; charset=utf-8", assets::INVITATION_HTML)),
        p if is_screen(p) => Some(("text/html; charset=utf-8", assets::INDEX_HTML)),
        _ => None,
    };
    let Some((content_type, bytes)) = asset else {
        return Err(Problem::new("not_found", "no such page"));
    };
    if !matches!(method, "GET" | "HEAD") {
        return Err(method_not_allowed("GET, HEAD"));
    }
    Ok(Response::new(200, content_type, bytes.to_vec()).with_header("cache-control", "no-cache"))
}
