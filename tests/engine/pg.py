"""Small registries for engine tests on PostgreSQL: Python rows -> registry tables."""

from __future__ import annotations

from typing import Any

from amnesty.registry.profiles import Profile
from amnesty.registry.snapshot import table_ddl

from .helpers import Rows


def load_pg(conn: Any, rows: Rows, profile: Profile) -> None:
    """Replace the registry tables of a psycopg connection (autocommit) with ``rows``."""
    with conn.cursor() as cur:
        for table in profile.tables():
            cur.execute(f"DROP TABLE IF EXISTS {table.name}")
            cur.execute(table_ddl(table, "postgres"))
            data = rows.get(table.name, [])
            if not data:
                continue
            names = [c.name for c in table.columns]
            columns = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join(["%s"] * len(names))
            cur.executemany(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",
                [tuple(r.get(n) for n in names) for r in data],
            )
