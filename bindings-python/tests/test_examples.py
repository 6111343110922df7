"""Every example in examples/python/ runs to completion (each checks its own results)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLES = sorted((ROOT / "examples" / "python").glob("*.py"))


def test_there_are_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example(example: Path) -> None:
    done = subprocess.run([sys.executable, example.name], cwd=example.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
