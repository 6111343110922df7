"""Shared fixtures: paths and cheap argon2 parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

import lms_bulk_upload as lbu

ROOT = Path(__file__).resolve().parents[2]
CHEAP_HASH: lbu.HashParams = {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}


@pytest.fixture
def cheap_hash() -> lbu.HashParams:
    return CHEAP_HASH.copy()


# The exception classes and the kind of core error each stands for.
KIND = {lbu.FileError: "file", lbu.SettingsError: "settings", lbu.PlanError: "plan", lbu.StoreError: "store",
        lbu.MailerError: "mailer"}


def error_outcome(e: lbu.BulkUploadError) -> Dict[str, Any]:
    """An engine error as a vector's outcome gives it."""
    kind = next(k for cls, k in KIND.items() if isinstance(e, cls))
    return {"code": e.code, "kind": kind, "message": e.message, "line": e.line, "column": e.column}
