"""The registry's tables under Alembic (#8): declared from registry/schema.py, made by
revision 0010, brought to a profile's columns by the import, and no DDL in a release.

An "old" database here is one Alembic really left at 0007, whose registry the import
of that time made by hand-written DDL (the first-release shape of
``registry_snapshots``, without the columns added since).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from import_fixtures import arrow_table, registry, write

from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import CORE_TABLES, registry_metadata
from amnesty.registry.show import registry_summary
from amnesty.registry.snapshot import (
    advance_snapshot,
    content_hash,
    current_snapshot,
    table_ddl,
)
from amnesty.store.database import Database
from amnesty.store.migrate import HEAD, alembic_config, current_revision, forget_migrated

ROOT = Path(__file__).resolve().parents[2]
DDL_WORDS = ("CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT")


def _columns(db: Database, table: str) -> dict[str, str]:
    """column -> is_nullable, from information_schema."""
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_name = :t AND table_schema = current_schema() "
                "AND table_catalog = current_database()"
            ),
            {"t": table},
        ).all()
    return {str(r[0]): str(r[1]) for r in rows}


def test_the_migrated_registry_tables_are_the_declared_ones(backend_url: str) -> None:
    db = Database.open(backend_url)
    try:
        for table in registry_metadata().sorted_tables:
            declared = {c.name: "YES" if c.nullable else "NO" for c in table.columns}
            assert _columns(db, table.name) == declared, table.name
    finally:
        db.close()


@pytest.mark.postgres
def test_a_persons_rows_are_indexed_by_person_on_postgres(pg_db: str) -> None:
    db = Database.open(pg_db)
    try:
        with db.connect() as conn:
            indexed = {
                (r[0], r[1])
                for r in conn.exec_driver_sql(
                    "SELECT tablename, indexdef FROM pg_indexes "
                    "WHERE right(indexname, 10) = '_by_person'"
                )
            }
    finally:
        db.close()
    assert {table for table, _ in indexed} == {"convictions", "health_assessments", "events"}
    assert all(definition.endswith("(person_id)") for _, definition in indexed)


# --- an old database -------------------------------------------------------------


def _old_snapshots_ddl(postgres: bool) -> str:
    json_type, stamp = ("JSONB", "TIMESTAMPTZ") if postgres else ("JSON", "TIMESTAMPTZ")
    return (
        "CREATE TABLE registry_snapshots (snapshot_id INTEGER PRIMARY KEY, "
        "content_hash VARCHAR NOT NULL, profile VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        f"imported_at {stamp} NOT NULL, row_counts {json_type} NOT NULL, "
        "is_current BOOLEAN NOT NULL)"
    )


def _build_old_database(url: str) -> str:
    """Alembic to 0007, then the registry as the import before 0010 wrote it; its hash."""
    from alembic import command

    from amnesty.store.engine import dispose_engine, get_engine

    engine = get_engine(url)
    postgres = engine.dialect.name == "postgresql"
    data = registry()
    tables = get_profile("kp-2015").tables()
    staging = duckdb.connect()
    for t in tables:
        # Every declared column, null where the fixture has none (a precision column
        # the fixture predates), as the import stages an extract.
        rows = [{**dict.fromkeys(t.column_names), **r} for r in data[t.name]]
        staging.register("rows", arrow_table(t, rows))
        staging.execute(f"CREATE TABLE clean_{t.name} AS SELECT * FROM rows")
        staging.unregister("rows")
    digest = content_hash(staging, tables, "kp-2015", "clean_")
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        assert current_revision(conn) == "0007"
        for t in tables:
            conn.exec_driver_sql(table_ddl(t, "postgres" if postgres else "duckdb"))
            names = t.column_names
            conn.execute(
                sa.text(
                    f"INSERT INTO {t.name} ({', '.join(names)}) "
                    f"VALUES ({', '.join(':' + n for n in names)})"
                ),
                [{n: r.get(n) for n in names} for r in data[t.name]],
            )
        conn.exec_driver_sql(_old_snapshots_ddl(postgres))
        conn.execute(
            sa.text(
                "INSERT INTO registry_snapshots "
                "VALUES (1, :h, 'kp-2015', 'old', :at, :counts, true)"
            ),
            {
                "h": digest.digest,
                "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                "counts": '{"persons": 4}',
            },
        )
    staging.close()
    dispose_engine(url)
    forget_migrated(url)
    return digest.digest


@contextmanager
def _no_ddl_allowed(db: Database) -> Iterator[list[str]]:
    """Every statement the handle's engine runs, collected; on PostgreSQL also an event
    trigger that makes any DDL in the database fail."""
    seen: list[str] = []

    def collect(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE FUNCTION amnesty_test_no_ddl() RETURNS event_trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'DDL (%%) inside a release', tg_tag; END $$"
            )
            conn.exec_driver_sql(
                "CREATE EVENT TRIGGER amnesty_test_no_ddl ON ddl_command_start "
                "EXECUTE FUNCTION amnesty_test_no_ddl()"
            )
        with pytest.raises(sa.exc.DBAPIError, match="inside a release"), db.engine.begin() as c:
            c.exec_driver_sql("ALTER TABLE registry_snapshots ADD COLUMN probe INTEGER")
    sa.event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", collect)
        if postgres:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP EVENT TRIGGER amnesty_test_no_ddl")


def _release_row(person: str) -> dict[str, Any]:
    return {
        "event_id": f"R9:{person}:release",
        "person_id": person,
        "event_type": "release",
        "event_date": dt.date(2015, 10, 8),
        "facility_id": "F1",
        "country": None,
        "decree_id": "KP-2015-10",
        "run_id": "R9",
        "new_sentence_kind": None,
        "new_end_date": None,
        "note": None,
    }


def test_an_old_database_upgrades_and_a_release_on_it_runs_no_ddl(
    backend_url: str, tmp_path: Path
) -> None:
    old_hash = _build_old_database(backend_url)
    db = Database.open(backend_url)  # migrates 0007 -> head
    try:
        with db.connect() as conn:
            assert current_revision(conn) == HEAD
        assert set(_columns(db, "registry_snapshots")) >= {
            "kind", "parent_id", "added_rows", "hash_version", "profile_hash", "profile_document",
        }  # fmt: skip
        with db.raw() as raw:
            before = current_snapshot(raw)
            assert before is not None and before.content_hash == old_hash
            assert before.profile_hash is None  # recorded before 0010
            persons = raw.execute("SELECT count(*) FROM persons").fetchall()[0][0]
        assert persons == len(registry()["persons"])  # the old rows stayed

        row = _release_row(registry()["persons"][0]["person_id"])
        with _no_ddl_allowed(db) as seen, db.transaction("tester", action="test.release") as tx:
            db.insert_rows(tx.connection, "events", [row])
            new_hash = advance_snapshot(tx.connection, table="events", rows=[row], source="r")
        ddl = [s for s in seen if s.lstrip().upper().startswith(DDL_WORDS)]
        assert seen and ddl == []
        with db.raw() as raw:
            after = current_snapshot(raw)
        assert after is not None and after.content_hash == new_hash and after.kind == "derived"

        # A corrected extract imported on top keeps amnesty's row and records the profile.
        corrected = registry()
        corrected["persons"][1]["name_romanised"] = "Corrected Name"
        report = import_registry(db, write(corrected, tmp_path / "again"), keep_amnesty_events=True)
        assert report.status == "imported" and len(report.kept) == 1
        with db.raw() as raw:
            kept = current_snapshot(raw)
        assert kept is not None and kept.kind == "derived"
        assert kept.profile_hash == get_profile("kp-2015").content_hash
    finally:
        db.close()


# --- a profile's columns ---------------------------------------------------------


def _persons_columns(db: Database) -> set[str]:
    return set(_columns(db, "persons"))


def test_the_import_gives_the_tables_exactly_the_profiles_columns(
    backend_url: str, tmp_path: Path
) -> None:
    ru, kp = tmp_path / "ru", tmp_path / "kp"
    generate("ru-2015", 60, 5, ru)
    generate("kp-2015", 60, 5, kp)
    core = {c.name for c in next(t for t in CORE_TABLES if t.name == "persons").columns}
    ru_attrs = {c.name for c in get_profile("ru-2015").person_attributes}
    assert ru_attrs
    db = Database.open(backend_url)
    try:
        import_registry(db, ru)
        assert _persons_columns(db) == core | ru_attrs
        with db.raw() as raw:  # the engine reads attributes as plain columns
            veterans = raw.execute("SELECT count(*) FROM persons WHERE veteran").fetchall()
        assert veterans[0][0] >= 0
        import_registry(db, kp)
        assert _persons_columns(db) == core
        again = import_registry(db, ru)
        assert _persons_columns(db) == core | ru_attrs
        assert again.status == "imported"

        # ru-2015 counts persons by federal subject, as the engine does (#8, #10): the
        # summary once put every one of them under province None.
        summary = registry_summary(db)
        provinces = summary["by_province"]
        assert provinces and all(p["province_id"] is not None for p in provinces)
        assert {p["level"] for p in provinces} == {"federal_subject"}
        assert summary["snapshot"]["profile"] == "ru-2015"
        assert summary["snapshot"]["profile_hash"] == get_profile("ru-2015").content_hash
    finally:
        db.close()


def test_a_registry_imported_from_a_profile_file_is_found_when_the_file_moved(
    duck_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    profile_file = folder / "xa-2020.profile.toml"
    shutil.copy(ROOT / "decrees" / "profiles" / "xa-2020.profile.toml", profile_file)
    profile = get_profile(str(profile_file))
    db = Database.open(duck_url)
    try:
        import_registry(db, ROOT / "examples" / "xa-2020" / "registry", str(profile_file))
        shutil.move(profile_file, tmp_path / "elsewhere.toml")  # gone from where it was
        with db.raw() as raw:
            snapshot = current_snapshot(raw)
            person = raw.execute("SELECT min(person_id) FROM persons").fetchall()[0][0]
        assert snapshot is not None and snapshot.profile_hash == profile.content_hash
        assert snapshot.profile_object().tables() == profile.tables()
        row = {
            "event_id": f"RX:{person}",
            "person_id": person,
            "event_type": "release",
            "event_date": dt.date(2020, 6, 1),
        }
        with db.transaction("tester", action="test.release") as tx:
            db.insert_rows(tx.connection, "events", [row])
            advance_snapshot(tx.connection, table="events", rows=[row], source="release")
        summary = registry_summary(db)
        assert summary["snapshot"]["profile"] == profile.name
        assert summary["snapshot"]["profile_hash"] == profile.content_hash
    finally:
        db.close()
