//! `bulk-upload serve`, the real binary on a free port, spoken to over TCP: the security
//! headers and cookie flags, the flow from upload to results with progress as server-sent
//! events, and a server killed (SIGKILL) mid-run: restarted, it resumes the run from the
//! journal and finishes it, nobody created twice.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ROWS: usize = 3000;

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(env: &Env, memory_kib: &str) -> Server {
        let mut child = cmd(&[
            "serve",
            "--db",
            env.db_str(),
            "--listen",
            "127.0.0.1:0",
            "--batch-size",
            "20",
            "--threads",
            "1",
        ])
        .env("BULK_UPLOAD_ARGON2_MEMORY_KIB", memory_kib)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // Drained, so that the server never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Server { child, port }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// A test that fails part-way leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    }
}

/// A browser's session: cookie, CSRF token, origin.
struct Browser {
    port: u16,
    cookie: String,
    csrf: String,
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

fn http(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer { status, head, body }
}

impl Browser {
    fn sign_in(server: &Server, email: &str, password: &str) -> (Browser, Answer) {
        let body = json!({"email": email, "password": password}).to_string();
        let a = http(
            server.port,
            "POST",
            "/api/session",
            &[
                ("Content-Type", "application/json"),
                ("Origin", &server.origin()),
            ],
            body.as_bytes(),
        );
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let cookie = a.header("set-cookie").unwrap();
        let browser = Browser {
            port: server.port,
            cookie: cookie.split(';').next().unwrap().to_owned(),
            csrf: a.json()["csrf_token"].as_str().unwrap().to_owned(),
        };
        (browser, a)
    }

    fn get(&self, target: &str) -> Answer {
        http(self.port, "GET", target, &[("Cookie", &self.cookie)], b"")
    }

    fn send(&self, method: &str, target: &str, content_type: &str, body: &[u8]) -> Answer {
        let origin = format!("http://127.0.0.1:{}", self.port);
        http(
            self.port,
            method,
            target,
            &[
                ("Cookie", &self.cookie),
                ("X-CSRF-Token", &self.csrf),
                ("Origin", &origin),
                ("Content-Type", content_type),
            ],
            body,
        )
    }

    fn json(&self, method: &str, target: &str, body: Value) -> Answer {
        self.send(
            method,
            target,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    /// Uploads a generated file of `rows` new people and plans it with the default
    /// settings: the plan's id.
    fn plan_generated(&self, env: &Env, rows: usize) -> String {
        let file = env.path("people.csv");
        generated_csv(&file, rows);
        let bytes = std::fs::read(&file).unwrap();
        let a = self.send(
            "POST",
            "/api/uploads?filename=people.csv",
            "application/octet-stream",
            &bytes,
        );
        assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
        let upload = a.json()["id"].as_str().unwrap().to_owned();
        let a = self.json("POST", &format!("/api/uploads/{upload}/plans"), json!({}));
        assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
        a.json()["id"].as_str().unwrap().to_owned()
    }

    fn wait(&self, run: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.get(&format!("/api/runs/{run}")).json();
            if matches!(v["state"].as_str(), Some("finished" | "cancelled")) {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "run did not end: {v}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A demo database and its demo administrator's one-time password (from `init --demo`).
fn demo() -> (Env, String) {
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
    };
    let o = run(&["init", "--demo", "--db", env.db_str()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let password = stdout(&o)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password:")
                .map(|p| p.trim().to_owned())
        })
        .expect("init --demo prints the demo administrator's password");
    (env, password)
}

#[test]
fn the_server_speaks_http_with_strict_headers_and_runs_a_plan_with_live_progress() {
    let (env, password) = demo();
    let server = Server::start(&env, "64");
    let page = http(server.port, "GET", "/runs/run_1/results", &[], b"");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    assert!(!page
        .header("content-security-policy")
        .unwrap()
        .contains("unsafe-inline"));
    assert_eq!(
        page.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(http(server.port, "GET", "/api/runs", &[], b"").status, 401);

    let (browser, signed_in) = Browser::sign_in(&server, "admin@example.co.nz", &password);
    let cookie = signed_in.header("set-cookie").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!String::from_utf8_lossy(&signed_in.body).contains(&password));

    // An oversized upload is refused by its declared length.
    let limit = browser.get("/api/catalog").json()["max_file_bytes"]
        .as_u64()
        .unwrap();
    let a = http(
        server.port,
        "POST",
        "/api/uploads",
        &[
            ("Cookie", &browser.cookie),
            ("Content-Length", &(limit + 1).to_string()),
        ],
        b"",
    );
    assert_eq!(a.status, 413);

    let plan = browser.plan_generated(&env, 40);
    let a = browser.json("POST", &format!("/api/plans/{plan}/approve"), json!({}));
    assert_eq!(a.status, 202, "{}", String::from_utf8_lossy(&a.body));
    let run = a.json()["id"].as_str().unwrap().to_owned();

    // Progress, pushed by the server, until the end.
    let events = browser.get(&format!("/api/runs/{run}/events"));
    assert_eq!(
        events.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    let text = String::from_utf8_lossy(&events.body).into_owned();
    assert!(text.contains("event: progress\ndata: {"), "{text}");
    let end = text.split("event: end\ndata: ").nth(1).expect(&text);
    let last: Value = serde_json::from_str(end.lines().next().unwrap()).unwrap();
    assert_eq!(last["state"], "finished");
    assert_eq!(last["progress"]["done"], 40);
    assert_eq!(last["counts"]["created"], 40);
    let csv = browser.get(&format!("/api/runs/{run}/results.csv"));
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
    server.kill();
}

#[test]
fn a_server_killed_mid_run_resumes_the_run_from_its_journal_when_restarted() {
    let (env, password) = demo();
    // Argon2 costlier than the other tests, so that the run lasts long enough to be killed.
    let server = Server::start(&env, "2048");
    let (browser, _) = Browser::sign_in(&server, "admin@example.co.nz", &password);
    let plan = browser.plan_generated(&env, ROWS);
    let a = browser.json("POST", &format!("/api/plans/{plan}/approve"), json!({}));
    assert_eq!(a.status, 202);
    let run = a.json()["id"].as_str().unwrap().to_owned();

    // A browser opens the progress stream and is closed after the first event: the run
    // goes on without it.
    {
        let mut stream = TcpStream::connect(("127.0.0.1", browser.port)).unwrap();
        write!(
            stream,
            "GET /api/runs/{run}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\n\r\n",
            browser.cookie
        )
        .unwrap();
        let mut first = [0u8; 512];
        let n = stream.read(&mut first).unwrap();
        assert!(String::from_utf8_lossy(&first[..n]).contains("text/event-stream"));
    }
    // Watch the progress (as the browser does) and kill the server part-way.
    let started = Instant::now();
    let mut killed_at = None;
    loop {
        let v = browser.get(&format!("/api/runs/{run}")).json();
        let done = v["progress"]["done"].as_u64().unwrap();
        if done >= 200 {
            killed_at = Some(done);
            break;
        }
        if v["state"] == "finished" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress: {v}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let users_then = env.count("SELECT count(*) FROM users WHERE protected = 0");
    eprintln!("killed at {killed_at:?} rows done ({users_then} users committed)");
    check_invariants(&env);
    if killed_at.is_some() {
        assert!((users_then as usize) < ROWS, "killed part-way");
        assert_eq!(
            env.count("SELECT count(*) FROM upload_runs WHERE status = 'running'"),
            1
        );
    }

    // Restarted, the server resumes the run by itself.
    let server = Server::start(&env, "64");
    let (browser, _) = Browser::sign_in(&server, "admin@example.co.nz", &password);
    let done = browser.wait(&run);
    assert_eq!(done["state"], "finished", "{done}");
    check_invariants(&env);
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE protected = 0"),
        ROWS as i64,
        "every user created exactly once"
    );
    assert_eq!(env.count("SELECT count(*) FROM group_members"), ROWS as i64);
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs"),
        1,
        "one run, resumed"
    );
    let results = browser
        .get(&format!("/api/runs/{run}/results?per_page=1"))
        .json();
    assert_eq!(results["total"], ROWS);
    server.kill();
}

#[test]
fn a_batch_the_outbox_cannot_publish_leaves_the_run_interrupted_and_resumable() {
    const ROWS: usize = 1000;
    let (env, password) = demo();
    // Argon2 costlier than the other tests: the run lasts long enough to plant the obstacle
    // once it has begun (its outbox scanned, its messages numbered from 1).
    let server = Server::start(&env, "2048");
    let (browser, _) = Browser::sign_in(&server, "admin@example.co.nz", &password);
    let plan = browser.plan_generated(&env, ROWS);
    let outbox = env.path("outbox");
    let emls = || -> Vec<String> {
        std::fs::read_dir(&outbox).map_or_else(
            |_| Vec::new(),
            |dir| {
                dir.map(Result::unwrap)
                    .filter(|e| e.file_type().unwrap().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".eml"))
                    .collect()
            },
        )
    };
    assert!(emls().is_empty(), "the run numbers its messages from 1");
    let a = browser.json("POST", &format!("/api/plans/{plan}/approve"), json!({}));
    assert_eq!(a.status, 202);
    let run = a.json()["id"].as_str().unwrap().to_owned();

    // Once the first batch is published, a folder (not empty) takes the name of the last
    // row's message: its batch, the run's last, is committed but cannot be moved in.
    let started = Instant::now();
    while emls().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(120), "no email");
        std::thread::sleep(Duration::from_millis(2));
    }
    let last = ROWS - 1;
    let obstacle = outbox.join(format!("{ROWS:07}-welcome-person{last}@example.org.eml"));
    std::fs::create_dir(&obstacle).unwrap();
    std::fs::write(obstacle.join("keep"), "x").unwrap();

    let ended = loop {
        let v = browser.get(&format!("/api/runs/{run}")).json();
        if v["state"] != "queued" && v["state"] != "running" {
            break v;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "{v}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(ended["state"], "interrupted", "{ended}");
    let error = ended["error"].as_str().unwrap();
    assert!(
        error.contains("could not be moved") && error.contains("resumes the run"),
        "{error}"
    );
    // Every row is committed; the run is not recorded finished, and its message is held.
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE protected = 0"),
        ROWS as i64
    );
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs WHERE status = 'running'"),
        1
    );
    let published = emls();
    assert!(
        published.len() < ROWS,
        "the last message is held: {published:?}"
    );

    // The obstacle gone, the restarted server resumes the run: the held batch is published
    // by the outbox's opening, and the run finishes with each message sent once.
    std::fs::remove_dir_all(&obstacle).unwrap();
    server.kill();
    let server = Server::start(&env, "64");
    let (browser, _) = Browser::sign_in(&server, "admin@example.co.nz", &password);
    let done = browser.wait(&run);
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(done["counts"]["created"], ROWS, "{done}");
    let names = emls();
    // Each user's welcome, and the uploader's confirmation, sent once the run finished.
    assert_eq!(names.len(), ROWS + 1, "{names:?}");
    let confirmations = names.iter().filter(|n| n.contains("-upload_complete-"));
    assert_eq!(confirmations.count(), 1, "{names:?}");
    for i in 0..ROWS {
        let to = format!("-welcome-person{i}@example.org.eml");
        assert_eq!(names.iter().filter(|n| n.ends_with(&to)).count(), 1, "{to}");
    }
    assert!(
        std::fs::read_dir(outbox.join(".pending")).map_or(true, |mut d| d.next().is_none()),
        "nothing left pending"
    );
    check_invariants(&env);
    server.kill();
}
