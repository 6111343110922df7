//! The command line: subcommands and flags.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0    done; no row rejected or failed
  1    done, but some rows were rejected (validate, plan, apply: the file's errors)
       or failed (apply, undo: the database or the mail refused them)
  2    usage, file, settings or plan error, or an undo refused (the run is an undo
       itself, was undone already or has not finished); nothing was written
  3    database or mail transport error; `apply` (or `undo`) again resumes
  4    not confirmed (answered no, or no terminal to ask and no --yes)
  5    another `apply` or `undo` is running on the same database; nothing was done
  6    `invite verify`: the sign-in link does not work (unknown, used or expired)
  130  interrupted by Ctrl-C between rows; `apply` (or `undo`) again resumes";

/// Bulk upload of LMS users from a CSV file into a SQLite database.
#[derive(Debug, Parser)]
#[command(name = "bulk-upload", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour: auto (only on a terminal, and not with NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read and check a file: encoding, columns and every row. Needs no database.
    Validate {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        parse: ParseArgs,
        /// Read the host's declarations (profile `fields`, `login_methods`, `clear_token`)
        /// from this settings file (TOML or JSON, as for `apply`); its settings do not apply
        /// to `validate`.
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
        /// Print the file report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what `apply` would do, reading the database and writing nothing.
    Plan(Box<PlanArgs>),
    /// Plan, confirm and carry out the upload (`undo` reverses it, except the emails and
    /// the passwords it set for existing users).
    Apply(Box<ApplyArgs>),
    /// Undo an earlier `apply` (the latest run by default): suspend (or --delete) the users
    /// it created, reverse its group changes, withdraw its enrolments and restore the profile
    /// fields it wrote. Planned, shown and confirmed like `apply`; emails only the uploader.
    Undo(Box<UndoArgs>),
    /// Export the results of an earlier `apply` or `undo` (the latest by default), or list
    /// the runs (undone runs and undos marked).
    Results {
        #[command(flatten)]
        db: DbArgs,
        /// The run number (see --list); the latest when omitted.
        run: Option<i64>,
        /// List the runs instead.
        #[arg(long)]
        list: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ResultsFormat::Csv)]
        format: ResultsFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Create the database (the migrations also run on first use of any command).
    Init {
        #[command(flatten)]
        db: DbArgs,
        /// Seed demo groups, courses, collections, campaigns and an administrator, and a
        /// demo administrator of the screens whose one-time password is printed.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// The administrators who sign in to the screens (`serve`).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The database's groups (what `addgroup`, `removegroup` and --group name).
    Groups {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// The database's courses (what `course` and --enrol course:ID name).
    Courses {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// The database's collections (what `collection` and --enrol collection:ID name).
    Collections {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// The database's campaigns (what `campaign` and --enrol campaign:ID name).
    Campaigns {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Sign-in links (`apply --send-invitations`): check one for a script, without printing
    /// the token.
    Invite {
        #[command(subcommand)]
        command: InviteCommand,
    },
    /// Serve the administrator's screens and their HTTP API on this database: upload,
    /// validate, fix, plan, preview, approve, follow, undo. Runs execute in the server and
    /// resume after a restart.
    Serve(Box<ServeArgs>),
}

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Check a sign-in link's token: prints the user's id and email and exits 0 when it
    /// works, exits 6 with the code (`invitation_unknown`, `invitation_used`,
    /// `invitation_expired`) when it does not. The token is never printed or logged.
    Verify {
        /// The token (the link's last path segment or its query value), or `-` to read it
        /// from the first line of standard input (keeps it out of the process list). A token
        /// may start with `-` (base64url).
        #[arg(allow_hyphen_values = true)]
        token: String,
        /// Use the link up (single use): the next verification says `invitation_used`, and
        /// the user's other links stop working.
        #[arg(long)]
        redeem: bool,
        /// Print `{"user_id", "email"}` as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add an administrator (or set a new password for one): prompts for the password.
    Add {
        /// Their email address (what they sign in with).
        email: String,
        #[command(flatten)]
        db: DbArgs,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        exec: ExecArgs,
    },
}

/// `groups`, `courses`, `collections`, `campaigns`: add or list.
#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Add one or more (a group by its name; a course, collection or campaign by its id,
    /// with --title). One that exists already is left as it is.
    Add {
        /// The group names, or the content ids.
        #[arg(required = true)]
        names: Vec<String>,
        /// The title of the course, collection or campaign [default: its id].
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List them, one a line (id, then the title for content).
    List {
        #[command(flatten)]
        db: DbArgs,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "BULK_UPLOAD_LISTEN")]
    pub listen: std::net::SocketAddr,
    /// The site's public URL: the links in the emails, and the only origin whose requests
    /// are accepted [default: http:// and the address listened on].
    #[arg(long, env = "BULK_UPLOAD_SITE_URL")]
    pub site_url: Option<String>,
    /// Mark the session cookie `Secure` (served over TLS, or behind a proxy that is).
    #[arg(long)]
    pub secure_cookies: bool,
    /// The host's declarations (profile `fields`, `login_methods`, `clear_token`) from this
    /// settings file; its settings are chosen on the screens.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    #[command(flatten)]
    pub parse: ParseArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutboxFormatArg {
    Eml,
    Mbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultsFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The CSV file.
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub parse: ParseArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Print the plan as JSON (the input of `apply --plan-file`).
    #[arg(long)]
    pub json: bool,
    /// List every row, not only the summary and the issues.
    #[arg(long)]
    pub rows: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The CSV file (not needed with --plan-file).
    #[arg(required_unless_present = "plan_file")]
    pub file: Option<PathBuf>,
    /// Apply a plan saved with `plan --json` instead of planning now. Only a plan signed
    /// with this database's key is accepted; its results go to the results folder, never
    /// to a path named in the plan.
    #[arg(long, conflicts_with = "file")]
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the results as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub parse: ParseArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The run to undo (see `results --list`); the latest when omitted.
    pub run: Option<i64>,
    /// Delete the users the upload created instead of suspending them. A user something
    /// still refers to once the upload's groups and enrolments are removed (a membership or
    /// enrolment made since, any other row) is suspended instead.
    #[arg(long)]
    pub delete: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the results as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
    /// Read `uploader_email`, `results_url` and `site_url` from this settings file (TOML or
    /// JSON, as for `apply`); the other settings do not apply to an undo.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Who gets the confirmation email with the counts and the results link (no one if
    /// not given).
    #[arg(long, env = "BULK_UPLOAD_UPLOADER_EMAIL")]
    pub uploader_email: Option<String>,
    /// The results link in the confirmation email [default: the file:// URL of the results CSV].
    #[arg(long)]
    pub results_url: Option<String>,
    /// The site, whose host names the default sender (as for `apply`).
    #[arg(long, env = "BULK_UPLOAD_SITE_URL")]
    pub site_url: Option<String>,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub exec: ExecArgs,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The SQLite database (created on first use).
    #[arg(long, env = "BULK_UPLOAD_DB", default_value = "lms.sqlite3")]
    pub db: PathBuf,
    /// Where results CSV files are written [default: `results/` next to the database].
    #[arg(long, env = "BULK_UPLOAD_RESULTS_DIR")]
    pub results_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The delimiter (`,` `;` or `tab`); detected from the header line by default.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The separator between several groups in one addgroup/removegroup cell.
    #[arg(long, default_value_t = ';')]
    pub group_separator: char,
    /// Most data rows accepted.
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// Largest file accepted, in bytes.
    #[arg(long)]
    pub max_file_bytes: Option<usize>,
    /// The cell value that clears an existing user's optional field when profiles are
    /// updated (a blank cell keeps it); "" turns clearing off. Over the settings file's
    /// `clear_token` [default: #clear].
    #[arg(long, value_name = "TOKEN")]
    pub clear_token: Option<String>,
    /// The sheet of a spreadsheet (.xlsx, .xls, .ods) to read, by name; over the settings
    /// file's `sheet` [default: the first sheet].
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The file's encoding (`windows-1250`, `windows-1251`, `shift_jis`, `utf-8`...), when
    /// the detection guesses wrong; over the settings file's `encoding` [default: a byte
    /// order mark, else UTF-8, else the code page detected from the letters].
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
}

/// The settings (docs/CONTRACT.md §2). Flags override the settings file.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Read settings from a TOML or JSON file (snake_case keys, as in `Settings`), and the
    /// host's declarations: profile `fields`, `login_methods`, `clear_token`.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Existing users in the file are enrolled too.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub enrol_existing_users: Option<bool>,
    /// Existing users' details (and groups) are updated from non-blank cells.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub update_existing_profiles: Option<bool>,
    /// Existing users get a new password.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub update_existing_passwords: Option<bool>,
    /// Generate a unique password per user, emailed to them [default: true, or false when a
    /// default password is given].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub generate_passwords: Option<bool>,
    /// Instead of a password, email each user whose password is set a personal, single-use
    /// sign-in link where they choose their own (`bulk-upload serve` serves the page; see
    /// `invite verify`) [default: false].
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL",
        visible_alias = "sign-in-links"
    )]
    pub send_invitations: Option<bool>,
    /// The sign-in link template, `{token}` as one path segment or query value
    /// [default: SITE_URL/invitations/{token}, the page `serve` serves].
    #[arg(long, value_name = "URL")]
    pub invitation_url: Option<String>,
    /// Read the default password from this environment variable (recommended).
    #[arg(long, value_name = "VAR", group = "default_pw")]
    pub default_password_env: Option<String>,
    /// Read the default password from the first line of this file.
    #[arg(long, value_name = "FILE", group = "default_pw")]
    pub default_password_file: Option<PathBuf>,
    /// The default password itself. RISK: visible to other users in the process list and
    /// kept in shell history; prefer --default-password-env or --default-password-file.
    #[arg(long, value_name = "PASSWORD", group = "default_pw")]
    pub default_password: Option<String>,
    /// Users whose password is set must choose a new one at next login.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub force_password_reset: Option<bool>,
    /// Email users (always on with generated passwords) [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub send_notification_email: Option<bool>,
    /// Do not email users (only with a default password). Same as --send-notification-email=false.
    #[arg(long, conflicts_with = "send_notification_email")]
    pub no_notification_email: bool,
    /// Enrol every accepted user in KIND:ID (course, collection or campaign). Repeatable.
    #[arg(long = "enrol", value_name = "KIND:ID")]
    pub enrolments: Vec<String>,
    /// Add every accepted user to this group (case-sensitive). Repeatable.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// The login link in the emails.
    #[arg(long, env = "BULK_UPLOAD_SITE_URL")]
    pub site_url: Option<String>,
    /// The results link in the confirmation email [default: the file:// URL of the results CSV].
    #[arg(long)]
    pub results_url: Option<String>,
    /// Who gets the confirmation email with the counts and the results link.
    #[arg(long, env = "BULK_UPLOAD_UPLOADER_EMAIL")]
    pub uploader_email: Option<String>,
    /// Shortest accepted default password.
    #[arg(long)]
    pub min_password_length: Option<usize>,
    /// Length of generated passwords.
    #[arg(long)]
    pub generated_password_length: Option<usize>,
    /// How new users sign in when their row has no `auth` value: `password`, or one of the
    /// settings file's `login_methods` (no password is set or emailed) [default: password].
    #[arg(long, value_name = "NAME", visible_alias = "default-login-method")]
    pub login_method: Option<String>,
    /// The file lists everyone: users of the database who are not in it are suspended
    /// (never protected ones), within --missing-threshold.
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL",
        visible_alias = "suspend-missing-users"
    )]
    pub suspend_missing: Option<bool>,
    /// With --suspend-missing: the most users that may be suspended, in percent of the
    /// users in the database; a plan over it is refused [default: 10].
    #[arg(long, value_name = "PCT", visible_alias = "missing-users-threshold")]
    pub missing_threshold: Option<u32>,
    /// Reactivate the suspended users in the file whom bulk-upload suspended (missing from
    /// a file, or by an undo); a user suspended by hand always stays suspended [default:
    /// false; --update-existing-profiles alone never reactivates].
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL",
        visible_alias = "reactivate-suspended-users"
    )]
    pub reactivate_suspended: Option<bool>,
}

#[derive(Debug, Args)]
pub struct MailArgs {
    /// Send email through this SMTP server: smtp://user:pass@host:587 (STARTTLS, required),
    /// smtps://host:465 (implicit TLS), or smtp://host:25?tls=none to send in plain text on
    /// purpose. Without it, emails are written as .eml files to the outbox.
    #[arg(
        long,
        env = "BULK_UPLOAD_SMTP",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp: Option<String>,
    /// The outbox folder for .eml files [default: `outbox/` next to the database].
    #[arg(
        long,
        env = "BULK_UPLOAD_OUTBOX",
        value_name = "DIR",
        conflicts_with = "smtp"
    )]
    pub outbox: Option<PathBuf>,
    /// How the outbox holds messages: `eml`, one file per message, or `mbox`, one mboxrd
    /// file per batch of rows (for big uploads: creating a file costs more than writing a
    /// message) [default: eml; `serve` writes eml].
    #[arg(long, value_enum, conflicts_with = "smtp", value_name = "FORMAT")]
    pub outbox_format: Option<OutboxFormatArg>,
    /// The sender address [default: no-reply@ the site's host].
    #[arg(long, env = "BULK_UPLOAD_MAIL_FROM")]
    pub mail_from: Option<String>,
}

/// Execution tuning; hidden because the defaults are right outside tests and benchmarks.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Argon2id memory cost in KiB (default: OWASP's 19456).
    #[arg(long, hide = true, env = "BULK_UPLOAD_ARGON2_MEMORY_KIB")]
    pub argon2_memory_kib: Option<u32>,
    /// Argon2id iterations (default 2).
    #[arg(long, hide = true, env = "BULK_UPLOAD_ARGON2_ITERATIONS")]
    pub argon2_iterations: Option<u32>,
    /// Allow argon2id parameters below OWASP's minimum (m=19456 KiB, t=2). For tests only.
    #[arg(
        long,
        hide = true,
        env = "BULK_UPLOAD_INSECURE_FAST_HASHING",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub insecure_fast_hashing: bool,
    /// Rows per transaction.
    #[arg(long, hide = true)]
    pub batch_size: Option<usize>,
    /// Hashing threads (0: all cores).
    #[arg(long, hide = true)]
    pub threads: Option<usize>,
    /// How long the sign-in links of --send-invitations work, in hours (1 to 720)
    /// [default: 72].
    #[arg(long, value_name = "HOURS", env = "BULK_UPLOAD_INVITATION_HOURS")]
    pub invitation_hours: Option<u64>,
}
