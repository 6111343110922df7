//! Hostile files through the CLI: an over-limit file is refused before it is read whole
//! (issue 10, case 3), and no value reaches the terminal as an escape sequence (case 7).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;

/// A header cell that retitles the terminal window and clears the screen, a bell, a C1
/// control introducer and a bidi override; and rows with escape sequences in values.
const HOSTILE: &str =
    "firstname,lastname,emailaddress,\u{1b}]0;pwned\u{7}\u{1b}[2Jx,\u{9b}6n\u{202e}y\n\
A\u{1b}[5m,B,a@example.org,z,z\n\
C,D,c\u{1b}[2J@example.org,z,z\n\
E,F,e@example.org,z,z\n";

/// Byte sequences that do something on a terminal, none of which the CLI's own styles use.
const RAW: &[&str] = &[
    "\u{1b}]",
    "\u{1b}[2J",
    "\u{1b}[5m",
    "\u{7}",
    "\u{9b}",
    "\u{202e}",
];

#[test]
fn escape_sequences_from_the_file_are_shown_escaped() {
    let env = Env::demo();
    let csv = env.path("hostile.csv");
    std::fs::write(&csv, HOSTILE).unwrap();
    let csv = csv.to_str().unwrap();
    // `--color always`: the output goes to the terminal as it is, colours included, so only
    // the escaping stands between a value and the terminal.
    let runs = [
        run(&["validate", csv, "--color", "always"]),
        run(&[
            "plan",
            csv,
            "--db",
            env.db_str(),
            "--rows",
            "--color",
            "always",
        ]),
        run(&[
            "apply",
            csv,
            "--db",
            env.db_str(),
            "--yes",
            "--color",
            "always",
        ]),
    ];
    for o in &runs {
        let (out, err) = (stdout(o), stderr(o));
        assert!(code(o) <= 1, "{err}");
        for raw in RAW {
            assert!(!out.contains(raw), "{raw:?} raw on stdout:\n{out}");
            assert!(!err.contains(raw), "{raw:?} raw on stderr:\n{err}");
        }
        assert!(out.contains("\u{1b}[1m"), "the CLI's own styles are kept");
    }
    let validate = stdout(&runs[0]);
    assert!(
        validate.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jx"),
        "the header cell is shown, escaped:\n{validate}"
    );
    assert!(validate.contains("\\u{9b}6n\\u{202e}y"), "{validate}");
}

#[test]
fn an_over_limit_file_is_refused_by_its_length_before_it_is_read() {
    let env = Env::demo();
    // 8 GiB, sparse: reading it would take minutes and gigabytes; the refusal names its
    // length, which only the check before reading knows.
    let big = env.path("big.csv");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(8 << 30).unwrap();
    drop(file);
    for args in [
        vec!["validate", big.to_str().unwrap()],
        vec![
            "apply",
            big.to_str().unwrap(),
            "--db",
            env.db_str(),
            "--yes",
        ],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("file_too_large"), "{err}");
        assert!(err.contains("(8589934592 bytes)"), "{err}");
    }
    // A small limit, on a small file.
    let small = env.path("small.csv");
    generated_csv(&small, 50);
    let o = run(&[
        "validate",
        small.to_str().unwrap(),
        "--max-file-bytes",
        "100",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("file_too_large"), "{}", stderr(&o));
}

#[test]
fn an_over_limit_pipe_is_refused_after_the_limit() {
    let mut child = cmd(&["validate", "/dev/stdin", "--max-file-bytes", "1000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut text = String::from("firstname,lastname,emailaddress\n");
        for i in 0..10_000 {
            text.push_str(&format!("P{i},T,p{i}@example.org\n"));
        }
        // The reader stops after 1001 bytes: a broken pipe here is expected.
        let _ = stdin.write_all(text.as_bytes());
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("file_too_large"), "{err}");
    assert!(err.contains("limit of 1000 bytes"), "{err}");
}
