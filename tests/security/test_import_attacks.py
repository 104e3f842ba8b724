"""Bad rows in a registry extract must never make anyone more eligible, nor two persons of one.

``--skip-invalid`` imports the valid rows of an extract. Before #9 it dropped a
disqualifying conviction whose date was mistyped and kept its person, who then
came out eligible; and ids differing only by case, a trailing space or a
look-alike Unicode spelling imported as different persons.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg
import pytest
from registry_extract import D, registry, write

from amnesty.decree import load_text
from amnesty.engine import evaluate
from amnesty.errors import ImportRejected
from amnesty.registry.importer import import_registry
from amnesty.store.db import resolve_db
from amnesty.store.engine import get_engine

DECREE = """\
id = "test-exclusion"
title = "Amnesty for thieves, never for political offenders"
jurisdiction = "kp-2015"
occasion = "test"
authority = "Presidium"
signed = 2011-01-01
as_of = 2011-01-01

[[clause]]
id = "g-theft"
kind = "grant"
relief = "release"
text = "Persons convicted of theft shall be released."
source = "test"
predicate = 'any convictions (category = "theft")'

[[clause]]
id = "x-political"
kind = "exclude"
text = "No one convicted of a political crime shall be released."
source = "test"
predicate = 'any convictions (category = "political")'
"""


def _with_mistyped_political_conviction() -> dict[str, list[dict[str, Any]]]:
    """P001 (a thief, under sentence on 2011-01-01) also holds a political conviction,
    whose offence date was mistyped in the extract (row 5 of convictions)."""
    data = registry()
    data["offences"].append(
        {
            "offence_code": "POL1",
            "title": "반국가",
            "title_romanised": "Anti-state crime",
            "category": "political",
            "gravity": None,
            "intent": None,
            "valid_from": D(1990, 1, 1),
            "valid_to": None,
        }
    )
    data["convictions"].append(
        {
            "conviction_id": "C005",
            "person_id": "P001",
            "offence_code": "POL1",
            "offence_date": "2009-02-30",
            "sentence_kind": "term",
            "term_months": 120,
            "start_date": D(2010, 6, 1),
            "aggregate_id": None,
        }
    )
    return data


def _outcomes(url: str) -> dict[str, str]:
    decree = load_text(DECREE, path="test-exclusion.toml")
    db = resolve_db(url)
    if db.is_duckdb:
        import duckdb

        with duckdb.connect(db.target, read_only=True) as conn:
            result = evaluate(decree, conn, as_of=dt.date(2011, 1, 1))
    else:
        with psycopg.connect(db.target) as conn:
            result = evaluate(decree, conn, as_of=dt.date(2011, 1, 1))
    rows = result.determinations.to_pylist()
    return {r["person_id"]: r["outcome"] for r in rows}


def test_a_dropped_disqualifying_conviction_never_frees_its_person(
    backend_url: str, tmp_path: Path
) -> None:
    source = write(_with_mistyped_political_conviction(), tmp_path / "extract")
    with pytest.raises(ImportRejected):
        import_registry(backend_url, source)
    report = import_registry(backend_url, source, skip_invalid=True)
    withheld = [r for r in report.rejections if r.table == "persons"]
    assert [(r.row, r.column, r.value) for r in withheld] == [(1, "person_id", "P001")]
    assert withheld[0].rule.startswith(
        "incomplete_person: convictions row 5 of this person was rejected (type: expected a date"
    )
    # P001 is kept out of the registry, so out of every run: never decided eligible.
    assert "P001" not in _outcomes(backend_url)
    with get_engine(backend_url).connect() as conn:
        import sqlalchemy as sa

        kept = conn.execute(sa.text("SELECT count(*) FROM convictions WHERE person_id = 'P001'"))
        assert kept.scalar_one() == 0


def _import_refused(tmp_path: Path, data: dict[str, list[dict[str, Any]]]) -> list[str]:
    source = write(data, tmp_path / "extract")
    with pytest.raises(ImportRejected) as refused:
        import_registry(str(tmp_path / "r.duckdb"), source)
    return [str(r) for r in refused.value.rejections]


def _second_person(data: dict[str, list[dict[str, Any]]], person_id: str) -> None:
    twin = dict(data["persons"][0], person_id=person_id)
    data["persons"].append(twin)


@pytest.mark.parametrize(
    ("spelling", "form"),
    [
        ("p001", None),
        ("P001 ", "has a leading or trailing space"),
        ("Ｐ００１", "is not in Unicode NFKC form (write it 'P001')"),
    ],
)
def test_one_person_spelt_twice_is_refused_with_positions(
    tmp_path: Path, spelling: str, form: str | None
) -> None:
    data = registry()
    _second_person(data, spelling)
    problems = _import_refused(tmp_path, data)
    collision = "(ids differ only by case, space or Unicode form)"
    assert any(p.startswith("persons row 1 column person_id") and collision in p for p in problems)
    assert any(p.startswith("persons row 5 column person_id") and collision in p for p in problems)
    if form is not None:
        assert any(
            p.startswith("persons row 5 column person_id")
            and "id_form: person_id " in p
            and form in p
            for p in problems
        )


def test_invisible_characters_in_an_id_are_refused(tmp_path: Path) -> None:
    data = registry()
    data["persons"][2]["person_id"] = "P\u202e003"  # right-to-left override
    data["events"][2]["person_id"] = "P\u202e003"
    problems = _import_refused(tmp_path, data)
    assert any(
        p.startswith("persons row 3 column person_id")
        and "contains the invisible or control character U+202E" in p
        for p in problems
    )


def test_skip_invalid_keeps_neither_spelling_of_a_person(tmp_path: Path) -> None:
    data = registry()
    _second_person(data, "p001")
    data["convictions"].append(dict(data["convictions"][0], conviction_id="C009", person_id="p001"))
    report = import_registry(
        str(tmp_path / "s.duckdb"), write(data, tmp_path / "extract"), skip_invalid=True
    )
    assert report.row_counts["persons"] == 3
    rejected_persons = {r.value for r in report.rejections if r.table == "persons"}
    assert rejected_persons == {"P001", "p001"}


def test_a_rejected_row_under_a_look_alike_id_still_withholds_its_person(tmp_path: Path) -> None:
    data = registry()
    data["convictions"][1]["person_id"] = "P001 "  # P001's second conviction, id mistyped
    report = import_registry(
        str(tmp_path / "s.duckdb"), write(data, tmp_path / "extract"), skip_invalid=True
    )
    withheld = [r for r in report.rejections if r.table == "persons"]
    assert [(r.row, r.value) for r in withheld] == [(1, "P001")]
    assert withheld[0].rule.startswith("incomplete_person: convictions row 2 of this person")
