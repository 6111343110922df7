"""The exception classes: one base, one subclass per part of the flow, each with the core's
code (see :func:`lms_bulk_upload.issue_codes`)."""

from __future__ import annotations

from typing import Optional


class BulkUploadError(Exception):
    """Base of every error the engine raises: ``code`` is the core's stable snake_case code,
    ``kind`` the part of the flow (``file``, ``settings``, ``plan``, ``store``, ``mailer``:
    one subclass each), ``message`` the text for people, ``line`` and ``column`` say where
    (file errors that have a place), ``transient`` whether trying again may succeed.
    ``str(error)`` is ``line 3: emailaddress: message [code]`` (the place when there is one),
    as in every language. A host's exception that caused it is its ``__cause__``."""

    kind: str = "error"

    def __init__(self, message: str, code: str, line: Optional[int] = None, column: Optional[str] = None,
                 transient: bool = False, kind: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = line
        self.column = column
        self.transient = transient
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        line = f"line {self.line}: " if self.line is not None else ""
        column = f"{self.column}: " if self.column is not None else ""
        return f"{line}{column}{self.message} [{self.code}]"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.code, self.line, self.column, self.transient, self.kind))


class FileError(BulkUploadError):
    """The file cannot be used at all (``parse``): empty, not CSV, a required column missing,
    a limit passed."""

    kind = "file"


class SettingsError(BulkUploadError):
    """The settings or options are invalid, contradictory or incomplete, or name groups or
    content that do not exist."""

    kind = "settings"


class PlanError(BulkUploadError):
    """A plan cannot be read, was altered after planning, or cannot be executed as given."""

    kind = "plan"


class StoreError(BulkUploadError):
    """The host's store failed outside a row (while planning, or committing), lacks a
    method, or answered with a value of the wrong shape."""

    kind = "store"


class MailerError(BulkUploadError):
    """The host's mailer failed outside a row, or lacks a method."""

    kind = "mailer"


class InvitationError(BulkUploadError):
    """A sign-in link does not work: ``invitation_unknown`` (never issued, replaced by a
    newer one, or revoked by an undo), ``invitation_used`` or ``invitation_expired``."""

    kind = "invitation"


class TransientError(Exception):
    """Raise it (or any exception with ``transient = True``) from a host store or mailer
    method to say that trying again may succeed; the engine retries a bounded number of
    times."""

    transient = True
