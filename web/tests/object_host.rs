//! The object host (`lms_bulk_upload_web::object`) through `Api::handle`: its records in a
//! real SQLite database behind a hooks object, as a framework binding supplies them, the
//! store and mailer as host-protocol objects. Sign-in by the host's own check, the whole
//! flow with undo, a run queued for a worker, a run interrupted and resumed from its
//! journal, cancel, the default password sealed in the run's record, and sign-in links
//! served over a store that keeps them (404 over one that does not).
#![allow(clippy::unwrap_used)]

mod common;

use common::{Client, Env, ADMIN, PASSWORD, SITE};
use lms_bulk_upload::host::Naming;
use lms_bulk_upload::{HostError, ParseOptions};
use lms_bulk_upload_web::{Api, ApiConfig, ObjectHost, ObjectHostConfig, RunOutcome, SharedObject};
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The hooks: records in SQLite, one administrator, a catalog, and (when `queue` is set)
/// `enqueue_run` into a list that the test's "worker" takes from.
struct Hooks {
    db: Mutex<rusqlite::Connection>,
    queue: Option<Mutex<Vec<String>>>,
}

impl Hooks {
    fn new(path: &std::path::Path, queued: bool) -> Hooks {
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, \
             id TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL, UNIQUE (kind, id))",
        )
        .unwrap();
        Hooks {
            db: Mutex::new(db),
            queue: queued.then(|| Mutex::new(Vec::new())),
        }
    }

    fn all_docs(&self) -> String {
        let db = self.db.lock().unwrap();
        let mut stmt = db.prepare("SELECT doc FROM records").unwrap();
        let docs: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        docs.join("\n")
    }
}

impl SharedObject for Hooks {
    fn has_method(&self, method: &str) -> bool {
        method != "enqueue_run" || self.queue.is_some()
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        let db = self.db.lock().unwrap();
        let text = |i: usize| args[i].as_str().unwrap_or("").to_owned();
        Ok(match method {
            "authenticate" => {
                let ok = args[0].as_str() == Some(ADMIN) && args[1].as_str() == Some(PASSWORD);
                if ok { json!(ADMIN) } else { Value::Null }
            }
            "catalog" => json!({
                "groups": [{"id": 1, "name": "Sales"}],
                "content": [{"kind": "course", "id": "c-101", "title": "Induction"}],
            }),
            "get_record" => db
                .query_row(
                    "SELECT version, doc FROM records WHERE kind = ?1 AND id = ?2",
                    params![text(0), text(1)],
                    |r| Ok(json!({"version": r.get::<_, i64>(0)?, "doc": serde_json::from_str::<Value>(&r.get::<_, String>(1)?).unwrap()})),
                )
                .optional()
                .unwrap()
                .unwrap_or(Value::Null),
            "put_record" => {
                let doc = args[2].to_string();
                let n = match args[3].as_u64() {
                    None => db.execute(
                        "INSERT INTO records (kind, id, version, doc) VALUES (?1, ?2, 1, ?3) \
                         ON CONFLICT (kind, id) DO UPDATE SET doc = ?3, version = version + 1",
                        params![text(0), text(1), doc],
                    ),
                    Some(0) => db.execute(
                        "INSERT INTO records (kind, id, version, doc) VALUES (?1, ?2, 1, ?3) ON CONFLICT DO NOTHING",
                        params![text(0), text(1), doc],
                    ),
                    Some(v) => db.execute(
                        "UPDATE records SET doc = ?3, version = version + 1 WHERE kind = ?1 AND id = ?2 AND version = ?4",
                        params![text(0), text(1), doc, v as i64],
                    ),
                }
                .unwrap();
                json!(n == 1)
            }
            "list_records" => {
                let total: i64 = db
                    .query_row("SELECT count(*) FROM records WHERE kind = ?1", params![text(0)], |r| r.get(0))
                    .unwrap();
                let mut stmt = db
                    .prepare("SELECT id, doc FROM records WHERE kind = ?1 ORDER BY seq DESC LIMIT ?3 OFFSET ?2")
                    .unwrap();
                let items: Vec<Value> = stmt
                    .query_map(params![text(0), args[1].as_i64(), args[2].as_i64()], |r| {
                        Ok(json!({"id": r.get::<_, String>(0)?, "doc": serde_json::from_str::<Value>(&r.get::<_, String>(1)?).unwrap()}))
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                json!({"total": total, "items": items})
            }
            "delete_record" => {
                db.execute("DELETE FROM records WHERE kind = ?1 AND id = ?2", params![text(0), text(1)]).unwrap();
                Value::Null
            }
            "enqueue_run" => {
                self.queue.as_ref().unwrap().lock().unwrap().push(text(0));
                Value::Null
            }
            other => panic!("unexpected hooks.{other}"),
        })
    }
}

/// The host's users, groups and enrolments, in memory, through the host protocol; with
/// `keeps_links`, its sign-in links too (digests only).
#[derive(Default)]
struct Users {
    users: Mutex<Vec<Value>>,
    keeps_links: bool,
    links: Mutex<Vec<Value>>,
}

impl Users {
    /// The link methods: `None` for another method.
    fn link_call(&self, method: &str, args: &[Value]) -> Option<Value> {
        let mut links = self.links.lock().unwrap();
        Some(match method {
            "add_invitation" => {
                let new = &args[0];
                links.retain(|l| {
                    l["user"] != new["user"] || l["used"] == true || l["upload"] == new["upload"]
                });
                let mut kept = new.clone();
                kept["used"] = json!(false);
                links.push(kept);
                Value::Null
            }
            "find_invitation" => links
                .iter()
                .find(|l| l["digest"] == args[0])
                .cloned()
                .unwrap_or(Value::Null),
            "redeem_invitation" => {
                let Some(i) = links
                    .iter()
                    .position(|l| l["digest"] == args[0] && l["used"] == false)
                else {
                    return Some(json!(false));
                };
                links[i]["used"] = json!(true);
                let user = links[i]["user"].clone();
                links.retain(|l| l["user"] != user || l["used"] == true);
                json!(true)
            }
            "revoke_invitations" => {
                links.retain(|l| {
                    l["user"] != args[0] || l["upload"] != args[1] || l["used"] == true
                });
                Value::Null
            }
            _ => return None,
        })
    }
}

impl SharedObject for Users {
    fn has_method(&self, method: &str) -> bool {
        match method {
            "add_invitation" | "find_invitation" | "redeem_invitation" | "revoke_invitations" => {
                self.keeps_links
            }
            _ => !matches!(
                method,
                "all_group_names"
                    | "checkpoint"
                    | "scope_users"
                    | "set_login_method"
                    | "reactivate_user"
            ),
        }
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        if self.keeps_links {
            if let Some(reply) = self.link_call(method, &args) {
                return Ok(reply);
            }
        }
        let mut users = self.users.lock().unwrap();
        let find = |users: &mut Vec<Value>, id: &Value| -> usize {
            users
                .iter()
                .position(|u| u["id"].as_u64().map(|n| n.to_string()).as_deref() == id.as_str())
                .unwrap()
        };
        Ok(match method {
            "find_users" => {
                let wanted: Vec<String> = args[0]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_lowercase())
                    .collect();
                json!(users
                    .iter()
                    .filter(|u| wanted.contains(&u["email"].as_str().unwrap().to_lowercase()))
                    .collect::<Vec<_>>())
            }
            "find_groups" => {
                let names = args[0].as_array().unwrap();
                json!(names
                    .iter()
                    .filter(|n| n.as_str() == Some("Sales"))
                    .map(|_| json!({"id": 1, "name": "Sales"}))
                    .collect::<Vec<_>>())
            }
            "find_content" => json!(args[0]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["id"] == "c-101")
                .collect::<Vec<_>>()),
            "create_user" => {
                let id = users.len() as u64 + 1;
                let mut user = args[0].clone();
                user["id"] = json!(id);
                user["groups"] = json!([]);
                user["enrolments"] = json!([]);
                users.push(user);
                json!(id)
            }
            "update_profile" => {
                let i = find(&mut users, &args[0]);
                for (k, v) in args[1].as_object().unwrap() {
                    users[i]["profile"][k] = v.clone();
                }
                Value::Null
            }
            "set_password" => {
                let i = find(&mut users, &args[0]);
                users[i]["password_hash"] = args[1].clone();
                Value::Null
            }
            "add_to_group" => {
                let i = find(&mut users, &args[0]);
                users[i]["groups"]
                    .as_array_mut()
                    .unwrap()
                    .push(args[1]["name"].clone());
                Value::Null
            }
            "remove_from_group" => {
                let i = find(&mut users, &args[0]);
                users[i]["groups"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|g| *g != args[1]["name"]);
                Value::Null
            }
            "enrol" => {
                let i = find(&mut users, &args[0]);
                users[i]["enrolments"]
                    .as_array_mut()
                    .unwrap()
                    .push(args[1].clone());
                Value::Null
            }
            "withdraw" => {
                let i = find(&mut users, &args[0]);
                users[i]["enrolments"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|c| *c != args[1]);
                Value::Null
            }
            "suspend_user" => {
                let i = find(&mut users, &args[0]);
                users[i]["suspended"] = json!(true);
                Value::Null
            }
            "delete_user" => {
                let i = find(&mut users, &args[0]);
                users.remove(i);
                json!(true)
            }
            other => panic!("unexpected store.{other}"),
        })
    }
}

/// Messages sent; `flush` fails while `fail_flushes` is above zero (a mail relay down).
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<Value>>,
    fail_flushes: AtomicUsize,
}

impl SharedObject for Outbox {
    fn has_method(&self, _method: &str) -> bool {
        true
    }

    fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, HostError> {
        match method {
            "send" => self.sent.lock().unwrap().push(args[0].clone()),
            "flush" if self.fail_flushes.load(Ordering::SeqCst) > 0 => {
                self.fail_flushes.fetch_sub(1, Ordering::SeqCst);
                return Err(HostError::permanent("the mail relay is down"));
            }
            _ => {}
        }
        Ok(Value::Null)
    }
}

struct World {
    env: Env,
    host: Arc<ObjectHost>,
    hooks: Arc<Hooks>,
    users: Arc<Users>,
    outbox: Arc<Outbox>,
}

fn world(queued: bool) -> World {
    world_with(queued, Users::default())
}

fn world_with(queued: bool, users: Users) -> World {
    let dir = tempfile::tempdir().unwrap();
    let hooks = Arc::new(Hooks::new(&dir.path().join("host.sqlite3"), queued));
    let users = Arc::new(users);
    let outbox = Arc::new(Outbox::default());
    let host = ObjectHost::new(
        ObjectHostConfig {
            site_url: SITE.into(),
            secret: b"a secret of at least thirty-two bytes, as a framework has".to_vec(),
            parse_options: ParseOptions::default(),
            execute: json!({"hash_params": {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": true}, "threads": 1, "batch_size": 2}),
            naming: Naming::Snake,
        },
        hooks.clone(),
        users.clone(),
        outbox.clone(),
    )
    .unwrap();
    let api = Arc::new(Api::new(host.clone(), ApiConfig::default()));
    World {
        env: Env { dir, api },
        host,
        hooks,
        users,
        outbox,
    }
}

const FILE: &str = "First Name,Last Name,Email,addgroup\n\
Ana,Lopez,ana@example.com,Sales\n\
Bo,Chan,bo@example.com,\n\
Cy,Egan,cy@example.com,Sales\n\
Di,Fox,di@example.com,\n";

/// Uploads FILE, plans it with `settings`, approves: the run.
fn approve(c: &mut Client, settings: Value) -> Value {
    let a = c.upload("staff.csv", FILE.as_bytes());
    assert_eq!(a.status, 201, "{}", a.text());
    let id = a.json()["id"].as_str().unwrap().to_owned();
    let plan = c.plan(&id, settings);
    let a = c.send("POST", &format!("/api/plans/{plan}/approve"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    a.json()
}

#[test]
fn sign_in_is_the_hosts_own_check() {
    let w = world(false);
    let mut c = Client::new(&w.env);
    let a = c.sign_in(ADMIN, "wrong");
    assert_eq!(a.status, 401);
    assert_eq!(a.code(), "invalid_credentials");
    let a = c.sign_in("nobody@example.com", PASSWORD);
    assert_eq!(a.code(), "invalid_credentials");
    let a = c.sign_in(ADMIN, PASSWORD);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(c.get("/api/session").json()["email"], ADMIN);
    assert!(
        !w.hooks.all_docs().contains(PASSWORD),
        "no password in the records"
    );
    assert_eq!(c.send("DELETE", "/api/session", Value::Null).status, 204);
    assert_eq!(c.get("/api/session").status, 401);
}

#[test]
fn the_flow_on_a_thread_of_its_own_then_undo() {
    let w = world(false);
    let mut c = Client::signed_in(&w.env);
    let catalog = c.get("/api/catalog").json();
    assert_eq!(catalog["groups"][0], json!({"id": "1", "name": "Sales"}));
    assert_eq!(catalog["content"][0]["name"], "Induction");
    let run = approve(
        &mut c,
        json!({"enrolments": [{"kind": "course", "id": "c-101"}]}),
    );
    let id = run["id"].as_str().unwrap().to_owned();
    let ended = c.wait(&id);
    assert_eq!(ended["state"], "finished", "{ended}");
    assert_eq!(ended["counts"]["created"], 4);
    assert_eq!(w.users.users.lock().unwrap().len(), 4);
    let results = c.get(&format!("/api/runs/{id}/results")).json();
    assert_eq!(results["total"], 4);
    // Welcome emails carry generated passwords: none of them is in the host's records.
    let sent = w.outbox.sent.lock().unwrap().clone();
    let docs = w.hooks.all_docs();
    for m in sent.iter().filter(|m| m["kind"] == "welcome") {
        let password = m["fields"]["password"].as_str().unwrap();
        assert!(
            !docs.contains(password),
            "a generated password in the records"
        );
    }
    assert!(sent.iter().any(|m| m["kind"] == "upload_complete"));

    // Undo: deletes the users it created, through the store.
    let a = c.send(
        "POST",
        &format!("/api/runs/{id}/undo"),
        json!({"delete_created_users": true}),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    let undo_plan = a.json()["id"].as_str().unwrap().to_owned();
    let a = c.send(
        "POST",
        &format!("/api/plans/{undo_plan}/approve"),
        json!({}),
    );
    assert_eq!(a.status, 202, "{}", a.text());
    let undo = a.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(c.wait(&undo)["state"], "finished");
    assert!(w.users.users.lock().unwrap().is_empty());
    assert_eq!(
        c.get(&format!("/api/runs/{id}")).json()["undone_by"],
        undo.as_str()
    );
    let a = c.send(
        "POST",
        &format!("/api/runs/{id}/undo"),
        json!({"delete_created_users": true}),
    );
    assert_eq!(a.code(), "already_undone");
    let history = c.get("/api/runs").json();
    assert_eq!(history["total"], 2);
    assert_eq!(history["items"][0]["id"], undo.as_str(), "newest first");
}

/// A hold on a run's thread: as it is let go, it notes how many users the store has.
struct Hold {
    users: Arc<Users>,
    released: Arc<Mutex<Vec<usize>>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let users = self.users.users.lock().unwrap().len();
        self.released.lock().unwrap().push(users);
    }
}

#[test]
fn a_run_on_the_hosts_own_thread_is_held_until_it_has_ended() {
    let w = world(false);
    let taken = Arc::new(AtomicUsize::new(0));
    let released = Arc::new(Mutex::new(Vec::new()));
    let (t, r, users) = (taken.clone(), released.clone(), w.users.clone());
    assert!(w.host.hold_runs_with(Box::new(move || {
        t.fetch_add(1, Ordering::SeqCst);
        Box::new(Hold {
            users: users.clone(),
            released: r.clone(),
        })
    })));
    assert!(
        !w.host.hold_runs_with(Box::new(|| Box::new(()))),
        "set once"
    );
    let mut c = Client::signed_in(&w.env);
    let run = approve(&mut c, json!({}));
    assert_eq!(
        taken.load(Ordering::SeqCst),
        1,
        "taken as the run is queued"
    );
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(c.wait(&id)["state"], "finished");
    // The record says finished before the run's thread ends: the hold goes as it ends.
    let start = std::time::Instant::now();
    while released.lock().unwrap().is_empty() {
        assert!(start.elapsed().as_secs() < 120, "the hold was never let go");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        *released.lock().unwrap(),
        vec![4],
        "let go once, after the run wrote every user"
    );

    // A run queued through the host's `enqueue_run` is its worker's: nothing held here.
    let q = world(true);
    let t = taken.clone();
    assert!(q.host.hold_runs_with(Box::new(move || {
        t.fetch_add(1, Ordering::SeqCst);
        Box::new(())
    })));
    let mut c = Client::signed_in(&q.env);
    assert_eq!(approve(&mut c, json!({}))["state"], "queued");
    assert_eq!(taken.load(Ordering::SeqCst), 1);
}

#[test]
fn a_queued_run_waits_for_its_worker_and_resumes_from_its_journal() {
    let w = world(true);
    let mut c = Client::signed_in(&w.env);
    let secret_default = "Kōwhai-Tūī-2024!";
    let run = approve(
        &mut c,
        json!({"generate_passwords": false, "default_password": secret_default}),
    );
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(run["state"], "queued");
    assert_eq!(
        w.hooks.queue.as_ref().unwrap().lock().unwrap().clone(),
        vec![id.clone()]
    );
    let docs = w.hooks.all_docs();
    assert!(docs.contains("sealed_password"), "sealed for the worker");
    assert!(!docs.contains(secret_default), "never in clear");

    // The worker's first attempt stops at the first batch's flush (the mail relay down).
    w.outbox.fail_flushes.store(1, Ordering::SeqCst);
    assert!(w.host.execute_run(&id).is_err());
    let stopped = c.get(&format!("/api/runs/{id}")).json();
    assert_eq!(stopped["state"], "interrupted", "{stopped}");
    let created_before = w.users.users.lock().unwrap().len();
    assert!(created_before > 0, "the first batch was written");

    // Queued again (as a host does when it starts), it resumes: every row once.
    assert_eq!(w.host.resume_unfinished().unwrap(), vec![id.clone()]);
    assert_eq!(w.host.execute_run(&id).unwrap(), RunOutcome::Ended);
    let ended = c.get(&format!("/api/runs/{id}")).json();
    assert_eq!(ended["state"], "finished", "{ended}");
    assert_eq!(w.users.users.lock().unwrap().len(), 4, "each user once");
    assert!(
        !w.hooks.all_docs().contains("sealed_password\":\""),
        "cleared once ended"
    );
    assert_eq!(w.host.execute_run(&id).unwrap(), RunOutcome::AlreadyEnded);
    let welcome = w
        .outbox
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "welcome")
        .count();
    assert_eq!(welcome, 4);
}

#[test]
fn cancel_reaches_the_worker_through_the_record() {
    let w = world(true);
    let mut c = Client::signed_in(&w.env);
    let run = approve(&mut c, json!({}));
    let id = run["id"].as_str().unwrap().to_owned();
    let a = c.send("POST", &format!("/api/runs/{id}/cancel"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    assert_eq!(w.host.execute_run(&id).unwrap(), RunOutcome::Ended);
    let ended = c.get(&format!("/api/runs/{id}")).json();
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert!(w.users.users.lock().unwrap().len() < 4);
    let a = c.send("POST", &format!("/api/runs/{id}/cancel"), json!({}));
    assert_eq!(a.code(), "run_not_running");
}

#[test]
fn a_cancelled_undo_leaves_the_run_undoable() {
    let w = world(true);
    let mut c = Client::signed_in(&w.env);
    let run = approve(&mut c, json!({}));
    let id = run["id"].as_str().unwrap().to_owned();
    assert_eq!(w.host.execute_run(&id).unwrap(), RunOutcome::Ended);
    let undo_plan = |c: &mut Client| {
        let a = c.send(
            "POST",
            &format!("/api/runs/{id}/undo"),
            json!({"delete_created_users": true}),
        );
        assert_eq!(a.status, 201, "{}", a.text());
        a.json()["id"].as_str().unwrap().to_owned()
    };
    let plan = undo_plan(&mut c);
    let a = c.send("POST", &format!("/api/plans/{plan}/approve"), json!({}));
    let undo = a.json()["id"].as_str().unwrap().to_owned();
    let a = c.send("POST", &format!("/api/runs/{undo}/cancel"), json!({}));
    assert_eq!(a.status, 202, "{}", a.text());
    assert_eq!(w.host.execute_run(&undo).unwrap(), RunOutcome::Ended);
    assert_eq!(
        c.get(&format!("/api/runs/{undo}")).json()["state"],
        "cancelled"
    );
    assert_eq!(
        c.get(&format!("/api/runs/{id}")).json()["undone_by"],
        Value::Null
    );
    undo_plan(&mut c);
}

#[test]
fn sign_in_links_are_served_over_a_store_that_keeps_them() {
    let w = world_with(
        false,
        Users {
            keeps_links: true,
            ..Users::default()
        },
    );
    let mut c = Client::signed_in(&w.env);
    let run = approve(&mut c, json!({"send_invitations": true}));
    let ended = c.wait(run["id"].as_str().unwrap());
    assert_eq!(ended["counts"]["created"], 4, "{ended}");
    let sent = w.outbox.sent.lock().unwrap().clone();
    let tokens: Vec<String> = sent
        .iter()
        .filter(|m| m["fields"].get("invitation_url").is_some())
        .map(|m| {
            let link = m["fields"]["invitation_url"].as_str().unwrap();
            assert!(m["fields"].get("password").is_none(), "no password: {m}");
            let token = link.strip_prefix(&format!("{SITE}/invitations/")).unwrap();
            assert_eq!(token.len(), 43, "{link}");
            token.to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 4);
    let kept = serde_json::to_string(&*w.users.links.lock().unwrap()).unwrap();
    assert!(tokens
        .iter()
        .all(|t| !kept.contains(t.as_str()) && !w.hooks.all_docs().contains(t.as_str())));

    let mut learner = Client::new(&w.env);
    let verify = |c: &mut Client, token: &str| {
        c.send("POST", "/api/invitations/verify", json!({"token": token}))
    };
    assert_eq!(
        verify(&mut learner, &tokens[0]).json(),
        json!({"valid": true})
    );
    let a = verify(&mut learner, &"A".repeat(43));
    assert_eq!((a.status, a.code()), (404, "invitation_unknown".into()));
    let redeem = |c: &mut Client, password: &str| {
        c.send(
            "POST",
            "/api/invitations/redeem",
            json!({"token": tokens[0], "password": password}),
        )
    };
    let a = redeem(&mut learner, "password123");
    assert_eq!((a.status, a.code()), (422, "weak_password".into()));
    let chosen = "Kowhai-tree-by-the-river-42";
    let a = redeem(&mut learner, chosen);
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json(), json!({"password_set": true, "sign_in_url": SITE}));
    let hash = w.users.users.lock().unwrap()[0]["password_hash"].clone();
    let hash = lms_bulk_upload::PasswordHash::from_phc(hash.as_str().unwrap().to_owned());
    assert!(
        hash.verify(chosen),
        "the chosen password, hashed with argon2id"
    );
    let a = redeem(&mut learner, chosen);
    assert_eq!((a.status, a.code()), (410, "invitation_used".into()));
    assert_eq!(
        verify(&mut learner, &tokens[1]).status,
        200,
        "another user's link still works"
    );
}

#[test]
fn sign_in_links_answer_404_over_a_store_without_them() {
    let w = world(false);
    let mut c = Client::new(&w.env);
    let a = c.send(
        "POST",
        "/api/invitations/verify",
        json!({"token": "A".repeat(43)}),
    );
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    let mut c = Client::signed_in(&w.env);
    let a = c.upload("staff.csv", FILE.as_bytes());
    let id = a.json()["id"].as_str().unwrap().to_owned();
    let a = c.send(
        "POST",
        &format!("/api/uploads/{id}/plans"),
        json!({"settings": {"send_invitations": true}}),
    );
    assert_eq!(a.code(), "host_method_missing", "{}", a.text());
}
