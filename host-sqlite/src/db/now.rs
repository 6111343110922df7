//! The time a row is written, as SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` writes it,
//! made here instead: that call (a date computed from a Julian day, the seconds formatted
//! as a float) cost about 7 % of `bulk-upload apply`'s samples as the default of
//! `users.created_at` and `enrolments.enrolled_at`, evaluated once per row inserted.

use lms_bulk_upload_web::civil::civil_from_days;
use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SS.SSSZ` (UTC, milliseconds): the format of every timestamp the schema
/// writes.
#[derive(Clone, Copy)]
pub(crate) struct Timestamp {
    bytes: [u8; 24],
}

impl Timestamp {
    /// Now, from the clock SQLite's `'now'` reads (the system's real-time clock), to the
    /// millisecond, truncated as SQLite truncates it.
    pub(crate) fn now() -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // A run asks several times a millisecond (each new user and its enrolment): the
        // text of the millisecond asked last is kept, and made again only for another.
        thread_local! {
            static LAST: Cell<Option<(i64, Timestamp)>> = const { Cell::new(None) };
        }
        LAST.with(|last| match last.get() {
            Some((at, text)) if at == ms => text,
            _ => {
                let text = Timestamp::from_unix_ms(ms);
                last.set(Some((ms, text)));
                text
            }
        })
    }

    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z (at or after it, before the
    /// year 10000).
    pub(crate) fn from_unix_ms(ms: i64) -> Timestamp {
        let ms = ms.clamp(0, 253_402_300_799_999);
        let days = ms / 86_400_000;
        let in_day = ms % 86_400_000;
        let (year, month, day) = civil_from_days(days);
        let mut bytes = *b"0000-00-00T00:00:00.000Z";
        put(&mut bytes[0..4], year);
        put(&mut bytes[5..7], month);
        put(&mut bytes[8..10], day);
        put(&mut bytes[11..13], in_day / 3_600_000);
        put(&mut bytes[14..16], in_day / 60_000 % 60);
        put(&mut bytes[17..19], in_day / 1000 % 60);
        put(&mut bytes[20..23], in_day % 1000);
        Timestamp { bytes }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes).unwrap_or("")
    }
}

/// Writes `value` as decimal digits filling `out` (zero-padded on the left).
fn put(out: &mut [u8], mut value: i64) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Timestamp;
    use rusqlite::Connection;

    /// SQLite's own rendering of an instant given exactly (whole seconds, then the
    /// milliseconds added as a modifier of whole milliseconds).
    fn sqlite(conn: &Connection, ms: i64) -> String {
        conn.query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1, 'unixepoch', ?2)",
            rusqlite::params![
                ms.div_euclid(1000),
                format!("+{}.{:03} seconds", 0, ms % 1000)
            ],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn the_same_text_as_sqlite_strftime() {
        let conn = Connection::open_in_memory().unwrap();
        let mut ms: i64 = 0;
        // Every 13 days and some hours over four centuries, leap days and ends of years
        // included, with changing milliseconds.
        while ms < 13_000_000_000_000 {
            assert_eq!(
                Timestamp::from_unix_ms(ms).as_str(),
                sqlite(&conn, ms),
                "{ms}"
            );
            ms += 13 * 86_400_000 + 3_600_000 * 7 + 59_000 + 137;
        }
        for ms in [
            951_782_400_000 - 1, // 2000-02-28T23:59:59.999
            951_868_799_999,     // 2000-02-29T23:59:59.999
            1_735_689_599_999,   // 2024-12-31T23:59:59.999
            4_107_542_400_000,   // 2100-03-01T00:00:00.000
        ] {
            assert_eq!(
                Timestamp::from_unix_ms(ms).as_str(),
                sqlite(&conn, ms),
                "{ms}"
            );
        }
    }

    /// Asked again within one millisecond or across several, `now` gives the text of the
    /// millisecond the clock reads, as one made afresh.
    #[test]
    fn now_again_is_now_afresh() {
        let mut seen = 0;
        while seen < 3 {
            let before = Timestamp::now();
            let fresh = Timestamp::from_unix_ms(
                i64::try_from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis(),
                )
                .unwrap(),
            );
            let after = Timestamp::now();
            assert!(before.as_str() <= fresh.as_str(), "{}", before.as_str());
            assert!(fresh.as_str() <= after.as_str(), "{}", after.as_str());
            if before.as_str() != after.as_str() {
                seen += 1;
            }
        }
    }

    #[test]
    fn now_is_sqlite_now() {
        let conn = Connection::open_in_memory().unwrap();
        let before = Timestamp::now();
        let theirs: String = conn
            .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |r| {
                r.get(0)
            })
            .unwrap();
        let after = Timestamp::now();
        assert!(
            before.as_str() <= theirs.as_str(),
            "{} {theirs}",
            before.as_str()
        );
        assert!(
            theirs.as_str() <= after.as_str(),
            "{theirs} {}",
            after.as_str()
        );
    }
}
