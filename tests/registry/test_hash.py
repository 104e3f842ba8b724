"""The registry content hash (docs/registry.md, "Snapshots and the content hash"):
the importer's fast digest, the auditor's DuckDB query and the plain-Python recipe
give one result; the order rows arrive in does not matter; any changed value does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from amnesty.registry import snapshot
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR, Column, Table
from amnesty.registry.snapshot import (
    canonical_row,
    digest_lines,
    table_digest,
    table_digest_sql,
)

TYPES = Table(
    "t",
    "every type",
    (
        Column("k", VARCHAR, "key", nullable=False),
        Column("i", INTEGER, "i"),
        Column("b", BOOLEAN, "b"),
        Column("d", DATE, "d"),
        Column("x", DOUBLE, "x"),
        Column("s", VARCHAR, "s"),
    ),
    key="k",
)


def _rows(n: int) -> list[dict[str, Any]]:
    awkward = '"\\\n\x1f é김😀'
    return [
        {
            "k": f"K{i:05d}" + ("é" if i % 7 == 0 else ""),
            "i": None if i % 5 == 0 else i - 50,
            "b": None if i % 4 == 0 else i % 2 == 0,
            "d": None if i % 6 == 0 else dt.date(2000, 1, 1) + dt.timedelta(days=i),
            "x": None if i % 9 == 0 else i / 7,
            "s": "" if i % 3 == 0 else (awkward if i % 3 == 1 else None),
        }
        for i in range(n)
    ]


def _table(con: Any, name: str, rows: list[dict[str, Any]]) -> None:
    arrow = pa.table(
        {
            "k": pa.array([r["k"] for r in rows], pa.string()),
            "i": pa.array([r["i"] for r in rows], pa.int32()),
            "b": pa.array([r["b"] for r in rows], pa.bool_()),
            "d": pa.array([r["d"] for r in rows], pa.date32()),
            "x": pa.array([r["x"] for r in rows], pa.float64()),
            "s": pa.array([r["s"] for r in rows], pa.string()),
        }
    )
    con.register("arrow_rows", arrow)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM arrow_rows")
    con.unregister("arrow_rows")


def _python(rows: list[dict[str, Any]]) -> tuple[int, str]:
    ordered = sorted(rows, key=lambda r: r["k"].encode("utf-8"))
    return digest_lines(canonical_row(TYPES, r) for r in ordered)


@pytest.mark.parametrize("block_rows", [3, 64, 65536])
def test_fast_digest_query_and_python_recipe_agree(
    block_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across block boundaries (a last block full, part full), on every type."""
    monkeypatch.setattr(snapshot, "BLOCK_ROWS", block_rows)
    con = duckdb.connect()
    for n in (0, 1, 3, 64, 200):
        rows = _rows(n)
        _table(con, "t", rows)
        expected = _python(rows)
        assert table_digest(con, TYPES, "t") == expected, n
        assert tuple(con.execute(table_digest_sql(TYPES, "t")).fetchall()[0]) == expected, n


def test_reordered_rows_hash_alike_and_a_changed_field_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(snapshot, "BLOCK_ROWS", 16)
    con = duckdb.connect()
    rows = _rows(100)
    _table(con, "t", rows)
    base = table_digest(con, TYPES, "t")
    for shuffled in (rows[::-1], rows[50:] + rows[:50], sorted(rows, key=lambda r: str(r["x"]))):
        _table(con, "u", shuffled)
        assert table_digest(con, TYPES, "u") == base  # the importer's path, unsorted rows
        assert tuple(con.execute(table_digest_sql(TYPES, "u")).fetchall()[0]) == base
    changes: list[tuple[str, Any]] = [
        ("i", 1234),
        ("b", None),
        ("d", dt.date(1999, 12, 31)),
        ("x", 0.5),
        ("s", "changed"),
        ("s", None),
    ]
    seen = {base[1]}
    for column, value in changes:
        edited = [dict(r) for r in rows]
        edited[37] = {**edited[37], column: value}
        assert edited[37] != rows[37]
        _table(con, "e", edited)
        digest = table_digest(con, TYPES, "e")
        assert digest[0] == base[0] and digest[1] not in seen, column
        seen.add(digest[1])
    # Null and the empty string differ; a value moved between two rows is a change.
    swapped = [dict(r) for r in rows]
    swapped[1]["s"], swapped[2]["s"] = rows[2]["s"], rows[1]["s"]
    assert rows[1]["s"] != rows[2]["s"]
    _table(con, "w", swapped)
    assert table_digest(con, TYPES, "w")[1] not in seen


def test_import_hash_ignores_file_row_order_and_records_its_recipe(tmp_path: Path) -> None:
    """The same registry with every table's rows reversed imports under the same hash."""
    import pyarrow.parquet as pq

    src = tmp_path / "gen"
    generate("kp-2015", 300, 2, src)
    reversed_src = tmp_path / "rev"
    reversed_src.mkdir()
    for path in src.iterdir():
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            pq.write_table(
                table.take(list(range(table.num_rows - 1, -1, -1))), reversed_src / path.name
            )
        else:
            (reversed_src / path.name).write_bytes(path.read_bytes())
    a = import_registry(str(tmp_path / "a.duckdb"), src)
    b = import_registry(str(tmp_path / "b.duckdb"), reversed_src)
    assert a.content_hash == b.content_hash
    con = duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True)
    assert con.execute("SELECT hash_version FROM registry_snapshots").fetchall() == [
        ("amnesty-registry-v2",)
    ]
    # The auditor's query over the written tables gives the recorded digest.
    profile = get_profile("kp-2015")
    lines = [snapshot.HASH_VERSION, profile.name]
    for t in profile.tables():
        n, digest = con.execute(table_digest_sql(t, t.name)).fetchall()[0]
        lines.append(f"{t.name}:{n}:{digest}")
    con.close()
    import hashlib

    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == a.content_hash
