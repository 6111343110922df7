// Generators of the hostile files of issue 10 (and a clean file to compare with), shared
// by `core/tests/hostile_files.rs`, `core/tests/parse_memory.rs` and
// `core/benches/parse_hostile.rs`, which include this file. Deterministic; nothing big is
// committed.

/// The header the bad-rows file uses.
pub(crate) const BAD_HEADER: &str = "firstname,lastname,emailaddress,addgroup,removegroup,languagecode\n";

/// About `size` bytes of rows with four errors each (two blank names, an invalid email, an
/// invalid language code): four issues per 11 bytes if every one were kept.
pub(crate) fn bad_rows(size: usize) -> Vec<u8> {
    let row = ",,x,,,en_x\n";
    let mut text = String::with_capacity(size + BAD_HEADER.len());
    text.push_str(BAD_HEADER);
    for _ in 0..size / row.len() {
        text.push_str(row);
    }
    text.into_bytes()
}

/// The group names of one cell of [`many_groups_row`]: `g0;g1;...` within `cell_bytes`.
pub(crate) fn group_cell(cell_bytes: usize) -> String {
    let mut cell = String::new();
    for i in 0.. {
        let name = format!("g{i}");
        if cell.len() + name.len() + 1 > cell_bytes {
            break;
        }
        if !cell.is_empty() {
            cell.push(';');
        }
        cell.push_str(&name);
    }
    cell
}

/// One row with `columns` addgroup and `columns` removegroup cells, each the same
/// [`group_cell`]: every group added is also removed (the conflict check's worst case).
pub(crate) fn many_groups_row(columns: usize, cell_bytes: usize) -> Vec<u8> {
    let cell = group_cell(cell_bytes);
    let mut text = String::from("firstname,lastname,emailaddress");
    for name in ["addgroup", "removegroup"] {
        for _ in 0..columns {
            text.push(',');
            text.push_str(name);
        }
    }
    text.push_str("\nAna,Lopez,ana@example.com");
    for _ in 0..2 * columns {
        text.push(',');
        text.push_str(&cell);
    }
    text.push('\n');
    text.into_bytes()
}

/// A header, a good row, then a quote opened on line 3 that runs `size` bytes to the end.
pub(crate) fn unterminated_quote(size: usize) -> Vec<u8> {
    let mut bytes = format!("{BAD_HEADER}Ana,Lopez,ana@example.com,,,\n\"").into_bytes();
    bytes.resize(bytes.len() + size, b'x');
    bytes.push(b'\n');
    bytes
}

/// A UTF-16LE file with a byte order mark (Excel's "Unicode text"), `rows` good rows.
pub(crate) fn utf16_file(rows: usize) -> Vec<u8> {
    let mut text = String::from("firstname\tlastname\temailaddress\n");
    for i in 0..rows {
        text.push_str(&format!("Zoë\tNgata\tzoe.{i}@example.com\n"));
    }
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// A header, `size` line breaks, one row.
pub(crate) fn blank_lines(size: usize) -> Vec<u8> {
    let mut bytes = BAD_HEADER.as_bytes().to_vec();
    bytes.resize(bytes.len() + size, b'\n');
    bytes.extend_from_slice(b"Ana,Lopez,ana@example.com,,,\n");
    bytes
}

/// A Windows-1252 file whose names are all `€` (byte 0x80, 3 bytes of UTF-8).
pub(crate) fn windows_1252_euros(rows: usize) -> Vec<u8> {
    let mut bytes = b"firstname,lastname,emailaddress\n".to_vec();
    for i in 0..rows {
        bytes.extend_from_slice(&[0x80; 24]);
        bytes.push(b',');
        bytes.extend_from_slice(&[0x80; 24]);
        bytes.extend_from_slice(format!(",user.{i}@example.com\n").as_bytes());
    }
    bytes
}

/// Rows of one character under a ten-column header: the most rows per byte, each with
/// two errors (the least bytes a row can take).
pub(crate) fn narrow_rows(size: usize) -> Vec<u8> {
    let header = "firstname,lastname,emailaddress,phonenumber,uniqueid,country,organisation,languagecode,addgroup,removegroup\n";
    let mut bytes = header.as_bytes().to_vec();
    for _ in 0..size / 2 {
        bytes.extend_from_slice(b"x\n");
    }
    bytes
}

/// A clean file of `rows` rows in 7 columns (like the benchmark's 1M-row file).
pub(crate) fn clean_file(rows: usize) -> Vec<u8> {
    let mut text = String::from(
        "firstname,lastname,emailaddress,phonenumber,uniqueid,country,organisation\n",
    );
    let names = ["Ana", "Bo", "Chloé", "Dmitri", "Emma", "Farah", "Zoë"];
    for i in 0..rows {
        let first = names[i % names.len()];
        text.push_str(&format!(
            "{first},Lopez,ana.lopez.{i}@example{}.com,+64 21 {:03} {:04},E{i:07},NZ,\"Acme Ltd\"\n",
            i % 97,
            i % 1000,
            i % 10_000
        ));
    }
    text.into_bytes()
}

/// Parse options declaring one `one_of` field, `grade`, of `values` values (`Grade0`...),
/// and a clean file of `rows` rows with a `grade` column (each value one of the last ones,
/// written in another case: every cell is checked against the whole list).
pub(crate) fn one_of_file(values: usize, rows: usize) -> (Vec<u8>, lms_bulk_upload::ParseOptions) {
    let field = lms_bulk_upload::ProfileField {
        kind: lms_bulk_upload::FieldKind::OneOf((0..values).map(|i| format!("Grade{i}")).collect()),
        ..lms_bulk_upload::ProfileField::text("grade")
    };
    let options = lms_bulk_upload::ParseOptions {
        fields: vec![field],
        max_rows: usize::MAX,
        ..Default::default()
    };
    let mut text = String::from("firstname,lastname,emailaddress,grade\n");
    for i in 0..rows {
        text.push_str(&format!(
            "Ana,Lopez,ana.{i}@example.com,GRADE{}\n",
            values - 1 - i % values.min(10)
        ));
    }
    (text.into_bytes(), options)
}

/// Parse options declaring `fields` profile fields of `aliases` aliases each (`f3_a17`...),
/// and a clean file of `rows` rows whose header names each field by its last alias.
pub(crate) fn many_aliases(
    fields: usize,
    aliases: usize,
    rows: usize,
) -> (Vec<u8>, lms_bulk_upload::ParseOptions) {
    let declared = (0..fields)
        .map(|f| lms_bulk_upload::ProfileField {
            aliases: (0..aliases).map(|a| format!("f{f}_a{a}")).collect(),
            ..lms_bulk_upload::ProfileField::text(format!("field{f}"))
        })
        .collect();
    let options = lms_bulk_upload::ParseOptions {
        fields: declared,
        max_rows: usize::MAX,
        ..Default::default()
    };
    let mut text = String::from("firstname,lastname,emailaddress");
    for f in 0..fields {
        text.push_str(&format!(",f{f}_a{}", aliases - 1));
    }
    text.push('\n');
    for i in 0..rows {
        text.push_str(&format!("Ana,Lopez,ana.{i}@example.com"));
        for f in 0..fields {
            text.push_str(&format!(",v{f}"));
        }
        text.push('\n');
    }
    (text.into_bytes(), options)
}
