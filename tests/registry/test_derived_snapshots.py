"""Derived snapshots: rows amnesty itself adds to the registry (release events) move
the snapshot forward in the same transaction, an auditor can recompute the chain, and
an import refuses to wipe those rows unless told to keep or discard them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from import_fixtures import D, registry, write
from registry_state import assert_refused_leaving_registry_as_it_was, state

from amnesty.cli import run
from amnesty.errors import RegistryError
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR, Column, Table
from amnesty.registry.snapshot import (
    advance_snapshot,
    canonical_row,
    canonical_sql,
    current_snapshot,
    derived_hash,
)

EVENTS = get_profile("kp-2015").table("events")
OCTOBER_8 = D(2015, 10, 8)
COLUMNS = EVENTS.column_names


def release(
    person: str, run: str, kind: str = "release", day: dt.date = OCTOBER_8
) -> dict[str, Any]:
    """An event as the case-work layer writes it when it executes a release."""
    return {
        "event_id": f"{run}:{person}:{kind}",
        "person_id": person,
        "event_type": kind,
        "event_date": day,
        "facility_id": "F1",
        "country": None,
        "decree_id": "KP-2015-10",
        "run_id": run,
        "new_sentence_kind": None,
        "new_end_date": None,
        "note": '조건부 "석방"\n',
    }


@contextmanager
def transaction(url: str) -> Iterator[Any]:
    """A raw DuckDB or psycopg connection inside one transaction."""
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg, pg.transaction():
            yield pg
        return
    con = duckdb.connect(url)
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def append(url: str, rows: list[dict[str, Any]], source: str) -> str:
    """What the case-work layer does: INSERT the rows and advance, in one transaction."""
    with transaction(url) as conn:
        marks = ", ".join(["%s" if url.startswith("postgresql") else "?"] * len(COLUMNS))
        for r in rows:
            conn.execute(
                f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({marks})",
                [r[c] for c in COLUMNS],
            )
        return advance_snapshot(conn, table="events", rows=rows, source=source)


def snapshots(url: str) -> list[dict[str, Any]]:
    with transaction(url) as conn:
        cur = conn.execute(
            "SELECT snapshot_id, content_hash, kind, parent_id, added_table, "
            "CAST(added_rows AS VARCHAR) AS added_rows, is_current, row_counts, source "
            "FROM registry_snapshots ORDER BY snapshot_id"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def event_ids(url: str) -> list[str]:
    with transaction(url) as conn:
        return sorted(r[0] for r in conn.execute("SELECT event_id FROM events").fetchall())


@pytest.fixture
def db(backend_url: str, tmp_path: Path) -> str:
    """A database of either backend holding the fixture registry (snapshot 1)."""
    import_registry(backend_url, write(registry(), tmp_path / "base"))
    return backend_url


def auditor_replay(rows: list[dict[str, Any]]) -> None:
    """Recompute every derived hash from its parent's hash and its stored rows alone."""
    by_id = {r["snapshot_id"]: r for r in rows}
    for r in rows:
        if r["kind"] != "derived":
            continue
        added = [
            json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            for v in json.loads(r["added_rows"])
        ]
        parent = by_id[r["parent_id"]]["content_hash"]
        lines = ["amnesty-registry-derived-v1", parent, r["added_table"], str(len(added)), *added]
        assert r["content_hash"] == hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_advance_snapshot_chains_and_an_auditor_can_recompute_it(db: str) -> None:
    imported = current_snapshot_of(db)
    first = [release("P001", "R1"), release("P002", "R1", "commutation")]
    h1 = append(db, first, "release run R1 persons P001, P002")
    assert h1 == derived_hash(
        imported.content_hash, "events", [canonical_row(EVENTS, r) for r in first]
    )
    h2 = append(db, [release("P001", "R2", "return", D(2015, 11, 1))], "revocation R2 P001")
    rows = snapshots(db)
    assert [(r["snapshot_id"], r["kind"], r["parent_id"], r["is_current"]) for r in rows] == [
        (1, "import", None, False),
        (2, "derived", 1, False),
        (3, "derived", 2, True),
    ]
    assert rows[2]["content_hash"] == h2 != h1
    assert rows[1]["source"] == "release run R1 persons P001, P002"
    counts = rows[2]["row_counts"]
    counts = json.loads(counts) if isinstance(counts, str) else counts
    assert counts["events"] == 4 + 3
    current = current_snapshot_of(db)
    assert (current.kind, current.parent_id, current.content_hash) == ("derived", 2, h2)
    auditor_replay(rows)


def current_snapshot_of(url: str) -> Any:
    with transaction(url) as conn:
        snap = current_snapshot(conn)
    assert snap is not None
    return snap


def test_a_rolled_back_write_leaves_no_snapshot(db: str) -> None:
    before = state(db)
    with pytest.raises(RuntimeError), transaction(db) as conn:
        marks = ", ".join(["%s" if db.startswith("postgresql") else "?"] * len(COLUMNS))
        row = release("P003", "R9")
        conn.execute(
            f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({marks})",
            [row[c] for c in COLUMNS],
        )
        advance_snapshot(conn, table="events", rows=[row], source="run R9")
        raise RuntimeError("the release failed after the event was written")
    assert state(db) == before


def test_arrow_rows_and_sqlalchemy_connection(db: str) -> None:
    from amnesty.store.engine import dispose_engine, get_engine

    rows = [release("P004", "R3")]
    engine = get_engine(db)
    try:
        with engine.begin() as conn:
            h = advance_snapshot(
                conn, table="events", rows=pa.Table.from_pylist(rows), source="run R3"
            )
    finally:
        dispose_engine(db)
    assert current_snapshot_of(db).content_hash == h
    assert h == derived_hash(
        snapshots(db)[0]["content_hash"], "events", [canonical_row(EVENTS, rows[0])]
    )


def test_nothing_to_record_and_misuse(db: str, tmp_path: Path) -> None:
    imported = current_snapshot_of(db)
    with transaction(db) as conn:
        assert advance_snapshot(conn, table="events", rows=[], source="x") == imported.content_hash
    with (
        pytest.raises(RegistryError, match="profile kp-2015 has no such table"),
        transaction(db) as conn,
    ):
        advance_snapshot(conn, table="releases", rows=[{"a": 1}], source="x")
    with pytest.raises(RegistryError, match="event_date: expected a date"), transaction(db) as conn:
        advance_snapshot(conn, table="events", rows=[{"event_date": 5}], source="x")
    with pytest.raises(RegistryError, match="events has no column colour"), transaction(db) as conn:
        advance_snapshot(conn, table="events", rows=[{"colour": "red"}], source="x")
    assert len(snapshots(db)) == 1
    empty = duckdb.connect(str(tmp_path / "empty.duckdb"))
    with pytest.raises(RegistryError, match="no registry has been imported"):
        advance_snapshot(empty, table="events", rows=[release("P1", "R")], source="x")
    empty.close()


ALL_TYPES = Table(
    "t",
    "every type",
    (
        Column("k", VARCHAR, "key", nullable=False),
        Column("i", INTEGER, "i"),
        Column("b", BOOLEAN, "b"),
        Column("d", DATE, "d"),
        Column("x", DOUBLE, "x"),
    ),
    key="k",
)


def test_canonical_row_is_the_importers_encoding(tmp_path: Path) -> None:
    """Python's encoding equals the one the importer computes in DuckDB, character
    for character, on awkward text, every type, and a whole generated registry."""
    text = "".join(chr(i) for i in range(0x21)) + '"\\/\x7f\u2028é김😀'
    rows: list[dict[str, Any]] = [
        {"k": text, "i": -7, "b": True, "d": D(1999, 1, 2), "x": 0.1},
        {"k": "", "i": 0, "b": False, "d": None, "x": 1e20},
        {"k": "n", "i": None, "b": None, "d": D(2015, 10, 8), "x": -2.5e-7},
        {"k": "z", "x": 12345678901234567.0},
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (k VARCHAR, i INTEGER, b BOOLEAN, d DATE, x DOUBLE)")
    for r in rows:
        con.execute(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)", [r.get(c) for c in ALL_TYPES.column_names]
        )
    got = dict(con.execute(f"SELECT k, {canonical_sql(ALL_TYPES)} FROM t").fetchall())
    for r in rows:
        assert canonical_row(ALL_TYPES, r) == got[r["k"]]

    from amnesty.registry.generate import generate

    src = tmp_path / "gen"
    generate("ru-2015", 200, 3, src)
    profile = get_profile("ru-2015")
    for table in profile.tables():
        relation = f"read_parquet('{src / (table.name + '.parquet')}')"
        arrow = pq.read_table(src / f"{table.name}.parquet")
        duck = [
            r[0] for r in con.execute(f"SELECT {canonical_sql(table)} FROM {relation}").fetchall()
        ]
        assert [canonical_row(table, r) for r in arrow.to_pylist()] == duck, table.name
    con.close()


# --- the importer and rows amnesty added -------------------------------------------


def test_import_is_refused_while_amnesty_events_are_pending(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    append(db, [release("P001", "R1"), release("P002", "R1")], "release run R1")
    append(db, [release("P004", "R2")], "release run R2")
    before = state(db)
    src = write(registry(), tmp_path / "again")
    assert run(["registry", "import", str(src), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "Error: amnesty wrote 3 events row(s) to the registry since the last import " in err
    assert "(snapshot 1), by runs R1, R2, in derived snapshots 2, 3" in err
    assert "--keep-amnesty-events" in err and "--discard-amnesty-events" in err
    assert_refused_leaving_registry_as_it_was(db, before)
    argv = ["registry", "import", str(src), "--db", db]
    assert run([*argv, "--keep-amnesty-events", "--discard-amnesty-events"]) == 2


def test_keep_reappends_on_a_new_extract_skipping_what_it_already_has(
    db: str, tmp_path: Path
) -> None:
    ours = [release("P001", "R1"), release("P002", "R1"), release("P004", "R1")]
    append(db, ours, "release run R1")
    data = registry()
    data["events"].append(dict(ours[1]))  # the national registry caught up with one
    data["persons"][3]["name"] = "새 이름"  # and corrected a name
    report = import_registry(db, write(data, tmp_path / "new"), keep_amnesty_events=True)
    assert report.status == "imported"
    assert report.kept == [("events", "R1:P001:release"), ("events", "R1:P004:release")]
    assert report.already_in_extract == [("events", "R1:P002:release")]
    assert [e for e in event_ids(db) if e.startswith("R1")] == [
        "R1:P001:release",
        "R1:P002:release",
        "R1:P004:release",
    ]
    rows = snapshots(db)
    assert [(r["snapshot_id"], r["kind"], r["parent_id"]) for r in rows] == [
        (1, "import", None),
        (2, "derived", 1),
        (3, "import", 2),
        (4, "derived", 3),
    ]
    assert rows[2]["content_hash"] == report.content_hash
    assert rows[3]["content_hash"] == derived_hash(
        report.content_hash,
        "events",
        [canonical_row(EVENTS, ours[0]), canonical_row(EVENTS, ours[2])],
    )
    assert current_snapshot_of(db).snapshot_id == 4
    # The re-appended rows are still amnesty's: the next import asks again.
    with pytest.raises(RegistryError, match="amnesty wrote 2 events row"):
        import_registry(db, write(data, tmp_path / "newer"))


def test_keep_with_the_same_extract_is_unchanged(db: str, tmp_path: Path) -> None:
    append(db, [release("P001", "R1")], "release run R1")
    before = state(db)
    src = write(registry(), tmp_path / "same", "csv")
    report = import_registry(db, src, keep_amnesty_events=True)
    assert (report.status, report.snapshot_id) == ("unchanged", 2)
    assert state(db) == before


def test_discard_drops_them_and_says_which(db: str, tmp_path: Path) -> None:
    append(db, [release("P001", "R1")], "release run R1")
    report = import_registry(db, write(registry(), tmp_path / "same"), discard_amnesty_events=True)
    assert report.status == "imported"
    assert report.discarded == [("events", "R1:P001:release")]
    assert not [e for e in event_ids(db) if e.startswith("R1")]
    current = current_snapshot_of(db)
    assert (current.kind, current.parent_id) == ("import", 2)
    assert current.content_hash == snapshots(db)[0]["content_hash"]  # the extract's own hash


def test_keep_refuses_rows_whose_person_left_the_extract(db: str, tmp_path: Path) -> None:
    append(db, [release("P003", "R1")], "release run R1")
    before = state(db)
    data = registry()
    data["persons"] = [p for p in data["persons"] if p["person_id"] != "P003"]
    data["events"] = [e for e in data["events"] if e["person_id"] != "P003"]
    with pytest.raises(RegistryError, match=r"R1:P003:release \(person_id 'P003'\)"):
        import_registry(db, write(data, tmp_path / "gone"), keep_amnesty_events=True)
    assert state(db) == before
