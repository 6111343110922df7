"""Type stubs of the native module (checked against it with ``mypy.stubtest`` in CI)."""

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union, final, overload

from ._types import (
    Action,
    ContentRef,
    ExistingUser,
    EmailTemplate,
    HashParams,
    ShardRef,
    IssueDict,
    Journal,
    Mailer,
    Message,
    PasswordPolicy,
    PlanSummary,
    ProfileField,
    ResultErrorDict,
    ResultRowDict,
    ResultSummary,
    Severity,
    Status,
    Store,
    StoreState,
    UndoOptions,
)

__all__ = [
    "email_key",
    "CancelToken",
    "CodeInfo",
    "Issue",
    "MemoryJournal",
    "MemoryStore",
    "PLAN_FORMAT_VERSION",
    "Plan",
    "PlanKey",
    "PlanRow",
    "PlanRows",
    "Progress",
    "RecordingMailer",
    "ResultRow",
    "Results",
    "Row",
    "Settings",
    "Upload",
    "UploadRows",
    "WebApi",
    "ResponseChunks",
    "__version__",
    "_apply_store_changes",
    "_bench_parse_rust",
    "_judge_protocol_folder",
    "_judge_scenario",
    "issue_codes",
    "parse",
    "plan",
    "plan_undo",
    "sheet_names",
    "redeem_invitation",
    "verify_invitation",
    "verify_password",
]

__version__: str
PLAN_FORMAT_VERSION: int

@final
class Issue:
    """One problem: a stable code, a severity, a place and a message."""

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def line(self) -> Optional[int]: ...
    @property
    def column(self) -> Optional[str]: ...
    @property
    def message(self) -> str: ...
    @property
    def is_error(self) -> bool: ...
    def to_dict(self) -> IssueDict: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CodeInfo:
    """An issue or error code with its severity and meaning."""

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def meaning(self) -> str: ...
    def to_dict(self) -> Dict[str, str]: ...
    def __eq__(self, other: object, /) -> bool: ...

def issue_codes() -> List[CodeInfo]:
    """Every issue and error code with its severity and meaning."""

def verify_password(phc: str, password: str) -> bool:
    """Whether ``password`` matches a stored argon2id PHC hash (``$argon2id$v=19$...``)."""

def email_key(email: str) -> str:
    """The identity of an address, as the engine compares them: lowercase, the domain
    mapped to ASCII by IDNA (``ana@Bücher.de`` → ``ana@xn--bcher-kva.de``). A store that
    looks users up itself keys them by it."""

@final
class Row:
    """One row of an upload."""

    @property
    def line(self) -> int: ...
    @property
    def values(self) -> Dict[str, str]:
        """The values of the file's recognised columns, by canonical column name
        (``firstname`` ... ``auth``, and ``course``, ``collection``, ``campaign``: the ids the
        row enrols in, several separated by the group separator)."""
    def get(self, column: str) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def add_groups(self) -> List[str]: ...
    @property
    def remove_groups(self) -> List[str]: ...
    @property
    def custom(self) -> Dict[str, str]:
        """The cells of the host's declared profile fields, by field name (empty when none)."""
    @property
    def valid(self) -> bool: ...
    @property
    def issues(self) -> List[Issue]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class UploadRows(Sequence[Row]):
    """The rows of an upload: a read-only sequence, each row converted when read."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int, /) -> Row: ...
    @overload
    def __getitem__(self, index: slice, /) -> List[Row]: ...

@final
class Upload:
    """A parsed and validated upload file."""

    @property
    def rows(self) -> UploadRows: ...
    @property
    def issues(self) -> List[Issue]: ...
    @property
    def has_errors(self) -> bool: ...
    @property
    def valid_count(self) -> int: ...
    @property
    def encoding(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def sheet(self) -> Optional[str]: ...
    @property
    def delimiter(self) -> str: ...
    @property
    def group_separator(self) -> str: ...
    @property
    def header(self) -> List[Dict[str, Optional[str]]]: ...
    def report(self) -> Dict[str, Any]: ...
    def __len__(self) -> int: ...

def parse(
    source: Union[bytes, bytearray, str, "os.PathLike[str]"],
    *,
    delimiter: Optional[str] = ...,
    group_separator: Optional[str] = ...,
    max_file_bytes: Optional[int] = ...,
    max_rows: Optional[int] = ...,
    max_field_bytes: Optional[int] = ...,
    max_columns: Optional[int] = ...,
    max_value_chars: Optional[int] = ...,
    max_issues_per_row: Optional[int] = ...,
    max_issues: Optional[int] = ...,
    clear_token: Optional[str] = ...,
    fields: Optional[Sequence[ProfileField]] = ...,
    login_methods: Optional[Sequence[str]] = ...,
    sheet: Optional[str] = ...,
    encoding: Optional[str] = ...,
    column_assignments: Optional[Mapping[int, Optional[str]]] = ...,
    threads: Optional[int] = ...,
) -> Upload:
    """Parses and validates a file: ``bytes``, ``str`` (the CSV text) or a path
    (``os.PathLike``); a CSV in any encoding Excel writes, or an ``.xlsx``, ``.xls`` or
    ``.ods`` workbook (recognised by content; ``sheet`` names the sheet, default the first;
    ``encoding`` names a CSV's encoding when it is known). Raises ``FileError`` when the file cannot be used at all, and
    ``SettingsError`` (``invalid_option``) for an unknown option or a value out of range
    (the options as one dict: ``ParseOptions``). ``fields`` declares the host's own profile
    fields (``ProfileField``), ``login_methods`` its login methods besides ``password``
    (the ``auth`` column's values), ``clear_token`` the value that clears a field
    (default ``#clear``; ``""``: none), ``sheet`` a spreadsheet's sheet by name (default:
    the first), ``encoding`` the file's encoding by label (``windows-1250``, ``shift_jis``...;
    default: detected), ``column_assignments`` the columns matched by hand (a header
    cell's 0-based position to the name of a column or declared field, or to ``None`` for a
    column ignored: ``{1: "last name", 3: None}``; a position past the header or an unknown
    name is a ``SettingsError``, ``invalid_option``), ``threads`` the threads reading it (0,
    the default: one per core, at most 16; 1: one pass on the calling thread; the outcome is
    the same either way). UTF-8 ``bytes`` (and a ``str``'s UTF-8) are read in place: the
    upload keeps that object alive instead of a copy of it; a ``bytearray`` is copied."""

def sheet_names(
    source: Union[bytes, bytearray, str, "os.PathLike[str]"],
    *,
    delimiter: Optional[str] = ...,
    group_separator: Optional[str] = ...,
    max_file_bytes: Optional[int] = ...,
    max_rows: Optional[int] = ...,
    max_field_bytes: Optional[int] = ...,
    max_columns: Optional[int] = ...,
    max_value_chars: Optional[int] = ...,
    max_issues_per_row: Optional[int] = ...,
    max_issues: Optional[int] = ...,
    clear_token: Optional[str] = ...,
    fields: Optional[Sequence[ProfileField]] = ...,
    login_methods: Optional[Sequence[str]] = ...,
    sheet: Optional[str] = ...,
    encoding: Optional[str] = ...,
    column_assignments: Optional[Mapping[int, Optional[str]]] = ...,
    threads: Optional[int] = ...,
) -> List[str]:
    """The names of a workbook's sheets (``.xlsx``, ``.xls``, ``.ods``, recognised by
    content), in the workbook's order, for the administrator to choose one (``parse(...,
    sheet=name)``); ``[]`` for a CSV file. ``source`` and the options are ``parse``'s (its
    limits hold before the workbook is opened). Raises ``FileError`` when the file cannot be
    read (``file_too_large``, ``malformed_spreadsheet``, ``unsupported_file``) and
    ``SettingsError`` (``invalid_option``) for an unknown option."""

@final
class Settings:
    """The administrator's choices, decoded and validated by the core at construction
    (``SettingsError`` with a code: ``invalid_setting`` for an unknown name or a value of
    the wrong type). The default password can never be read back."""

    def __new__(
        cls,
        *,
        enrol_existing_users: bool = ...,
        update_existing_profiles: bool = ...,
        update_existing_passwords: bool = ...,
        generate_passwords: bool = ...,
        default_password: Optional[str] = ...,
        send_invitations: bool = ...,
        invitation_url: Optional[str] = ...,
        force_password_reset: bool = ...,
        send_notification_email: bool = ...,
        enrolments: Sequence[Union[ContentRef, "tuple[str, str]"]] = ...,
        groups: Sequence[str] = ...,
        site_url: str = ...,
        results_url: str = ...,
        uploader_email: Optional[str] = ...,
        password_policy: PasswordPolicy = ...,
        default_login_method: Optional[str] = ...,
        suspend_missing_users: bool = ...,
        missing_users_threshold: int = ...,
        reactivate_suspended_users: bool = ...,
    ) -> "Settings":
        """``default_login_method``: how new users sign in when their row has no ``auth``
        value (None or ``"password"``: by password; else one of the parse option
        ``login_methods``, checked when planning: ``unknown_login_method``).
        ``suspend_missing_users``: the file lists everyone, and the users in the store's
        ``scope_users`` it does not name are suspended, unless more than
        ``missing_users_threshold`` percent (0 to 100, default 10) of the users who could
        be suspended would be (``missing_users_threshold``).
        ``reactivate_suspended_users`` (default False): suspended users in the file are
        reactivated, only those an upload suspended (the store's ``suspended_by_upload``);
        ``update_existing_profiles`` alone never reactivates anyone.
        ``send_invitations`` (default False): instead of a password, each user whose
        password is set gets a personal single-use sign-in link by email (it needs the
        notification email, refuses a default password, and turns ``generate_passwords``
        off); ``invitation_url`` is the link template, ``{token}`` as one path segment or
        query value (default ``<site_url>/invitations/{token}``)."""
    @property
    def enrol_existing_users(self) -> bool: ...
    @property
    def update_existing_profiles(self) -> bool: ...
    @property
    def update_existing_passwords(self) -> bool: ...
    @property
    def generate_passwords(self) -> bool: ...
    @property
    def has_default_password(self) -> bool: ...
    @property
    def send_invitations(self) -> bool: ...
    @property
    def invitation_url(self) -> Optional[str]: ...
    @property
    def force_password_reset(self) -> bool: ...
    @property
    def send_notification_email(self) -> bool: ...
    @property
    def enrolments(self) -> List[ContentRef]: ...
    @property
    def groups(self) -> List[str]: ...
    @property
    def site_url(self) -> str: ...
    @property
    def results_url(self) -> str: ...
    @property
    def uploader_email(self) -> Optional[str]: ...
    @property
    def password_policy(self) -> PasswordPolicy: ...
    @property
    def default_login_method(self) -> Optional[str]: ...
    @property
    def suspend_missing_users(self) -> bool: ...
    @property
    def missing_users_threshold(self) -> int: ...
    @property
    def reactivate_suspended_users(self) -> bool: ...
    def to_dict(self) -> Dict[str, Any]:
        """The settings as the core exports them (``has_default_password``, never the
        password)."""

@final
class PlanRow:
    """The plan for one row."""

    @property
    def line(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def action(self) -> Action: ...
    @property
    def user_id(self) -> Optional[str]: ...
    @property
    def operations(self) -> List[Dict[str, Any]]:
        """Dicts with an ``op`` key: create_user (``profile``, and ``login_method`` for a user
        who signs in another way than by password), update_profile (``changes``),
        set_login_method (``method``), reactivate_user, set_password, add_to_group,
        remove_from_group, enrol (``content``: the settings' enrolments, then the row's own
        course, collection and campaign cells, each once), send_email; suspend_user for a user missing from the file
        (``suspend_missing_users``, a row after the file's last line); in an undo plan also
        suspend_user, delete_user and withdraw."""
    @property
    def noops(self) -> List[Dict[str, Any]]: ...
    @property
    def issues(self) -> List[Issue]: ...
    def to_dict(self) -> Dict[str, Any]: ...

@final
class PlanRows(Sequence[PlanRow]):
    """The rows of a plan: a read-only sequence, each row converted when read."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int, /) -> PlanRow: ...
    @overload
    def __getitem__(self, index: slice, /) -> List[PlanRow]: ...

@final
class Progress:
    """Given to the ``progress`` callback after every row."""

    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def failed(self) -> int: ...

@final
class CancelToken:
    """Stops an execution between rows when ``cancel()`` is called, from any thread."""

    def __new__(cls) -> "CancelToken": ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

@final
class MemoryJournal:
    """A journal in memory: pass the same one again to resume a cancelled execution."""

    def __new__(cls) -> "MemoryJournal": ...

@final
class ResultRow:
    """The outcome of one row."""

    @property
    def line(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def user_id(self) -> Optional[str]: ...
    @property
    def done(self) -> List[Dict[str, Any]]:
        """What was done, in order: dicts tagged by ``op``, as in the results JSON
        (``{"op": "create_user"}``, ``{"op": "set_login_method", "method": "saml",
        "before": "password"}``, ``{"op": "reactivate_user"}``, ``{"op": "suspend_user"}``...)."""
    @property
    def error(self) -> Optional[ResultErrorDict]:
        """Why the row was rejected or failed (None otherwise), as in the results JSON."""
    def to_dict(self) -> ResultRowDict: ...

@final
class Results:
    """What execution did, row by row."""

    @property
    def rows(self) -> List[ResultRow]: ...
    @property
    def summary(self) -> ResultSummary: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def confirmation_error(self) -> Optional[ResultErrorDict]:
        """Why the confirmation email was not sent (None when it was, or was not due)."""
    @property
    def undo_of(self) -> Optional[str]:
        """When these are the results of an undo: the fingerprint of the upload it undid
        (such results cannot be undone: ``PlanError`` with ``undo_of_undo``)."""
    def to_dict(self) -> Dict[str, Any]: ...
    def to_csv(self) -> str: ...
    def to_json(self) -> str: ...
    def __len__(self) -> int: ...
    @property
    def shard(self) -> Optional[ShardRef]:
        """Which shard these are the results of, or None."""
    @property
    def confirmation_deferred(self) -> bool:
        """Whether the uploader's confirmation is still to be sent (a shard's results, or
        merged results before ``send_confirmation``)."""
    @classmethod
    def from_json(cls, json: str) -> "Results":
        """Reads results back from ``to_json()``; ``PlanError`` (``invalid_results``) if they
        cannot be read or their summary is not their rows'. Not ``verified``."""
    def to_signed_json(self, key: "PlanKey") -> str:
        """The results' compact JSON with a ``signature``: HMAC-SHA-256 under ``key``."""
    @classmethod
    def from_signed_json(cls, json: str, key: "PlanKey") -> "Results":
        """Every check of ``from_json``, then the signature: ``PlanError`` with
        ``results_unsigned`` or ``results_signature_invalid``. The results are ``verified``."""
    @property
    def verified(self) -> bool:
        """Whether the engine vouches for these results (from ``execute`` in this process,
        ``from_signed_json``, or merged from such): ``plan_undo`` refuses others
        (``results_unsigned``) unless ``results_from_trusted_storage``."""
    @classmethod
    def merge(cls, parent: "Plan", results: Sequence["Results"]) -> "Results":
        """The shards' results merged into the parent's: every shard exactly once, in any
        order (``PlanError`` with ``shard_missing``, ``shard_duplicate``, ``shard_foreign``;
        ``shard_result_mismatch`` for a row naming another person or user id than the
        parent's row on its line, or recording something it does not do)."""
    def send_confirmation(
        self,
        parent: "Plan",
        mailer: Union["RecordingMailer", Mailer],
        *,
        templates: Optional[Mapping[str, EmailTemplate]] = None,
    ) -> "Results":
        """Sends the uploader of ``parent`` the one confirmation with these merged counts;
        returns the results with the confirmation no longer deferred."""

@final
class Plan:
    """What will happen to every row: deterministic, serialisable, fingerprinted."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def summary(self) -> PlanSummary: ...
    @property
    def undo_of(self) -> Optional[str]:
        """The fingerprint of the upload this plan undoes (a plan from ``plan_undo``), else
        None."""
    @property
    def rows(self) -> PlanRows: ...
    @property
    def settings(self) -> Dict[str, Any]: ...
    @property
    def file_issues(self) -> List[Issue]: ...
    def to_json(self, *, pretty: bool = False) -> str: ...
    def to_signed_json(self, key: PlanKey) -> str:
        """The plan's compact JSON with a ``signature``: HMAC-SHA-256 under ``key``."""
    @classmethod
    def from_signed_json(cls, json: Union[str, bytes], key: PlanKey) -> "Plan":
        """Every check of ``from_json``, then the signature: ``PlanError`` with
        ``plan_unsigned`` or ``plan_signature_invalid``."""
    @classmethod
    def from_json(cls, json: Union[str, bytes]) -> "Plan":
        """Reads a plan back; ``PlanError`` if it was altered or cannot be read, and
        ``plan_unsigned`` for a shard (shards are read with ``from_signed_json`` only)."""
    def with_default_password(self, password: str) -> "Plan": ...
    def shards(
        self,
        rows_per_shard: int,
        *,
        default_password: Optional[str] = None,
        hash_params: Optional[HashParams] = None,
    ) -> List["Plan"]:
        """Self-contained plans of ``rows_per_shard`` rows each, in row order. A plan that
        sets the default password needs ``default_password``: it is hashed once here and the
        shards carry only the hash."""
    @property
    def shard(self) -> Optional[ShardRef]:
        """Which shard this plan is, or None for a whole plan."""
    def execute(
        self,
        store: Union["MemoryStore", Store],
        mailer: Union["RecordingMailer", Mailer],
        *,
        progress: Optional[Callable[[Progress], Optional[bool]]] = None,
        cancel: Optional[CancelToken] = None,
        journal: Optional[Union[MemoryJournal, Journal]] = None,
        default_password: Optional[str] = ...,
        threads: Optional[int] = ...,
        hash_params: Optional[HashParams] = ...,
        retries: Optional[int] = ...,
        retry_delay_ms: Optional[int] = ...,
        batch_size: Optional[int] = ...,
        templates: Optional[Mapping[str, EmailTemplate]] = ...,
    ) -> Results:
        """Executes the plan. The options after the journal are the core's execute options
        (an unknown one is a ``SettingsError`` with ``invalid_option``); ``threads`` 0 means
        one per core. ``progress`` returning ``False`` cancels between rows.
        ``templates`` replaces any of the templates ``welcome_with_password``, ``welcome``,
        ``welcome_sso``, ``password_changed_with_password``, ``password_changed``,
        ``upload_complete``, ``undo_complete``;
        placeholders are ``{{first_name}}``, ``{{last_name}}``, ``{{login}}``,
        ``{{site_url}}``, ``{{password}}``, ``{{results_url}}``, ``{{counts}}``."""
    def __len__(self) -> int: ...

def plan(
    upload: Upload,
    settings: Union[Settings, Mapping[str, Any]],
    store: Union["MemoryStore", Store],
    *,
    lookup_batch: Optional[int] = None,
) -> Plan:
    """Builds the plan: reads the store (batched), writes nothing. ``settings``: a
    ``Settings``, or a mapping of its keyword arguments."""

def verify_invitation(store: Union["MemoryStore", Store], token: str, *, now: Optional[int] = None) -> str:
    """The invited user's id when the sign-in link's token works (checked through the
    store's ``find_invitation``, compared in constant time); ``InvitationError`` with
    ``invitation_unknown``, ``invitation_used`` or ``invitation_expired`` otherwise. Does
    not use the link up. ``now``: seconds since the Unix epoch (default: now)."""

def redeem_invitation(store: Union["MemoryStore", Store], token: str, *, now: Optional[int] = None) -> str:
    """``verify_invitation``, then uses the link up through the store's
    ``redeem_invitation`` (once: a second call raises ``invitation_used``); the store drops
    the user's other links. Set the password the user chose, then commit."""

def plan_undo(
    results: Results,
    store: Union["MemoryStore", Store],
    options: Optional[UndoOptions] = None,
) -> Plan:
    """The plan that undoes the upload ``results`` come from, made by the core against the
    store as it is now: reads the store (batched), writes nothing; execute it like any plan.
    Users the upload created are suspended (deleted with ``delete_created_users``, where the
    store's ``delete_user`` lets it), groups and enrolments it added are removed, profile
    fields it wrote are restored. Raises ``StoreError`` with ``undo_unsupported`` when the
    store lacks a method the undo needs (``suspend_user``, ``delete_user``, ``withdraw``),
    ``PlanError`` with ``undo_of_undo`` for the results of an undo, ``PlanError`` with
    ``results_unsigned`` for results that are not ``verified`` (unless the options say
    ``results_from_trusted_storage``), ``SettingsError`` with ``invalid_option`` for an
    unknown option."""

@final
class PlanKey:
    """A host's key for signing plans (HMAC-SHA-256, at least 32 bytes). ``repr`` never
    shows it; it cannot be pickled."""

    @classmethod
    def generate(cls) -> "PlanKey":
        """A fresh 32-byte key from the OS CSPRNG."""
    @classmethod
    def from_hex(cls, hex: str) -> "PlanKey":
        """``SettingsError`` (``invalid_setting``) if not hex or under 32 bytes."""
    @classmethod
    def from_bytes(cls, key: bytes) -> "PlanKey":
        """``SettingsError`` (``invalid_setting``) if under 32 bytes."""
    def to_hex(self) -> str:
        """The key as lowercase hex, for the host to store where only it can read it."""

@final
class MemoryStore:
    """A store in memory, for tests, examples and demos."""

    def __new__(cls, state: Optional[Mapping[str, Any]] = None) -> "MemoryStore":
        """`state` is shaped like `StoreState` (groups, content, users), e.g. read from JSON."""
    def state(self) -> StoreState: ...
    def add_group(self, id: str, name: str) -> "MemoryStore":
        """Adds a group; returns the store."""
    def add_content(self, content: ContentRef) -> "MemoryStore":
        """Adds a course, collection or campaign; returns the store."""
    def add_user(self, user: Union[ExistingUser, Mapping[str, Any]]) -> "MemoryStore":
        """Adds an existing user (as ``Store.find_users`` returns one); returns the store."""
    def password_hash(self, email: str) -> Optional[str]:
        """The argon2id PHC string of the user's password, if one was set."""
    def verify_password(self, email: str, password: str) -> bool:
        """Whether ``password`` is the user's password (argon2id verification)."""
    @property
    def calls(self) -> Dict[str, int]:
        """How many times each store method was called, by name (``find_users``...)."""
    def __len__(self) -> int: ...

@final
class RecordingMailer:
    """A mailer that keeps every message it is given."""

    def __new__(cls) -> "RecordingMailer": ...
    @property
    def messages(self) -> List[Message]: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...

def _apply_store_changes(store: str, changes: str) -> str:
    """A scenario's store state after its ``store_changes`` (JSON in and out). For tests."""

def _bench_parse_rust(data: bytes, runs: int = 1, threads: int = 0) -> float:
    """For benchmarks: the best time, in milliseconds, of ``runs`` parses of ``data`` with the
    default options on ``threads`` threads (0: every core), taken inside Rust."""

def _judge_scenario(scenario: str, outcome: str) -> None:
    """The one judge of a scenario (scenario.json) and a runner's outcome, as JSON texts;
    ``AssertionError`` when they differ. For tests (``lms_bulk_upload._testing``)."""

def _judge_protocol_folder(folder: str, outcome: str) -> None:
    """The one judge of the host-protocol vector in ``folder`` and a runner's outcome."""

@final
class ResponseChunks:
    """A streamed response body (the run's events): ``bytes`` chunks as they come."""

    def __iter__(self) -> "ResponseChunks": ...
    def __next__(self) -> bytes: ...
    def close(self) -> None: ...

@final
class WebApi:
    """The administrator's screens over a host's hooks, store and mailer (see
    ``lms_bulk_upload.web``)."""

    def __new__(
        cls,
        hooks: Any,
        store: Store,
        mailer: Mailer,
        *,
        site_url: str,
        secret: Union[str, bytes],
        parse_options: Optional[Mapping[str, Any]] = None,
        execute: Optional[Mapping[str, Any]] = None,
        secure_cookies: bool = False,
        session_secs: Optional[int] = None,
    ) -> "WebApi": ...
    def handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        peer: Optional[str] = None,
    ) -> tuple[int, List[tuple[str, str]], Union[bytes, ResponseChunks]]: ...
    def body_limit(self, method: str, path: str) -> int: ...
    def too_large(self, limit: int) -> tuple[int, List[tuple[str, str]], bytes]: ...
    def run(self, run_id: str) -> str: ...
    def resume_unfinished(self) -> List[str]: ...
