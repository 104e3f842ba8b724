"""``amnesty registry import`` into PostgreSQL: a generated registry lands whole, a
re-import changes nothing, a refused import leaves every table and snapshot as it
was, and the snapshot hash is the one DuckDB and a CSV copy give."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from registry_state import (
    assert_refused_leaving_registry_as_it_was,
    duckdb_state,
    postgres_state,
)

from amnesty.cli import run
from amnesty.errors import ImportRejected
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.registry.schema import TABLE_NAMES

pytestmark = pytest.mark.postgres

PERSONS = 400


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same kp-2015 registry as Parquet and as CSV, and a dirty one."""
    root = tmp_path_factory.mktemp("pg-extracts")
    parquet = root / "parquet"
    generate("kp-2015", PERSONS, 21, parquet)
    csv_dir = root / "csv"
    csv_dir.mkdir()
    shutil.copy(parquet / "manifest.json", csv_dir / "manifest.json")
    con = duckdb.connect()
    for table in TABLE_NAMES:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{parquet / table}.parquet')) "
            f"TO '{csv_dir / table}.csv' (FORMAT csv, HEADER true)"
        )
    con.close()
    dirty = root / "dirty"
    generate("kp-2015", PERSONS, 21, dirty, dirty_rate=0.02)
    return {"parquet": parquet, "csv": csv_dir, "dirty": dirty}


def test_import_reimport_and_the_same_hash_everywhere(
    pg_db: str, tmp_path: Path, extracts: dict[str, Path]
) -> None:
    report = import_registry(pg_db, extracts["parquet"])
    assert (report.status, report.snapshot_id) == ("imported", 1)
    state = postgres_state(pg_db)
    assert set(state) >= set(TABLE_NAMES) | {"registry_snapshots"}  # besides the store's
    for table, n in report.row_counts.items():
        assert len(state[table]) == n, table

    again = import_registry(pg_db, extracts["csv"])
    assert (again.status, again.snapshot_id) == ("unchanged", 1)
    assert again.content_hash == report.content_hash
    assert postgres_state(pg_db) == state

    duck = tmp_path / "reg.duckdb"
    assert import_registry(str(duck), extracts["parquet"]).content_hash == report.content_hash
    assert import_registry(str(tmp_path / "csv.duckdb"), extracts["csv"]).content_hash == (
        report.content_hash
    )
    # Not only the hash: PostgreSQL holds the very rows DuckDB holds.
    on_duckdb = duckdb_state(duck)
    for table in TABLE_NAMES:
        assert state[table] == on_duckdb[table], table


def test_a_refused_import_leaves_postgresql_exactly_as_it_was(
    pg_db: str, tmp_path: Path, extracts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import_registry(pg_db, extracts["parquet"])
    before = postgres_state(pg_db)
    with pytest.raises(ImportRejected):
        import_registry(pg_db, extracts["dirty"])
    assert postgres_state(pg_db) == before
    rejects = tmp_path / "r.csv"
    argv = ["registry", "import", str(extracts["dirty"]), "--db", pg_db, "--rejects", str(rejects)]
    assert run(argv) == 1
    assert "Error: " in capsys.readouterr().err
    assert rejects.exists()
    assert_refused_leaving_registry_as_it_was(pg_db, before)


def test_skip_invalid_then_a_new_extract_moves_the_snapshot(
    pg_db: str, extracts: dict[str, Path]
) -> None:
    skipped = import_registry(pg_db, extracts["dirty"], skip_invalid=True)
    assert skipped.status == "imported" and skipped.rejections
    clean = import_registry(pg_db, extracts["parquet"])
    assert (clean.status, clean.snapshot_id) == ("imported", 2)
    snaps = postgres_state(pg_db)["registry_snapshots"]
    assert [(s[0], s[6]) for s in sorted(snaps)] == [(1, False), (2, True)]
