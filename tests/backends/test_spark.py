"""The Spark backend: the compiled decree on PySpark in local mode, over Parquet.

The promise tested here: the same decree, compiled by the same compiler to the
``spark`` dialect, decides every person exactly as DuckDB does: every field, row
for row. All tests share the one session of ``conftest.spark_session``; registries
are small (2,000 persons) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from amnesty.backends.spark import SparkBackend, evaluate_to_parquet, registry_paths
from amnesty.cli import run
from amnesty.compile.sql import OUTPUT_COLUMNS
from amnesty.decree import load
from amnesty.engine import evaluate
from amnesty.errors import EngineError, RegistryError
from amnesty.registry.generate import generate
from amnesty.registry.schema import TABLE_NAMES

pytestmark = pytest.mark.spark

HERE = Path(__file__).parent
DECREES = HERE.parent.parent / "decrees"
PERSONS = 2_000


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registries")
    out = {}
    for profile, seed in (("kp-2015", 11), ("ru-2015", 12)):
        generate(profile, PERSONS, seed, root / profile)
        out[profile] = root / profile
    return out


def _decrees() -> list[Any]:
    """The shipped decrees of both profiles, and the two feature decrees of this folder
    that use every construct the dialect layer renders differently."""
    paths = sorted(HERE.glob("spark_features_*.toml"))
    paths += sorted(p for p in DECREES.glob("*.toml") if p.name.startswith(("kp-2015", "ru-2015")))
    return [pytest.param(p, id=p.stem) for p in paths]


def duckdb_over(registry: Path) -> Any:
    """The reference: DuckDB over the same Parquet files."""
    conn = duckdb.connect()
    for name, path in registry_paths(registry).items():
        conn.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return conn


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.sort_by("person_id").to_pylist()


@pytest.mark.parametrize("path", _decrees())
def test_spark_decides_every_person_exactly_as_duckdb(
    spark_session: Any, registries: dict[str, Path], path: Path
) -> None:
    decree = load(path)
    registry = registries[decree.jurisdiction]
    expected = evaluate(decree, duckdb_over(registry))
    got = evaluate(decree, SparkBackend(spark_session, registry))

    assert got.compiled.dialect == "spark"
    assert got.determinations.column_names == list(OUTPUT_COLUMNS)
    assert got.determinations.num_rows == expected.determinations.num_rows > 0
    want, have = rows(expected.determinations), rows(got.determinations)
    mismatched = [(w, h) for w, h in zip(want, have, strict=True) if w != h]
    assert not mismatched, f"{len(mismatched)} persons differ; first: {mismatched[0]}"
    # Who was left out of the population, and why, agrees too.
    assert got.left_out.by_reason == expected.left_out.by_reason
    assert got.summary() == expected.summary()
    # Not a vacuous agreement: outcomes vary and grounds are named.
    assert len({r["outcome"] for r in want}) >= 2
    assert any(r["grounds"] for r in want)


def test_evaluate_to_parquet_writes_determinations_and_summarises_them_in_spark(
    spark_session: Any, registries: dict[str, Path], tmp_path: Path
) -> None:
    decree = load(DECREES / "kp-2015-10-party-founding.toml")
    registry = registries["kp-2015"]
    expected = evaluate(decree, duckdb_over(registry))
    out = tmp_path / "determinations"
    summary = evaluate_to_parquet(decree, SparkBackend(spark_session, registry), out)
    assert out.is_dir()  # a Parquet directory, one file per task, as on a cluster
    assert rows(pq.read_table(out)) == rows(expected.determinations)
    assert summary == expected.summary()


def test_cli_evaluate_engine_spark_writes_a_parquet_directory(
    spark_session: Any, registries: dict[str, Path], tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "determinations"
    decree = DECREES / "kp-2015-10-party-founding.toml"
    argv = ["evaluate", str(decree), "--engine", "spark", "--registry", str(registries["kp-2015"])]
    assert run([*argv, "--out", str(out), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["persons"] == pq.read_table(out).num_rows > 0
    assert spark_session.sparkContext._jsc is not None  # the shared session still runs

    assert run([*argv[:2], "--engine", "spark"]) == 1
    assert "--engine spark needs --registry DIR" in capsys.readouterr().err
    assert run([*argv, "--out", str(tmp_path / "d.csv")]) == 1
    assert "Parquet directory" in capsys.readouterr().err


def test_registry_directory_must_hold_every_table(tmp_path: Path) -> None:
    pq.write_table(pa.table({"person_id": ["P1"]}), tmp_path / "persons.parquet")
    with pytest.raises(RegistryError, match=r"missing divisions\.parquet"):
        registry_paths(tmp_path)
    with pytest.raises(RegistryError, match="not a directory"):
        registry_paths(tmp_path / "nope")
    # On a cluster the registry lives on shared storage; Spark reads the URI itself.
    paths = registry_paths("s3a://registries/kp-2015/")
    assert paths["persons"] == "s3a://registries/kp-2015/persons.parquet"


def test_runs_sql_over_parquet_views(spark_session: Any, tmp_path: Path) -> None:
    reg = tmp_path / "registry"
    reg.mkdir()
    for name in TABLE_NAMES:
        pq.write_table(
            pa.table({"id": [f"{name}-1", f"{name}-2"], "d": [dt.date(2016, 2, 29), None]}),
            reg / f"{name}.parquet",
        )
    backend = SparkBackend(spark_session, reg)
    got = backend.fetch_arrow(
        "SELECT p.id, date_add(p.d, 1) AS next_day, array(p.id, e.id) AS ids "
        "FROM persons AS p JOIN events AS e ON substr(p.id, -1) = substr(e.id, -1) ORDER BY p.id"
    )
    assert got.column("next_day").to_pylist() == [dt.date(2016, 3, 1), None]
    assert got.column("ids").to_pylist()[0] == ["persons-1", "events-1"]


def test_a_query_spark_cannot_run_is_an_engine_error(spark_session: Any) -> None:
    backend = SparkBackend(spark_session)
    with pytest.raises(EngineError, match="Spark refused"):
        backend.fetch_arrow("SELECT no_such_column FROM no_such_table_anywhere")
