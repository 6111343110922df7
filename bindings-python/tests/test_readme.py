"""The Python snippets of the READMEs are executed (README.md at the root and
bindings-python/README.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

READMES = [ROOT / "README.md", ROOT / "bindings-python" / "README.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    found = []
    for readme in READMES:
        for i, code in enumerate(BLOCK.findall(readme.read_text(encoding="utf-8"))):
            found.append((f"{readme.relative_to(ROOT)}#{i}", code))
    return found


def test_each_readme_has_a_python_snippet() -> None:
    names = {name.split("#")[0] for name, _ in blocks()}
    assert names == {str(r.relative_to(ROOT)) for r in READMES}


@pytest.mark.parametrize(("name", "code"), blocks(), ids=[n for n, _ in blocks()])
def test_snippet(name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, name, "exec"), {"__name__": "__readme__"})
