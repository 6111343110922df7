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

/// The path the screens are mounted at: the site URL's path (`/admin/bulk-upload` in
/// `https://lms.example.com/admin/bulk-upload`), empty at the site's root, or when it holds
/// anything but plain path characters.
pub(crate) fn mount_path(site_url: &str) -> &str {
    let after_scheme = site_url.split_once("://").map_or("", |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |i| &after_scheme[i..])
        .trim_end_matches('/');
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'));
    if plain && !path.contains("//") {
        path
    } else {
        ""
    }
}

/// The app's page for screens mounted at `base`: its assets and the `bu-base` meta below it.
fn index_html(base: &str) -> Vec<u8> {
    below(assets::INDEX_HTML, base)
}

/// A page of the app (its assets, its `bu-base` meta) for screens mounted at `base`.
fn below(html: &[u8], base: &str) -> Vec<u8> {
    if base.is_empty() {
        return html.to_vec();
    }
    String::from_utf8_lossy(html)
        .replace(
            r#"<meta name="bu-base" content="">"#,
            &format!(r#"<meta name="bu-base" content="{base}">"#),
        )
        .replace(r#""/assets/"#, &format!(r#""{base}/assets/"#))
        .into_bytes()
}

pub(super) fn page(method: &str, path: &str, base: &str) -> Result<Response, Problem> {
    let asset = match path {
        "/assets/app.js" => Some(("text/javascript; charset=utf-8", assets::APP_JS.to_vec())),
        "/assets/app.css" => Some(("text/css; charset=utf-8", assets::APP_CSS.to_vec())),
        "/assets/invitation.js" => Some((
            "text/javascript; charset=utf-8",
            assets::INVITATION_JS.to_vec(),
        )),
        p if is_invitation(p) => Some((
            "text/html; charset=utf-8",
            below(assets::INVITATION_HTML, base),
        )),
        p if is_screen(p) => Some(("text/html; charset=utf-8", index_html(base))),
        _ => None,
    };
    let Some((content_type, bytes)) = asset else {
        return Err(Problem::new("not_found", "no such page"));
    };
    if !matches!(method, "GET" | "HEAD") {
        return Err(method_not_allowed("GET, HEAD"));
    }
    Ok(Response::new(200, content_type, bytes).with_header("cache-control", "no-cache"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_below_a_mount_point_names_it() {
        assert_eq!(mount_path("https://lms.example.com"), "");
        assert_eq!(mount_path("https://lms.example.com/"), "");
        assert_eq!(
            mount_path("https://lms.example.com/admin/bulk-upload/"),
            "/admin/bulk-upload"
        );
        assert_eq!(mount_path("https://lms.example.com/a\"b"), "", "no markup");
        let page = String::from_utf8(index_html("/admin/bulk-upload")).unwrap_or_default();
        assert!(page.contains(r#"<meta name="bu-base" content="/admin/bulk-upload">"#));
        assert!(page.contains(r#"src="/admin/bulk-upload/assets/app.js""#));
        assert!(page.contains(r#"href="/admin/bulk-upload/assets/app.css""#));
        assert_eq!(index_html(""), assets::INDEX_HTML);
    }
}
