//! Demo data: groups, content items of the three kinds and a protected administrator.

use super::Db;
use rusqlite::params;

const GROUPS: &[&str] = &[
    "Sales",
    "Marketing",
    "Engineering",
    "Support",
    "Finance",
    "Human Resources",
    "Auckland Office",
    "Wellington Office",
    "London Office",
    "Managers",
    "New Starters",
];

const CONTENT: &[(&str, &str, &str)] = &[
    ("course", "induction-101", "Company induction"),
    ("course", "privacy-basics", "Privacy basics"),
    ("course", "health-safety", "Health and safety at work"),
    ("course", "sales-fundamentals", "Sales fundamentals"),
    ("course", "secure-coding", "Secure coding"),
    ("collection", "onboarding", "Onboarding collection"),
    ("collection", "leadership", "Leadership essentials"),
    (
        "campaign",
        "compliance-2026",
        "Annual compliance campaign 2026",
    ),
    ("campaign", "wellbeing-week", "Wellbeing week"),
];

/// A protected administrator (an upload never changes them).
const ADMIN: (&str, &str, &str) = ("Aroha", "Te Whare", "admin@example.co.nz");

/// Inserts the demo data; running it again changes nothing.
pub fn seed_demo(db: &Db) -> rusqlite::Result<()> {
    let conn = db.conn();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        for name in GROUPS {
            conn.execute("INSERT OR IGNORE INTO groups (name) VALUES (?1)", [name])?;
        }
        for (kind, id, title) in CONTENT {
            conn.execute(
                "INSERT OR IGNORE INTO content_items (kind, id, title) VALUES (?1, ?2, ?3)",
                params![kind, id, title],
            )?;
        }
        let (first, last, email) = ADMIN;
        conn.execute(
            "INSERT OR IGNORE INTO users (email, email_key, first_name, last_name, protected) \
             VALUES (?1, lower(?1), ?2, ?3, 1)",
            params![email, first, last],
        )?;
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
