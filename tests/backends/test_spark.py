"""The Spark backend: the compiled decree on PySpark in local mode, over Parquet.

All tests share the one session of ``conftest.spark_session``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from amnesty.backends.spark import SparkBackend, registry_paths
from amnesty.errors import EngineError, RegistryError
from amnesty.registry.schema import TABLE_NAMES

pytestmark = pytest.mark.spark


def test_registry_directory_must_hold_every_table(tmp_path: Path) -> None:
    pq.write_table(pa.table({"person_id": ["P1"]}), tmp_path / "persons.parquet")
    with pytest.raises(RegistryError, match=r"missing divisions\.parquet"):
        registry_paths(tmp_path)
    with pytest.raises(RegistryError, match="not a directory"):
        registry_paths(tmp_path / "nope")


def test_runs_sql_over_parquet_views_and_writes_parquet(spark_session: Any, tmp_path: Path) -> None:
    reg = tmp_path / "registry"
    reg.mkdir()
    for name in TABLE_NAMES:
        pq.write_table(
            pa.table({"id": [f"{name}-1", f"{name}-2"], "d": [dt.date(2016, 2, 29), None]}),
            reg / f"{name}.parquet",
        )
    backend = SparkBackend(spark_session, reg)
    sql = (
        "SELECT p.id, p.d, date_add(p.d, 1) AS next_day, array(p.id, e.id) AS ids "
        "FROM persons AS p JOIN events AS e ON substr(p.id, -1) = substr(e.id, -1) "
        "ORDER BY p.id"
    )
    got = backend.fetch_arrow(sql)
    assert got.column("id").to_pylist() == ["persons-1", "persons-2"]
    assert got.column("next_day").to_pylist() == [dt.date(2016, 3, 1), None]
    assert got.column("ids").to_pylist()[0] == ["persons-1", "events-1"]

    out = tmp_path / "out.parquet"
    backend.write_parquet(sql, out)
    written = pq.read_table(out).sort_by("id")
    assert written.column("id").to_pylist() == ["persons-1", "persons-2"]


def test_a_query_spark_cannot_run_is_an_engine_error(spark_session: Any) -> None:
    backend = SparkBackend(spark_session)
    with pytest.raises(EngineError, match="Spark refused"):
        backend.fetch_arrow("SELECT no_such_column FROM no_such_table_anywhere")
