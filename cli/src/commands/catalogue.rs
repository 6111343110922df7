//! `bulk-upload groups|courses|collections|campaigns add|list`: the reference host's
//! catalogue, so that a fresh database needs no SQL before its first upload.

use crate::args::CatalogueCommand;
use crate::db::Db;
use crate::exit::{self, CliError};
use crate::report;
use rusqlite::params;

/// Longest group name, content id or title accepted.
const MAX_CHARS: usize = 200;

#[derive(Debug, Clone, Copy)]
pub enum Catalogue {
    Groups,
    Courses,
    Collections,
    Campaigns,
}

impl Catalogue {
    /// The content kind as stored, `None` for groups.
    fn kind(self) -> Option<&'static str> {
        match self {
            Catalogue::Groups => None,
            Catalogue::Courses => Some("course"),
            Catalogue::Collections => Some("collection"),
            Catalogue::Campaigns => Some("campaign"),
        }
    }
    fn what(self) -> &'static str {
        match self {
            Catalogue::Groups => "group name",
            Catalogue::Courses => "course id",
            Catalogue::Collections => "collection id",
            Catalogue::Campaigns => "campaign id",
        }
    }
}

/// A name or title as stored: trimmed, not empty, no control character, bounded.
fn checked(what: &str, text: &str) -> Result<String, CliError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CliError::usage(format!("the {what} is empty")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(CliError::usage(format!(
            "the {what} {:?} holds a control character",
            report::clean(trimmed)
        )));
    }
    if trimmed.chars().count() > MAX_CHARS {
        return Err(CliError::usage(format!(
            "the {what} is longer than {MAX_CHARS} characters"
        )));
    }
    Ok(trimmed.to_owned())
}

pub fn run(catalogue: Catalogue, command: &CatalogueCommand) -> Result<u8, CliError> {
    match command {
        CatalogueCommand::Add { names, title, db } => {
            let db = Db::open(&db.db)?;
            add(&db, catalogue, names, title.as_deref())
        }
        CatalogueCommand::List { db, json } => {
            let db = Db::open(&db.db)?;
            list(&db, catalogue, *json)
        }
    }
}

fn add(
    db: &Db,
    catalogue: Catalogue,
    names: &[String],
    title: Option<&str>,
) -> Result<u8, CliError> {
    let names = names
        .iter()
        .map(|n| checked(catalogue.what(), n))
        .collect::<Result<Vec<_>, _>>()?;
    let title = title.map(|t| checked("title", t)).transpose()?;
    if title.is_some() && catalogue.kind().is_none() {
        return Err(CliError::usage(
            "a group has no title: --title is for content",
        ));
    }
    let conn = db.conn();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut added = Vec::new();
    let result = (|| -> rusqlite::Result<()> {
        for name in &names {
            let n = match catalogue.kind() {
                None => conn.execute("INSERT OR IGNORE INTO groups (name) VALUES (?1)", [name])?,
                Some(kind) => conn.execute(
                    "INSERT OR IGNORE INTO content_items (kind, id, title) VALUES (?1, ?2, ?3)",
                    params![kind, name, title.as_deref().unwrap_or(name)],
                )?,
            };
            added.push((name, n > 0));
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
    }
    for (name, new) in added {
        let name = report::clean(name);
        if new {
            println!("added {} {name}", catalogue.what());
        } else {
            println!("{} {name} exists already: left as it is", catalogue.what());
        }
    }
    Ok(exit::OK)
}

fn list(db: &Db, catalogue: Catalogue, json: bool) -> Result<u8, CliError> {
    let conn = db.conn();
    let items: Vec<(String, Option<String>)> = match catalogue.kind() {
        None => {
            let mut stmt = conn.prepare("SELECT name FROM groups ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, None)))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Some(kind) => {
            let mut stmt =
                conn.prepare("SELECT id, title FROM content_items WHERE kind = ?1 ORDER BY id")?;
            let rows = stmt.query_map([kind], |r| Ok((r.get(0)?, Some(r.get(1)?))))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    if json {
        let values: Vec<serde_json::Value> = items
            .iter()
            .map(|(id, title)| match (catalogue.kind(), title) {
                (None, _) => serde_json::json!({ "name": id }),
                (Some(kind), title) => {
                    serde_json::json!({ "kind": kind, "id": id, "title": title })
                }
            })
            .collect();
        println!("{}", serde_json::Value::Array(values));
        return Ok(exit::OK);
    }
    for (id, title) in &items {
        match title {
            Some(title) if title != id => {
                println!("{}\t{}", report::clean(id), report::clean(title))
            }
            _ => println!("{}", report::clean(id)),
        }
    }
    Ok(exit::OK)
}
