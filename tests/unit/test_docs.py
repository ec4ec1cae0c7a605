"""The README's settings tables are generated from the code: they must not drift."""

from __future__ import annotations

from ops import docs


def test_readme_tables_match_the_code() -> None:
    current = docs.README.read_text(encoding="utf-8")
    assert docs.render(current) == current, "README.md is stale: run python -m ops.docs"


def test_every_generated_block_is_present() -> None:
    current = docs.README.read_text(encoding="utf-8")
    for name in docs.SECTIONS:
        assert f"<!-- BEGIN GENERATED: {name} -->" in current
