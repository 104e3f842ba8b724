"""docs/decrees.md lists every fact of the catalogue, as generated from it."""

from __future__ import annotations

from pathlib import Path

from amnesty.decree.facts import catalogue
from amnesty.decree.reference import BEGIN, END, fact_tables
from amnesty.registry.profiles import get_profile, profile_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "decrees.md"


def test_the_fact_tables_are_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == fact_tables(), "regenerate with amnesty.decree.reference.fact_tables"


def test_every_fact_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in profile_names():
        for fact in catalogue(get_profile(name)):
            assert f"`{fact}`" in text, fact
