// The benchmark file of `benches/parse.rs` (and of `examples/count_instructions.rs`):
// `rows` rows of 7 columns (firstname, lastname, emailaddress, phonenumber, uniqueid,
// country, organisation), about 85 bytes a row, deterministic: a small LCG picks names;
// emails are unique. Included with `include!` (not a module of its own).

const FIRST: &[&str] = &[
    "Ana", "Bo", "Chloé", "Dmitri", "Emma", "Farah", "George", "Hana", "Ivan", "José", "Kiri",
    "Liam", "Mere", "Noah", "Olivia", "Priya", "Quinn", "Rawiri", "Sofia", "Tama", "Uma", "Viktor",
    "Wiremu", "Xin", "Yusuf", "Zoë",
];
const LAST: &[&str] = &[
    "Lopez", "Chen", "Ngata", "Müller", "Smith", "Patel", "Williams", "Brown", "Tanaka",
    "Kowalski", "Nguyen", "Walker", "Te Rangi", "O'Brien", "García", "Singh",
];
const COUNTRY: &[&str] = &["NZ", "AU", "GB", "US", "DE", "ES", "IN", "JP"];
const ORGANISATION: &[&str] = &[
    "Acme Ltd",
    "Globex",
    "Initech",
    "Umbrella Corp",
    "Hooli",
    "Kiwi Health",
    "Stark Industries",
];

/// Writes the file to `path` (through a temporary file, renamed when complete).
#[allow(dead_code)]
fn generate(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    write_users(&mut out, rows)?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    std::fs::rename(tmp, path)
}

/// The deterministic file: a small LCG picks names; emails are unique.
fn write_users(out: &mut impl std::io::Write, rows: usize) -> std::io::Result<()> {
    writeln!(
        out,
        "firstname,lastname,emailaddress,phonenumber,uniqueid,country,organisation"
    )?;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    for i in 0..rows {
        let first = FIRST[next(FIRST.len())];
        let last = LAST[next(LAST.len())];
        let organisation = ORGANISATION[next(ORGANISATION.len())];
        let country = COUNTRY[next(COUNTRY.len())];
        let ascii = |name: &str| -> String {
            name.chars()
                .filter(char::is_ascii_alphabetic)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        let local = format!("{}.{}", ascii(first), ascii(last));
        let organisation = if organisation.contains(' ') && i % 5 == 0 {
            format!("\"{organisation}\"")
        } else {
            organisation.to_owned()
        };
        writeln!(
            out,
            "{first},{last},{local}.{i}@example{}.com,+64 21 {:03} {:04},E{i:07},{country},{organisation}",
            i % 97,
            next(1000),
            next(10000),
        )?;
    }
    Ok(())
}

