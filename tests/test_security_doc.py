"""docs/security.md names, for each threat, the test that proves its control: every `tests/….py::test_name` it
names (a bare `::test_name` continues the file named before it in the same table cell or paragraph) must exist,
so a renamed or deleted test cannot leave the page pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(\w+)`|`(tests/[\w/]+\.py)`")


def references(text: str) -> list[tuple[str, str | None]]:
    """(file, test or None) for every reference, resolving `::name` against the last file of its cell."""
    found: list[tuple[str, str | None]] = []
    for block in re.split(r"\n\s*\n|\|", text):  # table cells and paragraphs
        current = None
        for match in REFERENCE.finditer(block):
            path, name, bare = match.groups()
            if bare:
                current = bare
                found.append((bare, None))
                continue
            current = path or current
            assert current is not None, f"`::{name}` without a file before it"
            found.append((current, name))
    return found


def test_the_reference_parser():
    text = "| `tests/a.py::test_x`, `::test_y`; `tests/b.py::test_z` | `tests/c.py` |"
    assert references(text) == [
        ("tests/a.py", "test_x"),
        ("tests/a.py", "test_y"),
        ("tests/b.py", "test_z"),
        ("tests/c.py", None),
    ]
    with pytest.raises(AssertionError, match="without a file"):  # a new cell starts without a file
        references("| `tests/a.py::test_x` | `::test_y` |")


def test_every_test_named_in_security_md_exists():
    found = references(DOC.read_text(encoding="utf-8"))
    assert len(found) > 60
    missing = []
    for path, name in found:
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, missing
