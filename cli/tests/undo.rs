//! `bulk-upload undo` (issue 14): the demo file applied over existing users, then undone.
//! Every table is dumped before the apply and after the undo, and they are equal except for
//! what an undo cannot or does not take back: the users the upload created (suspended, or
//! deleted with --delete) and the passwords it set for existing users (listed by the undo
//! as `not_undoable`). Undoing an undo, or a run twice, is refused and writes nothing.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use rusqlite::types::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Two people of the demo file who exist before it is applied (run 1): Aroha with no phone,
/// organisation or country (the demo file sets them; undo must make them NULL again), Tama
/// with other values, in Support (which the demo file adds him to again: left by the undo)
/// and Managers, and both enrolled in the course the demo enrols everyone in.
const EXISTING: &str = "First Name,Last Name,Email Address,Phone Number,Organisation,Country,Add Group\n\
Aroha,Ngata,aroha.ngata@example.co.nz,,,,Sales\n\
Tama,Whaanga,tama.whaanga@example.co.nz,+64 21 000 0000,Old Organisation,Australia,Support;Managers\n";

/// A table's rows, each as column → value, sorted.
type Table = Vec<BTreeMap<String, String>>;

fn shown(value: Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => format!("{t:?}"),
        Value::Blob(b) => b.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Every table of the database, every row, every column.
fn dump(env: &Env) -> BTreeMap<String, Table> {
    let conn = env.conn();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows: Table = stmt
            .query_map([], |r| {
                let mut row = BTreeMap::new();
                for (i, column) in columns.iter().enumerate() {
                    row.insert(column.clone(), shown(r.get::<_, Value>(i)?));
                }
                Ok(row)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        tables.insert(name, rows);
    }
    tables
}

fn by_id(table: &Table) -> BTreeMap<String, BTreeMap<String, String>> {
    table.iter().map(|r| (r["id"].clone(), r.clone())).collect()
}

fn without(row: &BTreeMap<String, String>, columns: &[&str]) -> BTreeMap<String, String> {
    let mut row = row.clone();
    for c in columns {
        row.remove(*c);
    }
    row
}

/// The demo database with the two existing people (run 1), and its dump.
fn with_existing_users() -> (Env, BTreeMap<String, Table>) {
    let env = Env::demo();
    let file = env.path("existing.csv");
    std::fs::write(&file, EXISTING).unwrap();
    let o = apply_file(&env, &file, &["--enrol", "course:induction-101"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = dump(&env);
    (env, before)
}

/// `make demo`'s apply of the sample (run 2), also setting existing users' passwords.
fn apply_demo(env: &Env) -> serde_json::Value {
    let o = apply_file(
        env,
        &sample(),
        &[
            "--site-url",
            "https://lms.example.co.nz/",
            "--uploader-email",
            "admin@example.co.nz",
            "--enrol",
            "course:induction-101",
            "--enrol",
            "collection:onboarding",
            "--group",
            "New Starters",
            "--update-existing-profiles",
            "--enrol-existing-users",
            "--update-existing-passwords",
            "--json",
        ],
    );
    assert_eq!(code(&o), 1, "the sample has rejected rows: {}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["run"], 2);
    assert_eq!(out["summary"]["created"], 43, "{}", out["summary"]);
    assert_eq!(out["summary"]["updated"], 2, "{}", out["summary"]);
    out
}

fn undo(env: &Env, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["undo", "--db", env.db_str()];
    args.extend_from_slice(extra);
    run(&args)
}

/// The ids of the users run 2 created.
fn created_ids(applied: &serde_json::Value) -> BTreeSet<String> {
    applied["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "created")
        .map(|r| r["user_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The emails of the rows the undo plan (run `id`, as stored) lists as `not_undoable`.
fn not_undoable(env: &Env, id: i64) -> BTreeSet<String> {
    let plan: serde_json::Value = serde_json::from_str(&env.stored_plan_json(id)).unwrap();
    plan["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["issues"]
                .as_array()
                .is_some_and(|i| i.iter().any(|i| i["code"] == "not_undoable"))
        })
        .map(|r| r["email"].as_str().unwrap().to_lowercase())
        .collect()
}

/// The before and after dumps are equal but for what the undo leaves, and the bookkeeping of
/// the two new runs (2, the upload; 3, its undo).
fn assert_restored(
    env: &Env,
    before: &BTreeMap<String, Table>,
    after: &BTreeMap<String, Table>,
    created: &BTreeSet<String>,
    deleted: bool,
) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    let passwords = not_undoable(env, 3);
    assert_eq!(
        passwords,
        BTreeSet::from([
            "aroha.ngata@example.co.nz".to_owned(),
            "tama.whaanga@example.co.nz".to_owned()
        ]),
        "the existing users whose password the upload set"
    );
    let mut checked = BTreeSet::new();
    for (name, rows) in before {
        let now = &after[name];
        match name.as_str() {
            "users" => {
                let (old, new) = (by_id(rows), by_id(now));
                for (id, user) in &old {
                    let user_now = new.get(id).unwrap_or_else(|| panic!("user {id} is gone"));
                    // `updated_at` is the time of the last write: the undo's.
                    let mut ignored = vec!["updated_at"];
                    let email = user["email_key"].trim_matches('"');
                    if passwords.contains(email) {
                        assert_ne!(
                            user["password_hash"], user_now["password_hash"],
                            "{email}: the upload set a new password, and it stays"
                        );
                        ignored.push("password_hash");
                    }
                    assert_eq!(
                        without(user, &ignored),
                        without(user_now, &ignored),
                        "{email}"
                    );
                }
                let added: BTreeSet<String> = new
                    .keys()
                    .filter(|id| !old.contains_key(*id))
                    .cloned()
                    .collect();
                if deleted {
                    assert!(added.is_empty(), "deleted: {added:?}");
                } else {
                    assert_eq!(&added, created, "the users the upload created are kept");
                    for id in &added {
                        assert_eq!(new[id]["suspended"], "1", "{:?}", new[id]);
                        assert_eq!(new[id]["protected"], "0");
                    }
                }
            }
            "upload_runs" => {
                let (old, new) = (by_id(rows), by_id(now));
                assert_eq!(old.keys().collect::<Vec<_>>(), ["1"]);
                assert_eq!(old["1"], new["1"], "run 1 is as it was");
                assert_eq!(new.keys().collect::<Vec<_>>(), ["1", "2", "3"]);
                assert_eq!(new["2"]["undone_by"], "3");
                assert_eq!(new["2"]["undo_of_run"], "NULL");
                assert_eq!(new["3"]["undo_of_run"], "2");
                assert_eq!(new["3"]["undone_by"], "NULL");
                assert_eq!(new["3"]["status"], "\"finished\"");
            }
            "run_journal" => {
                let kept: Table = now
                    .iter()
                    .filter(|r| !matches!(r["run_id"].as_str(), "2" | "3"))
                    .cloned()
                    .collect();
                assert_eq!(rows, &kept, "run 1's journal is as it was");
            }
            // AUTOINCREMENT's counters: ids are never given twice, so they only grow.
            "sqlite_sequence" => {
                for row in rows {
                    let now = now.iter().find(|r| r["name"] == row["name"]).unwrap();
                    let seq = |r: &BTreeMap<String, String>| r["seq"].parse::<i64>().unwrap();
                    assert!(seq(now) >= seq(row), "{row:?} {now:?}");
                }
            }
            // groups, group_members, content_items, enrolments, plan_key, user_fields,
            // invitations, invitation_uploads, outbox_pending (empty once a run's emails
            // are published): exactly as before.
            _ => assert_eq!(rows, now, "table {name}"),
        }
        checked.insert(name.as_str());
    }
    assert_eq!(
        checked,
        BTreeSet::from([
            "admins",
            "content_items",
            "enrolments",
            "group_members",
            "groups",
            "invitation_uploads",
            "invitations",
            "outbox_pending",
            "plan_key",
            "run_journal",
            "sqlite_sequence",
            "upload_runs",
            "user_fields",
            "users",
            "web_plans",
            "web_runs",
            "web_sessions",
            "web_upload_files",
            "web_uploads",
        ]),
        "every table of the schema was compared"
    );
}

fn new_outbox_files(env: &Env, before: &[PathBuf]) -> Vec<String> {
    env.outbox()
        .iter()
        .filter(|p| !before.contains(p))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn undo_restores_every_table_but_the_created_users_suspended_and_the_passwords_set() {
    let (env, before) = with_existing_users();
    let applied = apply_demo(&env);
    let created = created_ids(&applied);
    let after_apply = dump(&env);

    // Without --yes and without an answer: not confirmed, nothing written.
    let o = undo(&env, &[]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("Undo run #2"), "{}", stderr(&o));
    assert_eq!(dump(&env), after_apply, "nothing was written");

    let outbox = env.outbox();
    let o = undo(&env, &["--yes", "--uploader-email", "admin@example.co.nz"]);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    // The plan is shown like apply's, with the warnings of what stays.
    for needle in [
        "Undo of run #2",
        "Undo plan sha256:",
        "not_undoable",
        "users to suspend 43, to delete 0",
        "2 warnings",
        "Run #3 (undo of run #2)",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    assert!(!out.contains("undo_conflict"), "{out}");
    let after = dump(&env);
    assert_restored(&env, &before, &after, &created, false);
    check_invariants(&env);

    // No user is emailed; the uploader gets the confirmation, linking to the undo's results.
    let sent = new_outbox_files(&env, &outbox);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("undo_complete-admin@example.co.nz"),
        "{sent:?}"
    );
    let text = eml_text(&env.path("outbox").join(&sent[0]));
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("Results: "))
        .unwrap()
        .trim();
    assert!(url.ends_with("/results/run-3.csv"), "{url}");
    let csv = std::fs::read_to_string(url.strip_prefix("file://").unwrap()).unwrap();
    assert_eq!(csv.matches("suspended").count(), 43, "{csv}");

    // Run 2 again: refused, naming the run that undid it.
    let o = undo(&env, &["2", "--yes"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("run #2 was already undone by run #3"),
        "{}",
        stderr(&o)
    );
    // The undo (run 3, also the latest run): refused by the core.
    for args in [&["3", "--yes"][..], &["--yes"][..]] {
        let o = undo(&env, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("code: undo_of_undo"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(dump(&env), after, "the refusals wrote nothing");
    assert!(
        new_outbox_files(&env, &outbox).len() == 1,
        "and sent nothing"
    );

    // The list marks the undone run and the undo.
    let o = run(&["results", "--db", env.db_str(), "--list"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let list = stdout(&o);
    let line = |n: &str| {
        list.lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("{n} in {list}"))
    };
    assert!(!line("#1 ").contains('['), "{list}");
    assert!(line("#2 ").ends_with("[undone by #3]"), "{list}");
    assert!(line("#3 ").ends_with("[undo of #2]"), "{list}");

    // The undo's results are a run's like any other.
    let o = run(&["results", "3", "--db", env.db_str(), "--format", "json"]);
    let results: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(results["undo_of"], applied["fingerprint"]);
}

#[test]
fn undo_with_delete_removes_the_created_users() {
    let (env, before) = with_existing_users();
    let applied = apply_demo(&env);
    let created = created_ids(&applied);
    let o = undo(&env, &["2", "--delete", "--yes", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["run"], 3);
    assert_eq!(out["undo_of_run"], 2);
    let deleted = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["done"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["op"] == "delete_user")
        })
        .count();
    assert_eq!(deleted, created.len());
    assert_restored(&env, &before, &dump(&env), &created, true);
    check_invariants(&env);
    assert!(
        new_outbox_files(&env, &env.outbox()).is_empty(),
        "no uploader named: no email at all"
    );
}

#[test]
fn an_interrupted_undo_is_resumed_and_a_run_with_failed_rows_is_not_marked_undone() {
    let (env, before) = with_existing_users();
    let applied = apply_demo(&env);
    let created = created_ids(&applied);
    let conn = env.conn();

    // Once the undo's journal holds 30 entries, its next journal write fails (as a crash
    // would stop the run there): the undo stops with its earlier batches committed, the
    // open one rolled back, and the run unfinished.
    conn.execute_batch(
        "CREATE TRIGGER crash BEFORE INSERT ON run_journal WHEN NEW.run_id = 3 AND \
         (SELECT count(*) FROM run_journal WHERE run_id = 3) >= 30 \
         BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
    )
    .unwrap();
    let o = undo(&env, &["--yes", "--batch-size", "10"]);
    assert_eq!(code(&o), 3, "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("`undo` again resumes"),
        "{}",
        stderr(&o)
    );
    conn.execute_batch("DROP TRIGGER crash").unwrap();
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs WHERE id = 3 AND status = 'running'"),
        1
    );
    let suspended = env.count("SELECT count(*) FROM users WHERE suspended = 1");
    assert!(
        suspended > 0 && suspended < 43,
        "stopped part-way: {suspended}"
    );

    // One user not suspended yet cannot be suspended now: the resumed undo finishes with
    // that row failed, and run 2 is not marked undone.
    let left: String = conn
        .query_row(
            &format!(
                "SELECT email_key FROM users WHERE suspended = 0 AND id IN ({}) LIMIT 1",
                created.iter().cloned().collect::<Vec<_>>().join(",")
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER refuse BEFORE UPDATE OF suspended ON users \
         WHEN OLD.email_key = '{left}' BEGIN SELECT RAISE(ABORT, 'the LMS refuses'); END;"
    ))
    .unwrap();
    let o = undo(&env, &["--yes"]); // the latest run is the interrupted undo: resumed
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("resuming run #3 (the undo of run #2)"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("resumed"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("run #2 is not marked undone"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        env.count("SELECT count(*) FROM upload_runs WHERE id = 2 AND undone_by IS NULL"),
        1
    );
    conn.execute_batch("DROP TRIGGER refuse").unwrap();

    // Undone again: a new undo (run 4) of what is left, and now run 2 is undone. The
    // uploader named in a settings file gets the confirmation, the sender from its site.
    let outbox = env.outbox();
    let settings = data("settings.toml");
    let o = undo(
        &env,
        &["2", "--yes", "--settings", settings.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let sent = new_outbox_files(&env, &outbox);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("undo_complete-admin@example.co.nz"),
        "{sent:?}"
    );
    let raw = std::fs::read_to_string(env.path("outbox").join(&sent[0])).unwrap();
    assert!(
        raw.contains("From: LMS <no-reply@lms.example.co.nz>"),
        "{raw}"
    );
    assert!(stdout(&o).contains("users to suspend 1,"), "{}", stdout(&o));
    assert_eq!(
        env.count("SELECT undone_by FROM upload_runs WHERE id = 2"),
        4
    );
    assert_eq!(
        env.count("SELECT count(*) FROM users WHERE suspended = 1"),
        created.len() as i64
    );
    let after = dump(&env);
    let users = |d: &BTreeMap<String, Table>| {
        d["users"]
            .iter()
            .filter(|u| !created.contains(&u["id"]))
            .map(|u| without(u, &["updated_at", "password_hash"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(users(&before), users(&after));
    for table in ["group_members", "enrolments", "groups", "content_items"] {
        assert_eq!(before[table], after[table], "{table}");
    }
    check_invariants(&env);
}
