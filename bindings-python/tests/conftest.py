"""Shared fixtures: paths and cheap argon2 parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

import lms_bulk_upload as lbu

ROOT = Path(__file__).resolve().parents[2]
CHEAP_HASH: lbu.HashParams = {"memory_kib": 64, "iterations": 1, "parallelism": 1, "insecure_for_tests": True}


@pytest.fixture
def cheap_hash() -> lbu.HashParams:
    return CHEAP_HASH.copy()
