"""The whole state of a registry database, for "left exactly as it was" assertions.

Every registry table and ``registry_snapshots``, in full and sorted, read from a
DuckDB file or a PostgreSQL database. Values are normalised to plain Python so
that the two backends compare alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

State = dict[str, list[tuple[Any, ...]]]


def duckdb_state(db: Path | str) -> State:
    if not Path(db).exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {
            n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in sorted(names)
        }
    finally:
        con.close()


def postgres_state(url: str) -> State:
    import psycopg

    with psycopg.connect(url) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' ORDER BY 1"
            ).fetchall()
        ]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


def state(db: str) -> State:
    return postgres_state(db) if db.startswith("postgresql") else duckdb_state(db)


def assert_refused_leaving_registry_as_it_was(db: str, before: State) -> None:
    """A refused import changes no table it found; what it adds is its refusal on the audit
    chain (#9), with the (otherwise empty) operational tables that chain lives in."""
    after = state(db)
    for name, rows in before.items():
        if name != "audit_events":
            assert after[name] == rows, name
    added = [e for e in after.get("audit_events", []) if e not in before.get("audit_events", [])]
    assert added and all("registry.import" in e and "refused" in e for e in added), added
    for name in set(after) - set(before) - {"audit_events", "alembic_version"}:
        assert after[name] == [], name
