"""docs/registry.md is generated from the schema: a schema change needs a doc change."""

from __future__ import annotations

from pathlib import Path

from amnesty.registry.docs import render_markdown
from amnesty.registry.profiles import get_profile

DOC = Path(__file__).resolve().parents[2] / "docs" / "registry.md"


def test_committed_doc_matches_the_schema() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/registry.md is stale: run python -m amnesty.registry.docs > docs/registry.md"
    )


def test_doc_covers_every_column_vocabulary_and_the_hash() -> None:
    text = render_markdown()
    for profile in ("core", "kp-2015", "ru-2015"):
        for table in get_profile(profile).tables():
            assert f"### {table.name}" in text
            for column in table.columns:
                assert f"| `{column.name}` |" in text
    assert "`political_prison_camp`" in text
    assert "in key order (the UTF-8 byte order of\n   the table's key)" in text
    assert "offence code 'X' was repealed on D, before the offence date" in text


def test_doc_states_the_derived_snapshot_contract() -> None:
    text = render_markdown()
    assert "## Derived snapshots: rows amnesty adds" in text
    assert "def advance_snapshot(" in text and "    *,\n    table: str," in text
    assert "amnesty-registry-derived-v1" in text
    assert "--keep-amnesty-events" in text and "--discard-amnesty-events" in text
