"""The decree constructs of #10 (named sets and predicates, article ranges, `unless`) and
a profile's facility, offence and event attributes, decided by the interpreter and by
the compiled engine on DuckDB, PostgreSQL and Spark: all must give the hand-computed
answers of the XA decongestion act on its example registry
(tests/jurisdiction/test_from_scratch.py works them out clause by clause)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from amnesty.backends.spark import SparkBackend
from amnesty.compile.interpreter import interpret
from amnesty.decree import load
from amnesty.engine import evaluate
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import get_profile
from engine.helpers import arrow_tables
from engine.helpers import load as load_duckdb
from engine.pg import load_pg
from jurisdiction.test_from_scratch import DECREE, EXPECTED, PROFILE, REGISTRY

XA = get_profile(str(PROFILE))


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The example CSV registry as the importer types it."""
    db = tmp_path_factory.mktemp("xa") / "xa.duckdb"
    import_registry(str(db), REGISTRY, profile=str(PROFILE))
    conn = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for t in XA.tables():
            cur = conn.execute(f"SELECT {', '.join(t.column_names)} FROM {t.name}")
            out[t.name] = [dict(zip(t.column_names, r, strict=True)) for r in cur.fetchall()]
        return out
    finally:
        conn.close()


def decided(determinations: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["person_id"]: (r["outcome"], r["relief"], r["grounds"], r["blocking"])
        for r in determinations
    }


def test_the_interpreter_gives_the_hand_computed_answers(rows: dict[str, Any]) -> None:
    result = interpret(load(DECREE), rows, XA)
    assert decided(list(result.determinations.values())) == EXPECTED


def test_duckdb_gives_the_hand_computed_answers(rows: dict[str, Any]) -> None:
    conn = duckdb.connect()
    load_duckdb(conn, rows, XA)
    assert decided(evaluate(load(DECREE), conn, profile=XA).determinations.to_pylist()) == EXPECTED


@pytest.mark.postgres
def test_postgresql_gives_the_hand_computed_answers(rows: dict[str, Any], pg_db: str) -> None:
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as conn:
        load_pg(conn, rows, XA)
        got = evaluate(load(DECREE), conn, profile=XA).determinations
    assert decided(got.to_pylist()) == EXPECTED


@pytest.mark.spark
def test_spark_gives_the_hand_computed_answers(
    rows: dict[str, Any], spark_session: Any, tmp_path: Path
) -> None:
    for name, table in arrow_tables(rows, XA).items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    got = evaluate(load(DECREE), SparkBackend(spark_session, tmp_path), profile=XA)
    assert decided(got.determinations.to_pylist()) == EXPECTED
