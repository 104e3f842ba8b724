"""The decree language of #10, item 3 (second part): fractions of a term in calendar
months, `applied_by` with `[bodies]`, and refers reaching persons with no ground. Each
decree below is decided by the interpreter and by the compiled engine on DuckDB,
PostgreSQL and Spark, which must all give the hand-computed answers.

Regression: with a 6-year term from 2015-01-01 (2192 days, two leap days), two thirds is
2019-01-01 in calendar months but 2019-01-02 in exact days (1461 1/3 days, rounded up),
so on 2019-01-01 the two readings differ by a day (docs/decrees.md, worked example).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from amnesty.backends.spark import SparkBackend
from amnesty.compile.interpreter import interpret
from amnesty.decree import load_text
from amnesty.decree.model import Decree
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile
from engine.helpers import BASE_PLACES, admission, arrow_tables, load, person
from engine.pg import load_pg

KP = get_profile("kp-2015")


def _grant(cid: str, predicate: str, relief: str = "release", extra: str = "") -> str:
    return f"""
[[clause]]
id = "{cid}"
kind = "grant"
relief = "{relief}"
predicate = '{predicate}'
text = "{cid}"
source = "test"
{extra}
"""


CALENDAR = (
    """
id = "calendar-fractions"
title = "Fractions in calendar months"
jurisdiction = "kp-2015"
as_of = 2019-01-01
"""
    + _grant("days", "any convictions (start + 2/3 of term <= as_of)")
    + _grant("months", "any convictions (start + 2/3 in months of term <= as_of)")
    + _grant("served", "any convictions (served >= 2/3 in months of term)")
    + _grant("half7", "sentence.served >= 1/2 in months of 7 months")
    + _grant("left", "any convictions (remaining <= 1/3 in months of term)")
)

# person -> (start, term in months or None for life) and the grants that hold on
# 2019-01-01, worked by hand. `half7` (time served since the sentence's start reaches
# 3 months 15 days) holds for everyone but HALF7-SHORT; `left` is "what remains is at
# most a third of the term in months" (the as-of date moved by it reaches the end).
CALENDAR_CASES: dict[str, tuple[dt.date, int | None, list[str]]] = {
    # 72 months * 2/3 = 48 months: 2019-01-01; exact: 2192 * 2/3 -> 1462 days: 2019-01-02.
    # A third of 72 months is 24: 2019-01-01 + 24 months = 2021-01-01, the end itself.
    "SIX-YEARS": (dt.date(2015, 1, 1), 72, ["months", "served", "half7", "left"]),
    # one day earlier, both readings reach it (1462 days from 2014-12-31 is 2019-01-01).
    "SIX-YEARS-EARLIER": (
        dt.date(2014, 12, 31),
        72,
        ["days", "months", "served", "half7", "left"],
    ),
    # 7 months * 2/3 = 4 months 20 days: 2018-07-12 + 4 months = 2018-11-12, + 20 days =
    # 2018-12-02; exact: 215 days * 2/3 -> 144 days: 2018-12-03. Both hold. A third of 7
    # months is 2 months 10 days: 2019-01-01 -> 2019-03-11, past the end 2019-02-12.
    "SEVEN-MONTHS": (dt.date(2018, 7, 12), 7, ["days", "months", "served", "half7", "left"]),
    # 2018-08-13 + 4 months 20 days = 2019-01-02; exact 212 * 2/3 -> 142 days: 2019-01-02.
    # 2019-03-11 falls short of the end 2019-03-13.
    "SEVEN-LATER": (dt.date(2018, 8, 13), 7, ["half7"]),
    # half of 7 months is 3 months 15 days: 2018-09-17 + 3 months = 2018-12-17, + 15 days
    # = 2019-01-01; the next day's start misses it by one day.
    "HALF7-ON": (dt.date(2018, 9, 17), 120, ["half7"]),
    "HALF7-SHORT": (dt.date(2018, 9, 18), 120, []),
}


BODIES = (
    """
id = "bodies-and-exceptions"
title = "Applied by bodies; a refer reaching persons with no ground"
jurisdiction = "kp-2015"
as_of = 2019-01-01
applied_by = "court"

[bodies]
court = "the court at the place of custody"
commission = "the pardon commission"
council = "the humanitarian council"
"""
    + _grant("G1", 'sex = "F"', extra='applied_by = "commission"')
    + _grant("G2", "age >= 60", relief="conditional_release")
    + """
[[clause]]
id = "R1"
kind = "refer"
without_ground = true
applied_by = "council"
predicate = 'health.severity in {"severe", "terminal"}'
text = "exceptions on humanitarian grounds decided by the council"
source = "test"

[[clause]]
id = "X1"
kind = "exclude"
predicate = 'authority = "MSS"'
text = "no one held by the MSS"
source = "test"
"""
)

# person -> (sex, born, authority, severity or None) and (outcome, relief, referred,
# applied_by), worked by hand from docs/semantics.md steps 1-8.
BODY_CASES: dict[str, tuple[tuple[str, dt.date, str, str | None], tuple[Any, ...]]] = {
    # a ground whose grant names its body: eligible, applied by the commission
    "WOMAN": (("F", dt.date(1970, 1, 1), "MPS", "none"), ("eligible", "release", [], "commission")),
    # a ground with no body of its own: the decree's body
    "OLD": (
        ("M", dt.date(1950, 1, 1), "MPS", "none"),
        ("eligible", "conditional_release", [], "court"),
    ),
    # no ground, the exception holds: review (not ineligible), the council decides
    "SICK": (("M", dt.date(1970, 1, 1), "MPS", "severe"), ("review", "release", ["R1"], "council")),
    # no ground, the exception unknown (no assessment): review too
    "UNASSESSED": (
        ("M", dt.date(1970, 1, 1), "MPS", None),
        ("review", "release", ["R1"], "council"),
    ),
    # no ground, the exception false: ineligible with no ground, no body
    "WELL": (("M", dt.date(1970, 1, 1), "MPS", "none"), ("ineligible", None, [], None)),
    # an exclusion still comes first: ineligible though the exception holds
    "MSS-SICK": (("M", dt.date(1970, 1, 1), "MSS", "terminal"), ("ineligible", None, ["R1"], None)),
    # a ground and the exception: an ordinary refer, review with the ground's relief and body
    "WOMAN-SICK": (
        ("F", dt.date(1970, 1, 1), "MPS", "severe"),
        ("review", "release", ["R1"], "commission"),
    ),
}


def _conviction(pid: str, start: dt.date, months: int | None) -> dict[str, Any]:
    return {
        "conviction_id": f"C-{pid}",
        "person_id": pid,
        "offence_code": "KP-CC-254",
        "sentence_kind": "term" if months is not None else "life",
        "term_months": months,
        "start_date": start,
    }


def calendar_rows() -> dict[str, list[dict[str, Any]]]:
    ids = [*CALENDAR_CASES, "LIFE"]
    convictions = [_conviction(p, s, m) for p, (s, m, _) in CALENDAR_CASES.items()]
    convictions.append(_conviction("LIFE", dt.date(2015, 1, 1), None))
    events = [admission(p, when=dt.date(2014, 12, 31)) for p in ids]
    return {
        **BASE_PLACES,
        "persons": [person(p) for p in ids],
        "convictions": convictions,
        "events": events,
    }


def body_rows() -> dict[str, list[dict[str, Any]]]:
    persons, health = [], []
    for pid, ((sex, born, authority, severity), _) in BODY_CASES.items():
        persons.append(person(pid, birth=born, authority=authority, sex=sex))
        if severity is not None:
            health.append(
                {
                    "assessment_id": f"H-{pid}",
                    "person_id": pid,
                    "assessed_on": dt.date(2018, 6, 1),
                    "severity": severity,
                    "able_to_work": True,
                }
            )
    return {
        **BASE_PLACES,
        "persons": persons,
        "convictions": [_conviction(p, dt.date(2015, 1, 1), 120) for p in BODY_CASES],
        "events": [admission(p, when=dt.date(2015, 1, 1)) for p in BODY_CASES],
        "health_assessments": health,
    }


CAL_EXPECTED: dict[str, Any] = {p: want for p, (_, _, want) in CALENDAR_CASES.items()}
CAL_EXPECTED["LIFE"] = ["half7"]  # no term in months: the other calendar grants are unknown
BODY_EXPECTED = {p: want for p, (_, want) in BODY_CASES.items()}


def calendar_answer(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {r["person_id"]: r["grounds"] for r in rows}


def body_answer(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        r["person_id"]: (r["outcome"], r["relief"], r["referred"], r["applied_by"]) for r in rows
    }


def _decrees() -> tuple[Decree, Decree]:
    return load_text(CALENDAR, profile=KP), load_text(BODIES, profile=KP)


def _check(engine_rows: Any) -> None:
    cal, bodies = engine_rows
    assert calendar_answer(cal) == CAL_EXPECTED
    assert body_answer(bodies) == BODY_EXPECTED


def test_the_interpreter_gives_the_hand_computed_answers() -> None:
    cal, bodies = _decrees()
    c = interpret(cal, calendar_rows(), KP).determinations
    b = interpret(bodies, body_rows(), KP).determinations
    _check((list(c.values()), list(b.values())))
    # the life sentence has no months: unknown, named by the fact it missed
    unknown = {u["clause"]: u["missing"] for u in c["LIFE"]["unknown"]}
    assert unknown["months"] == ["conviction.term_months"]
    # ... which changes nothing here: half7 holds and no unknown grant offers more
    assert c["LIFE"]["outcome"] == "eligible"


def test_duckdb_gives_the_hand_computed_answers() -> None:
    cal, bodies = _decrees()
    out = []
    for decree, rows in ((cal, calendar_rows()), (bodies, body_rows())):
        conn = duckdb.connect()
        load(conn, rows, KP)
        out.append(evaluate(decree, conn, profile=KP).determinations.to_pylist())
    _check(tuple(out))


@pytest.mark.postgres
def test_postgresql_gives_the_hand_computed_answers(pg_db: str) -> None:
    import psycopg

    cal, bodies = _decrees()
    out = []
    with psycopg.connect(pg_db, autocommit=True) as conn:
        for decree, rows in ((cal, calendar_rows()), (bodies, body_rows())):
            load_pg(conn, rows, KP)
            out.append(evaluate(decree, conn, profile=KP).determinations.to_pylist())
    _check(tuple(out))


@pytest.mark.spark
def test_spark_gives_the_hand_computed_answers(spark_session: Any, tmp_path: Path) -> None:
    cal, bodies = _decrees()
    out = []
    for i, (decree, rows) in enumerate(((cal, calendar_rows()), (bodies, body_rows()))):
        folder = tmp_path / str(i)
        folder.mkdir()
        for name, table in arrow_tables(rows, KP).items():
            pq.write_table(table, folder / f"{name}.parquet")
        got = evaluate(decree, SparkBackend(spark_session, folder), profile=KP)
        out.append(got.determinations.to_pylist())
    _check(tuple(out))


def test_a_decree_without_bodies_has_no_applied_by_column() -> None:
    """Decrees that name no body compile to the same query as before (goldens)."""
    cal, _ = _decrees()
    conn = duckdb.connect()
    load(conn, calendar_rows(), KP)
    assert "applied_by" not in evaluate(cal, conn, profile=KP).determinations.column_names
