"""The decree tables of the real acts shipped for #10 (Viet Nam 2021, Indonesia 2020,
California 1172.2) decided on PostgreSQL and on Spark as well.

``conftest.py`` of this folder runs every table on the interpreter and on DuckDB; here the
same tiny registries (built from the YAML by ``tables.py``) are loaded into a real
PostgreSQL and into Parquet files read by Spark, and every case must get the answer the
table works out by hand, row for row.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from amnesty.engine import evaluate
from engine.helpers import arrow_tables
from engine.pg import load_pg

from .tables import TABLES, Table, mismatches, read_table

ACTS = ("vn-2021-national-day", "id-2020-covid-assimilation", "us-ca-2023-compassionate-release")


def _tables() -> list[Table]:
    return [read_table(TABLES / f"{name}.yaml") for name in ACTS]


def _problems(table: Table, rows: list[dict[str, Any]]) -> list[str]:
    got = {r["person_id"]: r for r in rows}
    assert not {c.as_of for c in table.cases} - {None}, "these tables use the decree's as-of"
    out = []
    for case in table.cases:
        out += [f"{case.name}: {m}" for m in mismatches(case, got.get(case.person_id))]
    return out


def test_every_act_has_its_table() -> None:
    for name in ACTS:
        table = read_table(TABLES / f"{name}.yaml")
        assert table.decree.id == name and len(table.cases) >= 10


@pytest.mark.postgres
@pytest.mark.parametrize("name", ACTS)
def test_postgresql_gives_the_tables_answers(name: str, pg_db: str) -> None:
    import psycopg

    table = read_table(TABLES / f"{name}.yaml")
    with psycopg.connect(pg_db, autocommit=True) as conn:
        load_pg(conn, table.rows, table.profile)
        got = evaluate(table.decree, conn, profile=table.profile).determinations.to_pylist()
    assert _problems(table, got) == []


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark session (the one already running, if another test module started it)."""
    try:
        from pyspark.sql import SparkSession

        from amnesty.backends.spark import java_available, session
    except ImportError as e:  # pragma: no cover - dev group always installs it
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Spark tests must run under CI=true: {e}")
        pytest.skip(str(e))
    if not java_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Spark tests must run under CI=true: no Java runtime")
        pytest.skip("no Java runtime")
    running = SparkSession.getActiveSession()
    spark = running or session(
        "local[2]",
        app_name="amnesty-tests",
        shuffle_partitions=2,
        driver_memory="1g",
        conf={"spark.default.parallelism": "2"},
    )
    yield spark
    if running is None:
        spark.stop()


@pytest.mark.spark
@pytest.mark.slow  # a JVM under a loaded machine
@pytest.mark.parametrize("name", ACTS)
def test_spark_gives_the_tables_answers(name: str, spark: Any, tmp_path: Path) -> None:
    from amnesty.backends.spark import SparkBackend

    table = read_table(TABLES / f"{name}.yaml")
    for t, data in arrow_tables(table.rows, table.profile).items():
        pq.write_table(data, tmp_path / f"{t}.parquet")
    got = evaluate(table.decree, SparkBackend(spark, tmp_path), profile=table.profile)
    assert _problems(table, got.determinations.to_pylist()) == []
