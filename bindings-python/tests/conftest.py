"""Shared fixtures: paths and cheap argon2 parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHEAP_HASH = {"memory_kib": 64, "iterations": 1, "parallelism": 1}


@pytest.fixture
def cheap_hash() -> dict[str, int]:
    return dict(CHEAP_HASH)
