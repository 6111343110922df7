"""lms_bulk_upload — the engine behind an LMS's "bulk upload users from a CSV" screen.

``parse`` → ``Upload`` (rows + issues) → ``Settings`` → ``plan`` (reads the store, writes
nothing) → ``Plan`` (deterministic, JSON, fingerprint) → ``Plan.execute`` (writes the
store, sends mail) → ``Results``. ``plan_undo(results, store)`` → the ``Plan`` that undoes
that upload (executed like any other).

The work is done by the Rust core; this package converts types. A host's own store,
mailer and journal are plain objects with the methods of the :class:`Store`,
:class:`Mailer` and :class:`Journal` protocols.
"""

from __future__ import annotations

from collections.abc import Sequence as _Sequence

from ._errors import (
    BulkUploadError, FileError, InvitationError, MailerError, PlanError, SettingsError, StoreError, TransientError,
)
from ._native import (
    PLAN_FORMAT_VERSION, CancelToken, CodeInfo, Issue, MemoryJournal, MemoryStore, Plan, PlanKey, PlanRow, PlanRows, Progress,
    RecordingMailer, ResultRow, Results, Row, Settings, Upload, UploadRows, __version__, email_key, issue_codes, parse,
    plan, plan_undo, redeem_invitation, sheet_names, verify_invitation, verify_password,
)
from ._types import (
    ContentRef, EmailTemplate, ExistingUser, Group, HashParams, Journal, Mailer, Message, NewUser,
    ParseOptions, PlanSummary, Profile, ProfileField, ResultErrorDict, ResultRowDict, ResultSummary, ScopePage,
    ShardRef, Store, StoreState, UndoOptions,
)

# The lazy row views behave as read-only sequences.
_Sequence.register(UploadRows)
_Sequence.register(PlanRows)

__all__ = [
    "PLAN_FORMAT_VERSION", "PlanKey", "BulkUploadError", "CancelToken", "CodeInfo", "ContentRef", "EmailTemplate",
    "ExistingUser", "FileError", "Group", "InvitationError", "HashParams", "Issue", "Journal", "Mailer", "MailerError",
    "MemoryJournal", "MemoryStore", "Message", "NewUser", "ParseOptions", "Plan", "PlanError", "PlanRow", "PlanRows",
    "PlanSummary", "Profile", "ProfileField", "Progress", "RecordingMailer", "ResultErrorDict", "ResultRow", "ResultRowDict", "ResultSummary",
    "Results", "Row", "ScopePage", "Settings", "ShardRef", "SettingsError", "Store", "StoreError", "StoreState", "TransientError",
    "UndoOptions", "Upload", "UploadRows", "__version__", "email_key", "issue_codes", "parse", "plan", "plan_undo",
    "redeem_invitation", "sheet_names", "verify_invitation", "verify_password",
]
