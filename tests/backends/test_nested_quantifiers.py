"""Nested quantifiers (#10) on PostgreSQL and Spark: the two language tables that nest
(tests/decrees/language/xp-after-pardon, xp-clean-pardon) decided by the compiled query
on each server, which must give every case's expected answer, as the interpreter and
DuckDB do in the decree tables. The SQL pre-aggregates the inner collection per outer
row (no correlated subquery), which these engines run differently from DuckDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from amnesty.backends.spark import SparkBackend
from amnesty.engine import evaluate
from decrees.tables import LANGUAGE_TABLES, Table, mismatches, read_table
from engine.helpers import arrow_tables
from engine.pg import load_pg

NESTING = ("xp-after-pardon.yaml", "xp-clean-pardon.yaml")


def _tables() -> list[Table]:
    return [read_table(LANGUAGE_TABLES / name) for name in NESTING]


def _problems(table: Table, rows: list[dict[str, Any]]) -> list[str]:
    by_id = {r["person_id"]: r for r in rows}
    out = []
    for case in table.cases:
        assert case.as_of is None, "these tables decide on the decree's own date"
        out += [f"{case.name}: {m}" for m in mismatches(case, by_id.get(case.person_id))]
    return out


def test_the_tables_reach_both_pre_aggregates() -> None:
    # Guard against the tables losing the construct they are here for: one nests events
    # in convictions, the other convictions in events.
    from amnesty.compile.sql import compile_decree

    after, clean = (compile_decree(t.decree, "postgres", profile=t.profile).sql for t in _tables())
    assert "nest_conv AS" in after and "nest_event AS" not in after
    assert "nest_event AS" in clean and "nest_conv AS" not in clean


@pytest.mark.postgres
def test_postgresql_decides_nested_quantifiers_as_the_tables_say(pg_db: str) -> None:
    import psycopg

    problems = []
    with psycopg.connect(pg_db, autocommit=True) as conn:
        for table in _tables():
            load_pg(conn, table.rows, table.profile)
            got = evaluate(table.decree, conn, profile=table.profile)
            problems += _problems(table, got.determinations.to_pylist())
    assert problems == []


@pytest.mark.spark
def test_spark_decides_nested_quantifiers_as_the_tables_say(
    spark_session: Any, tmp_path: Path
) -> None:
    problems = []
    for i, table in enumerate(_tables()):
        folder = tmp_path / str(i)
        folder.mkdir()
        for name, arrow in arrow_tables(table.rows, table.profile).items():
            pq.write_table(arrow, folder / f"{name}.parquet")
        got = evaluate(table.decree, SparkBackend(spark_session, folder), profile=table.profile)
        problems += _problems(table, got.determinations.to_pylist())
    assert problems == []
