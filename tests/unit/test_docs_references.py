"""Every document the code points at is in this repository.

- No source or doc file names a document that lives outside the repository (the team's notes).
- Every "§N" / "§N.M" cited anywhere is a section heading of docs/protocol.md.
- Every "decision N" cited is one of the numbered decisions of docs/protocol.md.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROTOCOL_DOC = REPO / "docs" / "protocol.md"

SUFFIXES = frozenset({".py", ".md", ".sh", ".pbtxt", ".toml", ".yml", ".yaml", ".txt"})
SKIPPED_DIRS = frozenset({".git", ".venv", ".yap", "__pycache__", "node_modules"})

# Spelled in pieces so that this file does not match itself.
_NOTES = ("PROTOCOL", "PLATFORM", "SCREEN_INTENT", "ARCHITECTURE", "STYLE")
OUTSIDE_DOCUMENTS = (*(name + ".md" for name in _NOTES), "../" + "shared", "/work/" + "shared")

CITATION = re.compile(r"§\s?(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
DECISION_CITATION = re.compile(r"\bdecision (\d+)\b", re.IGNORECASE)
DECISIONS_SECTION = re.compile(r"^## Decisions of this project\n(.*?)(?=^## )", re.MULTILINE | re.S)
DECISION_ITEM = re.compile(r"^(\d+)\. ", re.MULTILINE)


def _wanted(path: Path) -> bool:
    return path.suffix in SUFFIXES or path.name.startswith("Dockerfile")


@cache
def source_files() -> tuple[Path, ...]:
    """Tracked files plus new files git does not ignore; a plain walk where git is missing."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout.decode("utf-8", errors="replace")
        candidates = [REPO / name for name in listed.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        candidates = []
        for folder, dirs, files in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            candidates.extend(Path(folder) / name for name in files)
    return tuple(sorted(p for p in set(candidates) if _wanted(p) and p.is_file()))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _where(path: Path, number: int) -> str:
    return f"{path.relative_to(REPO)}:{number}"


def test_the_scan_sees_the_code() -> None:
    names = {p.relative_to(REPO).as_posix() for p in source_files()}
    assert "bridge/protocol/errors.py" in names
    assert "docs/protocol.md" in names


def test_no_reference_to_documents_outside_the_repository() -> None:
    found = [
        f"{_where(path, number)}: {name}"
        for path in source_files()
        for number, line in enumerate(_lines(path), start=1)
        for name in OUTSIDE_DOCUMENTS
        if name in line
    ]
    assert not found, "documents outside the repository are referenced:\n" + "\n".join(found)


def protocol_sections() -> set[str]:
    return set(HEADING.findall(PROTOCOL_DOC.read_text(encoding="utf-8")))


def test_protocol_doc_keeps_the_reference_numbering() -> None:
    sections = protocol_sections()
    missing = [str(n) for n in range(19) if str(n) not in sections]
    assert not missing, f"docs/protocol.md lacks the top-level sections {missing}"


def test_every_cited_section_exists_in_the_protocol_doc() -> None:
    sections = protocol_sections()
    dangling = [
        f"{_where(path, number)}: §{cited}"
        for path in source_files()
        for number, line in enumerate(_lines(path), start=1)
        for cited in CITATION.findall(line)
        if cited not in sections
    ]
    assert not dangling, "citations without a section in docs/protocol.md:\n" + "\n".join(dangling)


def test_every_cited_decision_exists_in_the_protocol_doc() -> None:
    block = DECISIONS_SECTION.search(PROTOCOL_DOC.read_text(encoding="utf-8"))
    assert block is not None, "docs/protocol.md has no 'Decisions of this project' section"
    decisions = set(DECISION_ITEM.findall(block.group(1)))
    dangling = [
        f"{_where(path, number)}: decision {cited}"
        for path in source_files()
        for number, line in enumerate(_lines(path), start=1)
        for cited in DECISION_CITATION.findall(line)
        if cited not in decisions
    ]
    assert not dangling, "decisions not listed in docs/protocol.md:\n" + "\n".join(dangling)
