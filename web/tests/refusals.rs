//! Every refusal of the API, with its status and code: unauthenticated, CSRF, origin, body
//! size, media type, unknown fields, ids of another kind, approving twice, a plan sent by
//! the client; sign-in rate limits; sessions; the security headers.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, ADMIN, PASSWORD, SITE};
use lms_bulk_upload::ParseOptions;
use lms_bulk_upload_web::{ApiConfig, Request, SignInLimits};
use serde_json::json;

const FILE: &str = "firstname,lastname,email\nAna,Lopez,ana@example.com\n";

/// Every API route but sign-in, with a method it takes.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/session"),
    ("DELETE", "/api/session"),
    ("GET", "/api/catalog"),
    ("POST", "/api/uploads?filename=a.csv"),
    ("GET", "/api/uploads/up_1"),
    ("GET", "/api/uploads/up_1/issues"),
    ("GET", "/api/uploads/up_1/rows"),
    ("PUT", "/api/uploads/up_1/columns"),
    ("PUT", "/api/uploads/up_1/reading"),
    ("PATCH", "/api/uploads/up_1/cells"),
    ("GET", "/api/uploads/up_1/file"),
    ("POST", "/api/uploads/up_1/plans"),
    ("GET", "/api/plans/pl_1"),
    ("GET", "/api/plans/pl_1/rows"),
    ("POST", "/api/plans/pl_1/approve"),
    ("GET", "/api/runs"),
    ("GET", "/api/runs/run_1"),
    ("GET", "/api/runs/run_1/events"),
    ("POST", "/api/runs/run_1/cancel"),
    ("GET", "/api/runs/run_1/results"),
    ("GET", "/api/runs/run_1/results.csv"),
    ("POST", "/api/runs/run_1/undo"),
];

#[test]
fn every_route_refuses_an_unauthenticated_request_with_a_coded_problem() {
    let env = common::env();
    let mut c = Client::new(&env);
    for (method, route) in ROUTES {
        let a = c.raw(Request::new(method, route).with_header("origin", SITE));
        assert_eq!(a.status, 401, "{method} {route}");
        assert_eq!(a.header("content-type"), Some("application/problem+json"));
        let p = a.json();
        assert_eq!(p["code"], "unauthenticated");
        assert_eq!(p["type"], "/problems/unauthenticated");
        assert_eq!(p["status"], 401);
    }
    // A forged or unknown session cookie is no session.
    let forged = Request::new("GET", "/api/session")
        .with_header("cookie", &format!("lbu_session={}", "ab".repeat(32)));
    assert_eq!(c.raw(forged).status, 401);
}

#[test]
fn every_state_change_needs_the_csrf_token_and_the_sites_origin() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let cookie = c.cookie.clone().unwrap();
    let token = c.csrf.clone().unwrap();
    for (method, route) in ROUTES.iter().filter(|(m, _)| *m != "GET") {
        let missing = Request::new(method, route)
            .with_header("cookie", &cookie)
            .with_header("origin", SITE);
        let a = c.raw(missing);
        assert_eq!(
            (a.status, a.code().as_str()),
            (403, "csrf_failed"),
            "{method} {route}"
        );
        let wrong = Request::new(method, route)
            .with_header("cookie", &cookie)
            .with_header("x-csrf-token", &"0".repeat(64))
            .with_header("origin", SITE);
        assert_eq!(c.raw(wrong).code(), "csrf_failed", "{method} {route}");
        let elsewhere = Request::new(method, route)
            .with_header("cookie", &cookie)
            .with_header("x-csrf-token", &token)
            .with_header("origin", "http://evil.test");
        let a = c.raw(elsewhere);
        assert_eq!(
            (a.status, a.code().as_str()),
            (403, "cross_origin"),
            "{method} {route}"
        );
    }
    // Sign-in from another origin is refused too.
    let a = c.raw(
        Request::new("POST", "/api/session")
            .with_header("content-type", "application/json")
            .with_header("origin", "http://evil.test")
            .with_body(json!({"email": ADMIN, "password": PASSWORD}).to_string()),
    );
    assert_eq!(a.code(), "cross_origin");
}

#[test]
fn bodies_over_the_limit_are_refused_with_413_and_the_limit_is_known_before_reading() {
    let options = ParseOptions {
        max_file_bytes: 1000,
        ..ParseOptions::default()
    };
    let env = common::env_with(options, ApiConfig::default());
    let mut c = Client::signed_in(&env);
    assert_eq!(env.api.body_limit("POST", "/api/uploads"), 1000);
    assert_eq!(
        env.api.body_limit("PUT", "/api/uploads/up_1/columns"),
        lms_bulk_upload_web::MAX_JSON_BYTES
    );
    let big = format!("{FILE}{}", "Bo,Chan,bo@example.com\n".repeat(100));
    let a = c.upload("big.csv", big.as_bytes());
    assert_eq!((a.status, a.code().as_str()), (413, "body_too_large"));
    let huge = json!({"settings": {"groups": ["x".repeat(2 << 20)]}});
    let a = c.send("POST", "/api/uploads/up_1/plans", huge);
    assert_eq!((a.status, a.code().as_str()), (413, "body_too_large"));
}

#[test]
fn unknown_fields_wrong_types_and_media_types_are_refused() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let id = c.upload("a.csv", FILE.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plans = format!("/api/uploads/{id}/plans");
    for body in [
        json!({"settings": {}, "shoe_size": 41}),
        json!({"settings": {"generate_password": true}}),
        json!({"settings": {}, "default_password": "x"}),
    ] {
        let a = c.send("POST", &plans, body.clone());
        assert_eq!(
            (a.status, a.code().as_str()),
            (400, "unknown_field"),
            "{body}"
        );
    }
    let a = c.send(
        "PATCH",
        &format!("/api/uploads/{id}/cells"),
        json!({"line": "two", "column": 0, "value": "x"}),
    );
    assert_eq!((a.status, a.code().as_str()), (400, "invalid_request"));
    let a = c.send(
        "PUT",
        &format!("/api/uploads/{id}/columns"),
        json!({"assign": {"0": "firstname"}, "extra": 1}),
    );
    assert_eq!(a.code(), "unknown_field");
    let r = c
        .request("POST", &plans)
        .with_header("content-type", "text/plain")
        .with_body("{}");
    let a = c.raw(r);
    assert_eq!(
        (a.status, a.code().as_str()),
        (415, "unsupported_media_type")
    );
    let r = c
        .request("POST", "/api/uploads")
        .with_header("content-type", "application/json")
        .with_body(FILE);
    assert_eq!(c.raw(r).status, 415);
    let r = c
        .request("POST", &plans)
        .with_header("content-type", "application/json")
        .with_body("{not json");
    assert_eq!(c.raw(r).code(), "invalid_request");
    assert_eq!(
        c.get(&format!("/api/uploads/{id}/rows?per_page=501"))
            .code(),
        "invalid_request"
    );
    assert_eq!(
        c.get(&format!("/api/uploads/{id}/rows?page=0")).code(),
        "invalid_request"
    );
    let a = c.raw(c.request("DELETE", &format!("/api/uploads/{id}")));
    assert_eq!((a.status, a.code().as_str()), (405, "method_not_allowed"));
    assert_eq!(a.header("allow"), Some("GET, HEAD"));
    assert_eq!(c.get("/api/nothing").status, 404);
}

#[test]
fn ids_of_another_kind_or_another_administrators_are_not_found() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let up = c.upload("a.csv", FILE.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan = c
        .send("POST", &format!("/api/uploads/{up}/plans"), json!({}))
        .json();
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    for route in [
        format!("/api/plans/{up}"),
        format!("/api/uploads/{plan_id}"),
        format!("/api/runs/{plan_id}"),
        "/api/plans/pl_999".to_owned(),
        "/api/plans/pl_x".to_owned(),
    ] {
        let a = c.get(&route);
        assert_eq!((a.status, a.code().as_str()), (404, "not_found"), "{route}");
    }
    let a = c.send("POST", &format!("/api/plans/{up}/approve"), json!({}));
    assert_eq!(a.code(), "not_found");
    // Another administrator sees neither the upload nor the plan.
    let mut other = Client::new(&env);
    assert_eq!(other.sign_in("other@example.co.nz", PASSWORD).status, 200);
    assert_eq!(other.get(&format!("/api/uploads/{up}")).status, 404);
    assert_eq!(other.get(&format!("/api/plans/{plan_id}")).status, 404);
    assert_eq!(
        other
            .send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}))
            .status,
        404
    );
}

#[test]
fn a_plan_is_approved_once_never_sent_by_the_client_and_outdated_after_a_change() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let up = c.upload("a.csv", FILE.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan_id = c
        .send("POST", &format!("/api/uploads/{up}/plans"), json!({}))
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A plan in the request is refused, and nothing runs.
    let forged = json!({"plan": {"rows": [{"email": "attacker@evil.test", "action": "create"}]}});
    let a = c.send("POST", &format!("/api/plans/{plan_id}/approve"), forged);
    assert_eq!((a.status, a.code().as_str()), (400, "unknown_field"));
    assert_eq!(c.get("/api/runs").json()["total"], 0);
    // A plan whose stored JSON was changed is never run: its signature fails.
    let approved = c.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(approved.status, 202, "{}", approved.text());
    let run = approved.json()["id"].as_str().unwrap().to_owned();
    c.wait(&run);
    let a = c.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(
        (a.status, a.code().as_str()),
        (409, "plan_already_approved")
    );
    let a = c.send("POST", &format!("/api/runs/{run}/cancel"), json!({}));
    assert_eq!((a.status, a.code().as_str()), (409, "run_not_running"));
    // A plan made before a cell was fixed is outdated.
    let plan2 = c
        .send("POST", &format!("/api/uploads/{up}/plans"), json!({}))
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = c.send(
        "PATCH",
        &format!("/api/uploads/{up}/cells"),
        json!({"line": 2, "column": 0, "value": "Anna"}),
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let a = c.send("POST", &format!("/api/plans/{plan2}/approve"), json!({}));
    assert_eq!((a.status, a.code().as_str()), (409, "plan_outdated"));
}

#[test]
fn a_stored_plan_changed_in_the_database_is_refused_not_run() {
    let env = common::env();
    let mut c = Client::signed_in(&env);
    let up = c.upload("a.csv", FILE.as_bytes()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plan_id = c
        .send("POST", &format!("/api/uploads/{up}/plans"), json!({}))
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone with the database but not the key edits the plan: a new user is smuggled in.
    env.db()
        .conn()
        .execute(
            "UPDATE web_plans SET plan_json = replace(plan_json, 'ana@example.com', 'eve@evil.test')",
            [],
        )
        .unwrap();
    // The server that made it (the plan in its memory) refuses it too: the JSON recorded
    // as the run's plan is what is verified at approval.
    let a = c.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(a.status, 422, "{}", a.text());
    // A fresh server (no plan cached) refuses it.
    let env2 = common::Env {
        api: std::sync::Arc::new(lms_bulk_upload_web::Api::new(
            std::sync::Arc::new(
                lms_bulk_upload_sqlite::web::SqliteWebHost::open(
                    lms_bulk_upload_sqlite::web::WebConfig {
                        db: env.db_path(),
                        site_url: SITE.into(),
                        parse_options: ParseOptions::default(),
                        mail: lms_bulk_upload_sqlite::web::MailSettings {
                            smtp: None,
                            outbox: env.outbox(),
                            from: "LMS <no-reply@bulk.test>".parse().unwrap(),
                        },
                        exec: lms_bulk_upload_sqlite::run::ExecSettings::default(),
                    },
                )
                .unwrap(),
            ),
            ApiConfig::default(),
        )),
        dir: tempfile::tempdir().unwrap(),
    };
    let mut c2 = Client::signed_in(&env2);
    let a = c2.send("POST", &format!("/api/plans/{plan_id}/approve"), json!({}));
    assert_eq!(a.status, 422, "{}", a.text());
    assert!(
        matches!(
            a.code().as_str(),
            "fingerprint_mismatch" | "plan_signature_invalid"
        ),
        "{}",
        a.code()
    );
    let users: i64 = env
        .db()
        .conn()
        .query_row(
            "SELECT count(*) FROM users WHERE email_key = 'eve@evil.test'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(users, 0);
}

#[test]
fn sign_in_is_rate_limited_per_account_and_per_peer_and_says_nothing_of_who_exists() {
    let limits = SignInLimits {
        per_account: 3,
        per_peer: 5,
        window_secs: 900,
    };
    let env = common::env_with(
        ParseOptions::default(),
        ApiConfig {
            sign_in: limits,
            ..ApiConfig::default()
        },
    );
    let mut c = Client::new(&env);
    let unknown = c.sign_in("nobody@example.com", "whatever-password");
    let wrong = c.sign_in(ADMIN, "wrong password!");
    assert_eq!(
        (unknown.status, unknown.code()),
        (wrong.status, wrong.code())
    );
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.json()["detail"], unknown.json()["detail"]);
    c.sign_in(ADMIN, "wrong password!");
    c.sign_in(ADMIN, "wrong password!");
    // Over the account's limit: refused even with the right password.
    let a = c.sign_in(ADMIN, PASSWORD);
    assert_eq!((a.status, a.code().as_str()), (429, "too_many_attempts"));
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    // Another account from the same peer is refused once the peer is over its limit.
    let peer: std::net::IpAddr = "203.0.113.9".parse().unwrap();
    let mut from_peer = |email: &str, password: &str| {
        let mut r = Request::new("POST", "/api/session")
            .with_header("content-type", "application/json")
            .with_header("origin", SITE)
            .with_body(json!({"email": email, "password": password}).to_string());
        r.peer = Some(peer);
        c.raw(r)
    };
    for i in 0..5 {
        from_peer(&format!("guess{i}@example.com"), "nope-nope-nope");
    }
    assert_eq!(
        from_peer("other@example.co.nz", PASSWORD).code(),
        "too_many_attempts"
    );
    // The other account from elsewhere still signs in.
    let mut fresh = Client::new(&env);
    assert_eq!(fresh.sign_in("other@example.co.nz", PASSWORD).status, 200);
}

#[test]
fn sessions_expire_sign_out_ends_them_and_cookies_are_strict() {
    let now = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1_000_000));
    let clock = now.clone();
    let env = common::env();
    let api = std::sync::Arc::try_unwrap(env.api).ok().unwrap();
    let env = common::Env {
        api: std::sync::Arc::new(
            api.with_clock(move || clock.load(std::sync::atomic::Ordering::SeqCst)),
        ),
        dir: env.dir,
    };
    let mut c = Client::new(&env);
    let a = c.sign_in(ADMIN, PASSWORD);
    let cookie = a.header("set-cookie").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"));
    let value = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert_eq!(value.len(), 64, "256 random bits, in hex");
    let stored: Vec<u8> = env
        .db()
        .conn()
        .query_row("SELECT digest FROM web_sessions", [], |r| r.get(0))
        .unwrap();
    assert_ne!(hex(&stored), value, "only the digest is stored");
    assert_eq!(c.get("/api/session").status, 200);
    now.fetch_add(8 * 3600 + 1, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(c.get("/api/session").status, 401, "expired");
    let mut c = Client::new(&env);
    c.sign_in(ADMIN, PASSWORD);
    let a = c.raw(c.request("DELETE", "/api/session"));
    assert_eq!(a.status, 204);
    assert!(a.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(c.get("/api/session").status, 401, "signed out");

    let secure = common::env_with(
        ParseOptions::default(),
        ApiConfig {
            secure_cookies: true,
            ..ApiConfig::default()
        },
    );
    let a = Client::new(&secure).sign_in(ADMIN, PASSWORD);
    assert!(a.header("set-cookie").unwrap().ends_with("; Secure"));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_answer_carries_the_security_headers_and_screens_get_the_app() {
    let env = common::env();
    let mut c = Client::new(&env);
    for target in [
        "/",
        "/sign-in",
        "/uploads/new",
        "/uploads/up_1",
        "/uploads/up_1/settings",
        "/plans/pl_1",
        "/runs",
        "/runs/run_1",
        "/runs/run_1/results",
        "/assets/app.js",
        "/assets/app.css",
        "/api/openapi.yaml",
        "/api/runs",
        "/nothing",
    ] {
        let a = c.get(target);
        assert_eq!(
            a.header("content-security-policy"),
            Some(lms_bulk_upload_web::security::CSP),
            "{target}"
        );
        assert!(!lms_bulk_upload_web::security::CSP.contains("unsafe-inline"));
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(a.header("referrer-policy"), Some("same-origin"));
        if target.starts_with("/api/") && target != "/api/openapi.yaml" {
            continue;
        }
        match target {
            "/nothing" => assert_eq!(a.status, 404),
            "/assets/app.js" => assert!(a
                .header("content-type")
                .unwrap()
                .starts_with("text/javascript")),
            "/assets/app.css" => assert!(a.header("content-type").unwrap().starts_with("text/css")),
            "/api/openapi.yaml" => assert!(a.text().starts_with("openapi: 3.1")),
            _ => {
                assert_eq!(a.status, 200, "{target}");
                assert!(a.text().contains("<html"), "{target}");
            }
        }
    }
}

#[test]
fn the_openapi_document_names_every_route_and_every_code() {
    let yaml = lms_bulk_upload_web::OPENAPI_YAML;
    for (_, route) in ROUTES {
        let template = route
            .split('?')
            .next()
            .unwrap()
            .replace("up_1", "{upload_id}")
            .replace("pl_1", "{plan_id}")
            .replace("run_1", "{run_id}");
        assert!(yaml.contains(&format!("\n  {template}:\n")), "{template}");
    }
    for (code, status, _) in lms_bulk_upload_web::API_CODES {
        assert!(yaml.contains(code), "{code}");
        assert!(yaml.contains(&status.to_string()), "{code} {status}");
    }
    let doc = include_str!("../../docs/http-api.md");
    for (code, _, _) in lms_bulk_upload_web::API_CODES {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/http-api.md lacks {code}"
        );
    }
}
