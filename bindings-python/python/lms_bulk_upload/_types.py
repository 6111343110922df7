"""The shapes a host deals with, as the core's host protocol defines them: the ``Store``,
``Mailer`` and ``Journal`` protocols and the plain values (TypedDicts) passed to and returned
from them. Ordinary Python, available at runtime; the engine only needs objects with the
methods, it never checks ``isinstance``."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Mapping, Optional, Protocol, Sequence, TypedDict, Union

ContentKind = Literal["course", "collection", "campaign"]
Severity = Literal["error", "warning"]
Action = Literal["create", "update", "unchanged", "rejected"]
Status = Literal["created", "updated", "unchanged", "rejected", "failed"]
MessageKind = Literal["welcome", "password_changed", "upload_complete", "undo_complete"]
OptionalMethod = Literal["suspend_user", "delete_user", "withdraw", "reactivate_user", "set_login_method", "scope_users"]
FieldKind = Literal["text", "one_of", "date", "number"]


class ContentRef(TypedDict):
    """A course, collection or campaign: ``{"kind": "course", "id": "c-101"}``."""

    kind: ContentKind
    id: str


class Group(TypedDict):
    """A group that exists in the host (``id`` may be returned as an int)."""

    id: str
    name: str


class Profile(TypedDict, total=False):
    """Profile fields; in changes, only the fields that change are present."""

    first_name: Optional[str]
    last_name: Optional[str]
    phone_number: Optional[str]
    unique_id: Optional[str]
    country: Optional[str]
    organisation: Optional[str]
    language_code: Optional[str]
    custom: Dict[str, str]
    """The host's own profile fields (``ParseOptions.fields``), by name. In changes, a
    field present is overwritten and ``""`` clears it."""


_ProfileFieldBase = TypedDict("_ProfileFieldBase", {"name": str})


class ProfileField(_ProfileFieldBase, total=False):
    """A profile field the host declares (``parse(fields=[...])``): its column is read and
    validated like the built-in ones and its value reaches the store in the profile's
    ``custom``. A bad declaration fails ``parse`` with ``SettingsError`` (``invalid_option``)."""

    aliases: List[str]
    """Other headers accepted for it (matched forgivingly: ``Dept``, ``Start Date``)."""
    kind: FieldKind
    """``text`` (the default), ``one_of`` (with ``values``), ``date`` (``YYYY-MM-DD``) or
    ``number``."""
    values: List[str]
    """For ``one_of``: the values, matched ignoring case and stored as declared."""
    required: bool
    """A file without the column is refused; a row without a value is rejected."""
    max_length: int
    """Longest value in characters (absent: ``max_value_chars``)."""


class ParseOptions(TypedDict, total=False):
    """The keyword arguments of ``parse``, decoded by the core (an unknown one, or a value
    out of range, is a ``SettingsError`` with ``invalid_option``): ``parse(data, **options)``."""

    delimiter: str
    group_separator: str
    max_file_bytes: int
    max_rows: int
    max_field_bytes: int
    max_columns: int
    max_value_chars: int
    max_issues_per_row: int
    max_issues: int
    clear_token: str
    """The cell value that clears an existing user's optional field (default ``#clear``;
    ``""`` turns clearing off)."""
    fields: List[ProfileField]
    """The host's own profile fields (at most 16; names lowercase identifiers, not built-in
    columns)."""
    login_methods: List[str]
    """The host's login methods besides the built-in ``password`` (``["saml"]``): the values
    the ``auth`` column and the ``default_login_method`` setting may name."""
    sheet: str
    """For a spreadsheet (``.xlsx``, ``.xls``, ``.ods``, recognised by content), the sheet to
    read by name (default: the first)."""
    encoding: str
    """The file's encoding when it is known (``windows-1250``, ``shift_jis``...); by default
    a byte order mark decides, else UTF-8, else the detected legacy code page."""
    column_assignments: Mapping[int, Optional[str]]
    """Columns matched by hand: a header cell's 0-based position to the name of a column or
    declared profile field (any of its names or aliases), or to ``None`` for a column
    ignored (``{1: "last name", 3: None}``). A position past the header, or a name that is
    no column or declared field, is a ``SettingsError`` (``invalid_option``)."""


_Identified = TypedDict("_Identified", {"id": Union[str, int], "email": str})


class ExistingUser(_Identified, Profile, total=False):
    """A user as ``Store.find_users`` (and ``Store.scope_users``) returns it: the profile
    under ``profile`` or its fields at the top level (``custom`` with them);
    ``groups``, ``enrolments``, ``protected``, ``suspended`` (deactivated: missing from a
    file, or by an undo), ``suspended_by_upload`` (the engine's ``suspend_user`` suspended
    them, as the host recorded: only such users may be reactivated by an upload, with
    ``reactivate_suspended_users``; default False) and ``login_method`` (absent or None:
    password) may be left out."""

    profile: Profile
    groups: List[str]
    enrolments: List[ContentRef]
    protected: bool
    suspended: bool
    suspended_by_upload: bool
    login_method: Optional[str]


_ScopePageBase = TypedDict("_ScopePageBase", {"users": Sequence[ExistingUser]})


class ScopePage(_ScopePageBase, total=False):
    """What the optional ``Store.scope_users(after, limit)`` returns: a page of the users
    within the uploader's reach and the cursor of the next page (absent or None on the
    last one)."""

    next: Optional[Union[str, int]]


class NewUser(TypedDict):
    """What ``Store.create_user`` receives. ``password_hash`` is an argon2id PHC string, or
    None for a user who signs in another way (``login_method`` is then one of the host's
    ``login_methods``, such as ``"saml"``; it is ``"password"`` otherwise)."""

    email: str
    profile: Profile
    password_hash: Optional[str]
    force_password_reset: bool
    login_method: str


class MessageFields(TypedDict, total=False):
    """The values a message was rendered from. ``password`` only when it carries one;
    ``invitation_url`` (the user's personal sign-in link: a secret) only when it carries one."""

    first_name: str
    last_name: str
    login: str
    site_url: str
    password: str
    invitation_url: str
    results_url: str
    counts: Dict[str, int]


class Message(TypedDict):
    """One email as ``Mailer.send`` receives it (and ``RecordingMailer.messages`` keeps it)."""

    kind: MessageKind
    to: str
    subject: str
    text: str
    html: str
    fields: MessageFields


class EmailTemplate(TypedDict):
    """A replacement email template for ``Plan.execute(templates=...)``."""

    subject: str
    text: str
    html: str


_ResultErrorBase = TypedDict("_ResultErrorBase", {"code": str, "message": str})


class ResultErrorDict(_ResultErrorBase, total=False):
    """Why a row was rejected or failed: a stable code and a message (``more``: a rejected
    row's further errors)."""

    more: List["ResultErrorDict"]


class ResultRowDict(TypedDict):
    """A finished row as in the results JSON (``ResultRow.to_dict()``, what a journal
    stores). ``done`` holds the operations performed, each tagged by ``op``
    (``{"op": "create_user"}``, ``{"op": "add_to_group", "group": "Sales"}``...)."""

    line: int
    email: str
    status: Status
    user_id: Optional[str]
    done: List[Dict[str, Any]]
    error: Optional[ResultErrorDict]


# The values the engine returns (shaped like the core's serde forms).
IssueDict = TypedDict(
    "IssueDict", {"code": str, "severity": Severity, "line": Optional[int], "column": Optional[str], "message": str}
)
_PlanSummaryBase = TypedDict("_PlanSummaryBase", {
    "rows": int, "rejected": int, "create": int, "update": int, "unchanged": int, "profile_updates": int,
    "passwords": int, "group_additions": int, "group_removals": int, "enrolments": int, "emails": int, "warnings": int,
})


class PlanSummary(_PlanSummaryBase):
    """The counts of a plan, every one present (0 included; the plan's JSON leaves the
    counts below out when they are 0)."""

    suspensions: int
    """Users to suspend: users missing from the file (``suspend_missing_users``), or the
    users an undone upload created."""
    deletions: int
    withdrawals: int
    reactivations: int
    """Suspended users in the file to reactivate."""
    login_method_changes: int
    """Existing users whose login method changes."""
    invitations: int
    """Sign-in links to issue (``send_invitations``)."""
    revocations: int
    """Undo: users whose sign-in links from the undone upload are revoked."""


class UndoOptions(TypedDict, total=False):
    """The options of ``plan_undo``, decoded by the core (an unknown key is a
    ``SettingsError`` with ``invalid_option``; a bad ``uploader_email`` or ``results_url``
    is ``invalid_setting``)."""

    delete_created_users: bool
    """Delete the users the upload created instead of suspending them (a user the store
    keeps is suspended). Default: False."""
    uploader_email: Optional[str]
    """Who gets the confirmation with the counts (None: no one)."""
    results_url: str
    """The link to the undo's results in the confirmation."""
    results_from_trusted_storage: bool
    """The host's trust decision: results that are not ``verified`` (read with
    ``Results.from_json``) come from storage only the host can write. Default False: such
    results are refused (``PlanError`` with ``results_unsigned``). Even then, the undo
    grants nothing (no group added back, no reactivation) and suspends or deletes no one."""
    fields: List[ProfileField]
    """The upload's declared profile fields (as in its parse options): undo writes back only
    these custom fields, with values they accept."""
    login_methods: List[str]
    """The upload's declared login methods: undo sets back only ``password`` or these."""
    undone_creations: List[str]
    """Ids of users created by uploads undone since: never reactivated."""

_ResultSummaryBase = TypedDict("_ResultSummaryBase", {
    "rows": int, "created": int, "updated": int, "unchanged": int, "rejected": int, "failed": int,
    "emails_sent": int, "resumed": int,
})


class ResultSummary(_ResultSummaryBase):
    """The counts of an execution, every one present (0 included; the results' JSON leaves
    the counts below out when they are 0)."""

    suspended: int
    """Users suspended (missing from the file, or by an undo)."""
    deleted: int
    """Users an undo deleted."""
    reactivated: int
    """Suspended users reactivated."""
    login_methods_changed: int
    """Users whose login method changed."""
PasswordPolicy = TypedDict("PasswordPolicy", {"min_length": int, "generated_length": int}, total=False)


class ShardRef(TypedDict):
    """Which shard of which plan: the parent's fingerprint, the index (from 0), the count."""

    parent: str
    index: int
    count: int


class HashParams(TypedDict, total=False):
    """argon2id cost; the defaults are OWASP's (19 MiB, 2 iterations, 1 lane). Weaker ones
    are refused (``weak_hash_params``) unless ``insecure_for_tests`` is true."""

    memory_kib: int
    iterations: int
    parallelism: int
    insecure_for_tests: bool


class StoreUserState(Profile, total=False):
    id: Optional[str]
    email: str
    groups: List[str]
    enrolments: List[ContentRef]
    protected: bool
    suspended: bool
    suspended_by_upload: bool
    login_method: str
    has_password: bool
    force_password_reset: bool


class StoreState(TypedDict, total=False):
    """A whole ``MemoryStore`` as data (the scenarios' ``store``). ``lacks``: the optional
    store methods the store pretends not to have (absent: it has them all)."""

    groups: List[Group]
    content: List[ContentRef]
    users: List[StoreUserState]
    lacks: List[OptionalMethod]


class Store(Protocol):
    """The host's user database. Raise an exception to report a failure (the row fails
    with its message); give it ``transient = True`` to have the engine retry.

    Optional methods, used when present: ``all_group_names() -> list[str]`` (spelling
    suggestions) and ``checkpoint() -> None`` (commit; called after every batch of rows).

    Optional methods for undo (``plan_undo``): ``suspend_user(user_id) -> None``
    (deactivate; a no-op if already suspended), ``delete_user(user_id) -> bool`` (True if
    deleted; False if the host keeps the user, which is then suspended) and
    ``withdraw(user_id, content) -> None`` (a no-op if not enrolled). An undo that needs one
    the store lacks is refused when planned: ``StoreError`` with ``undo_unsupported``.

    Optional methods for an upload:

    - ``scope_users(after: Optional[str], limit: int) -> ScopePage``: the users within the
      uploader's reach, a page at a time (at most ``limit`` after the cursor ``after``; None:
      the first page), in a stable order, with the ``next`` cursor (None on the last page).
      With the setting ``suspend_missing_users``, the users it lists that the file does not
      name are suspended with ``suspend_user`` (never protected or already suspended ones);
      a store without both is refused when planned: ``StoreError`` with
      ``host_method_missing``.
    - ``reactivate_user(user_id) -> None``: a suspended user in the file, when profiles are
      updated.
    - ``set_login_method(user_id, method: str) -> None``: an existing user whose ``auth``
      value (``login_methods``) differs, when profiles are updated.

    Optional methods for sign-in links (the setting ``send_invitations``; an upload that
    sends them on a store without the first three is refused when planned, an undo of it
    without the fourth): ``add_invitation({user, digest, expires_at, upload}) -> None``
    (keep the SHA-256 ``digest`` of the link's token — never the token — with the
    ``expires_at`` Unix time, and drop the user's unused links of other uploads),
    ``find_invitation(digest) -> Optional[{user, digest, expires_at, used}]``,
    ``redeem_invitation(digest) -> bool`` (atomically: mark it used and drop the user's
    other links; False if it was used or unknown) and ``revoke_invitations(user_id,
    upload) -> None`` (undo: drop the unused links that upload issued to the user).

    ``create_user`` receives ``password_hash`` None and the ``login_method`` for a user who
    signs in another way (SSO); ``find_users`` may give each user's ``login_method``.
    Custom profile fields travel in the profile's ``custom`` dict.
    """

    def find_users(self, emails: List[str]) -> Sequence[ExistingUser]:
        """The users whose email matches one of ``emails``, case-insensitively."""

    def find_groups(self, names: List[str]) -> Sequence[Group]:
        """The groups, among ``names``, that exist (case-sensitive)."""

    def find_content(self, refs: List[ContentRef]) -> Sequence[ContentRef]:
        """The content items, among ``refs``, that exist."""

    def create_user(self, user: NewUser) -> Union[str, int]:
        """Creates the user (with no password when ``user["password_hash"]`` is None) and
        returns its id."""

    def update_profile(self, user_id: str, changes: Profile) -> Any:
        """Overwrites the fields present in ``changes``."""

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> Any:
        """Sets the argon2id hash and the force-reset flag."""

    def add_to_group(self, user_id: str, group: Group) -> Any:
        """Adds the user to the group (no-op if already a member)."""

    def remove_from_group(self, user_id: str, group: Group) -> Any:
        """Removes the user from the group (no-op if not a member)."""

    def enrol(self, user_id: str, content: ContentRef) -> Any:
        """Enrols the user (no-op if already enrolled)."""


class Mailer(Protocol):
    """The host's email sending. An optional ``flush()`` hands over queued messages; the
    engine calls it after every batch of rows, before the store's ``checkpoint()``."""

    def send(self, message: Message) -> Any:
        """Sends (or queues) one message; raise to report a failure."""


class Journal(Protocol):
    """Where execution records progress so that a later run can resume."""

    def load(self, fingerprint: str) -> Optional[Mapping[int, Union[None, str, ResultRowDict]]]:
        """Every entry of the plan: line → None (begun), the id ``created`` recorded for the
        row's new user, or the finished row."""

    def begin(self, fingerprint: str, line: int) -> Any:
        """The row is about to be written."""

    def finish(self, fingerprint: str, row: ResultRowDict) -> Any:
        """The row is finished."""

    # Optional (not part of the protocol class, so that journals without it still match):
    # ``created(fingerprint, line, user_id)`` records the id ``create_user`` returned; without
    # it a resumed run never adopts a user it finds (``user_exists_now``).

