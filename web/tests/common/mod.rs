//! A signed-in client of `Api::handle` over the SQLite hooks on a temporary database.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use lms_bulk_upload::{HashParams, ParseOptions, Password};
use lms_bulk_upload_sqlite::db::{admins, seed, Db};
use lms_bulk_upload_sqlite::run::ExecSettings;
use lms_bulk_upload_sqlite::web::{MailSettings, SqliteWebHost, WebConfig};
use lms_bulk_upload_web::{Api, ApiConfig, Request, Response};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const SITE: &str = "http://bulk.test";
pub const ADMIN: &str = "admin@example.co.nz";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn fast() -> HashParams {
    HashParams::insecure_for_tests(64, 1, 1)
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub api: Arc<Api>,
}

impl Env {
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("lms.sqlite3")
    }
    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }
    pub fn db(&self) -> std::rc::Rc<Db> {
        Db::open(&self.db_path()).unwrap()
    }
}

pub fn env_with(options: ParseOptions, config: ApiConfig) -> Env {
    env_around(options, config, |host| Arc::new(host))
}

/// The environment with the SQLite hooks wrapped (to count or change what they do).
pub fn env_around(
    options: ParseOptions,
    config: ApiConfig,
    wrap: impl FnOnce(SqliteWebHost) -> Arc<dyn lms_bulk_upload_web::Host>,
) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("lms.sqlite3");
    {
        let db = Db::open(&db_path).unwrap();
        seed::seed_demo(&db).unwrap();
        admins::add(&db, ADMIN, &Password::new(PASSWORD), &fast()).unwrap();
        admins::add(
            &db,
            "other@example.co.nz",
            &Password::new(PASSWORD),
            &fast(),
        )
        .unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO users (email, email_key, first_name, last_name, organisation, password_hash)
                 VALUES ('bo@example.com', 'bo@example.com', 'Bo', 'Chan', 'Acme', NULL);",
            )
            .unwrap();
    }
    let host = SqliteWebHost::open(WebConfig {
        db: db_path,
        site_url: SITE.into(),
        parse_options: options,
        mail: MailSettings {
            smtp: None,
            outbox: dir.path().join("outbox"),
            from: "LMS <no-reply@bulk.test>".parse().unwrap(),
        },
        exec: ExecSettings {
            hash_params: fast(),
            threads: 1,
            batch_size: 50,
            ..ExecSettings::default()
        },
    })
    .unwrap();
    Env {
        api: Arc::new(Api::new(wrap(host), config)),
        dir,
    }
}

pub fn env() -> Env {
    env_with(ParseOptions::default(), ApiConfig::default())
}

/// A browser: its cookie and CSRF token, and every answer it saw.
pub struct Client {
    pub api: Arc<Api>,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub seen: Vec<String>,
}

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
}

impl Client {
    pub fn new(env: &Env) -> Client {
        Client {
            api: env.api.clone(),
            cookie: None,
            csrf: None,
            seen: Vec::new(),
        }
    }

    pub fn signed_in(env: &Env) -> Client {
        let mut c = Client::new(env);
        let a = c.sign_in(ADMIN, PASSWORD);
        assert_eq!(a.status, 200, "{}", a.text());
        c
    }

    pub fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let body = serde_json::json!({"email": email, "password": password}).to_string();
        let request = Request::new("POST", "/api/session")
            .with_header("content-type", "application/json")
            .with_header("origin", SITE)
            .with_body(body);
        let a = self.raw(request);
        if a.status == 200 {
            let cookie = a.header("set-cookie").unwrap().to_owned();
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
            self.csrf = Some(a.json()["csrf_token"].as_str().unwrap().to_owned());
        }
        a
    }

    pub fn raw(&mut self, request: Request) -> Answer {
        let response: Response = self.api.handle(request);
        let status = response.status;
        let headers = response.headers.clone();
        let body = response.into_bytes();
        self.seen.push(String::from_utf8_lossy(&body).into_owned());
        for (_, v) in &headers {
            self.seen.push(v.clone());
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn request(&self, method: &str, target: &str) -> Request {
        let mut r = Request::new(method, target);
        if let Some(c) = &self.cookie {
            r = r.with_header("cookie", c);
        }
        if method != "GET" {
            if let Some(t) = &self.csrf {
                r = r.with_header("x-csrf-token", t);
            }
            r = r.with_header("origin", SITE);
        }
        r
    }

    pub fn get(&mut self, target: &str) -> Answer {
        let r = self.request("GET", target);
        self.raw(r)
    }

    pub fn send(&mut self, method: &str, target: &str, body: Value) -> Answer {
        let r = self
            .request(method, target)
            .with_header("content-type", "application/json")
            .with_body(body.to_string());
        self.raw(r)
    }

    pub fn upload(&mut self, name: &str, bytes: &[u8]) -> Answer {
        let r = self
            .request("POST", &format!("/api/uploads?filename={name}"))
            .with_header("content-type", "application/octet-stream")
            .with_body(bytes.to_vec());
        self.raw(r)
    }

    /// Plans upload `upload` with `settings`: the new plan's id (the plan made: 201).
    pub fn plan(&mut self, upload: &str, settings: Value) -> String {
        let a = self.send(
            "POST",
            &format!("/api/uploads/{upload}/plans"),
            serde_json::json!({ "settings": settings }),
        );
        assert_eq!(a.status, 201, "{}", a.text());
        a.json()["id"].as_str().unwrap().to_owned()
    }

    /// Polls a run until it has ended.
    pub fn wait(&mut self, run: &str) -> Value {
        let start = Instant::now();
        loop {
            let a = self.get(&format!("/api/runs/{run}"));
            assert_eq!(a.status, 200, "{}", a.text());
            let v = a.json();
            if matches!(v["state"].as_str(), Some("finished" | "cancelled")) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "run {run} did not end: {v}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
