"""Partial offence dates and sentence starts (#10), decided by the interpreter and by
the compiled engine on DuckDB, PostgreSQL and Spark, which must all give the answer
worked by hand from docs/semantics.md: a date known only to its month or year is
unknown, and so is everything built on it; a clause that does not need it is decided.
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
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile
from engine.helpers import BASE_PLACES, admission, arrow_tables, load, person
from engine.pg import load_pg

KP = get_profile("kp-2015")

DECREE = """
id = "partial-dates"
title = "Partial dates"
jurisdiction = "kp-2015"
as_of = 2015-06-01

[[clause]]
id = "served_5y"
kind = "grant"
relief = "release"
predicate = 'sentence.served >= 5 years'
text = "five years served"
source = "test"

[[clause]]
id = "ends_2020"
kind = "grant"
relief = "release"
predicate = 'sentence.end = 2020-06-01'
text = "sentence ends on 1 June 2020"
source = "test"

[[clause]]
id = "early_offence"
kind = "grant"
relief = "release"
predicate = 'any convictions (offence_date < 2012-01-01)'
text = "an offence before 2012"
source = "test"

[[clause]]
id = "convicted"
kind = "require"
predicate = 'sentence.count >= 1'
text = "a recorded conviction"
source = "test"
"""

# person -> (offence date, its precision, start, its precision); every term is 120
# months. The stored date is the first possible day, as the registry holds it.
PEOPLE: dict[str, tuple[dt.date, str | None, dt.date, str | None]] = {
    # Known to the day: 2010-06-01 + 10 years = 2020-06-01, five years served on
    # 2015-06-01. A null precision (an extract older than revision 0014) is a day.
    "DAY": (dt.date(2010, 1, 15), None, dt.date(2010, 6, 1), "day"),
    # Started "June 2010" or "2010": served, end unknown, the person stays in.
    "START-MONTH": (dt.date(2010, 1, 15), "day", dt.date(2010, 6, 1), "month"),
    "START-YEAR": (dt.date(2010, 1, 15), None, dt.date(2010, 1, 1), "year"),
    # Committed "in 2010": every day of it is before 2012, yet the date is unknown
    # (a partial date is not tried at both ends, docs/semantics.md).
    "OFFENCE-YEAR": (dt.date(2010, 1, 1), "year", dt.date(2010, 6, 1), None),
    # No ground holds without the start: review, naming the facts; the requirement,
    # which needs no date, is still decided.
    "LATE-START-MONTH": (dt.date(2013, 1, 15), None, dt.date(2013, 6, 1), "month"),
}


def rows() -> dict[str, list[dict[str, Any]]]:
    convictions = [
        {
            "conviction_id": f"C-{pid}",
            "person_id": pid,
            "offence_code": "KP-CC-254",
            "offence_date": offence,
            "offence_date_precision": offence_precision,
            "sentence_kind": "term",
            "term_months": 120,
            "start_date": start,
            "start_precision": start_precision,
        }
        for pid, (offence, offence_precision, start, start_precision) in PEOPLE.items()
    ]
    return {
        **BASE_PLACES,
        "persons": [person(pid) for pid in PEOPLE],
        "convictions": convictions,
        "events": [admission(pid, dt.date(2010, 6, 1)) for pid in PEOPLE],
    }


def answers(determinations: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["person_id"]: (
            r["outcome"],
            sorted(r["grounds"]),
            sorted((u["clause"], sorted(u["missing"])) for u in r["unknown"]),
        )
        for r in determinations
    }


UNKNOWN_START = [("ends_2020", ["sentence.end"]), ("served_5y", ["sentence.served"])]
EXPECTED = {
    "DAY": ("eligible", ["early_offence", "ends_2020", "served_5y"], []),
    # The offence date alone decides a ground: eligible, the other two still unknown.
    "START-MONTH": ("eligible", ["early_offence"], UNKNOWN_START),
    "START-YEAR": ("eligible", ["early_offence"], UNKNOWN_START),
    "OFFENCE-YEAR": (
        "eligible",
        ["ends_2020", "served_5y"],
        [("early_offence", ["conviction.offence_date"])],
    ),
    "LATE-START-MONTH": ("review", [], UNKNOWN_START),
}


def test_the_interpreter_gives_the_hand_worked_answers() -> None:
    result = interpret(load_text(DECREE, profile=KP), rows(), KP)
    assert answers(list(result.determinations.values())) == EXPECTED
    assert not result.left_out


def test_duckdb_gives_the_hand_worked_answers() -> None:
    conn = duckdb.connect()
    load(conn, rows(), KP)
    got = evaluate(load_text(DECREE, profile=KP), conn, profile=KP).determinations
    assert answers(got.to_pylist()) == EXPECTED


@pytest.mark.postgres
def test_postgresql_gives_the_hand_worked_answers(pg_db: str) -> None:
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as conn:
        load_pg(conn, rows(), KP)
        got = evaluate(load_text(DECREE, profile=KP), conn, profile=KP).determinations
    assert answers(got.to_pylist()) == EXPECTED


@pytest.mark.spark
def test_spark_gives_the_hand_worked_answers(spark_session: Any, tmp_path: Path) -> None:
    for name, table in arrow_tables(rows(), KP).items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    got = evaluate(load_text(DECREE, profile=KP), SparkBackend(spark_session, tmp_path))
    assert answers(got.determinations.to_pylist()) == EXPECTED


@pytest.mark.spark
def test_spark_reads_an_extract_older_than_the_precision_columns(
    spark_session: Any, tmp_path: Path
) -> None:
    data = rows()
    data["convictions"] = [c for c in data["convictions"] if c["person_id"] == "DAY"]
    data["persons"] = [p for p in data["persons"] if p["person_id"] == "DAY"]
    data["events"] = [e for e in data["events"] if e["person_id"] == "DAY"]
    for name, table in arrow_tables(data, KP).items():
        if name == "convictions":
            table = table.drop_columns(["offence_date_precision", "start_precision"])
        pq.write_table(table, tmp_path / f"{name}.parquet")
    got = evaluate(load_text(DECREE, profile=KP), SparkBackend(spark_session, tmp_path))
    assert answers(got.determinations.to_pylist()) == {"DAY": EXPECTED["DAY"]}
