"""One schema on both databases, brought to head by Alembic."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

from amnesty.store.engine import dispose_engine, get_engine
from amnesty.store.migrate import current_revision, forget_migrated, head_revision, migrate
from amnesty.store.tables import metadata

CONTRACT_TABLES = {
    "users",
    "decrees",
    "runs",
    "determinations",
    "review_decisions",
    "rosters",
    "roster_entries",
    "undertaking_records",
    "releases",
    "certificates",
    "audit_events",
    "audit_checkpoints",
}


def test_migrate_brings_an_empty_database_to_head(backend_url: str) -> None:
    migrate(backend_url)
    with get_engine(backend_url).connect() as connection:
        assert current_revision(connection) == head_revision()
        names = set(
            connection.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ).scalars()
        )
    assert names >= CONTRACT_TABLES


def test_migrated_columns_are_the_declared_columns(backend_url: str) -> None:
    migrate(backend_url)
    # information_schema, not SQLAlchemy reflection: duckdb-engine reflects columns poorly.
    query = sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = :t AND table_schema = current_schema()"
    )
    with get_engine(backend_url).connect() as connection:
        for table in metadata.sorted_tables:
            stored = set(connection.execute(query, {"t": table.name}).scalars())
            assert stored == set(table.columns.keys()), table.name


def test_migrate_again_is_a_no_op(backend_url: str) -> None:
    migrate(backend_url)
    forget_migrated(backend_url)
    migrate(backend_url)  # looks at the database, finds head, changes nothing
    with get_engine(backend_url).connect() as connection:
        assert current_revision(connection) == head_revision()


def test_second_duckdb_writer_process_gets_database_busy(duck_url: str) -> None:
    migrate(duck_url)  # this process now holds the file
    try:
        done = subprocess.run(
            [sys.executable, "-m", "amnesty", "user", "list", "--db", duck_url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        dispose_engine(duck_url)
    assert done.returncode == 1
    assert "database busy" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_written_out_head_is_the_scripts_head() -> None:
    from amnesty.store.migrate import HEAD

    assert head_revision() == HEAD
