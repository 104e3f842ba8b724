"""The suite's PostgreSQL is a real server with fresh databases per test."""

from __future__ import annotations

import psycopg
import pytest


@pytest.mark.postgres
def test_each_test_gets_its_own_empty_database(pg_db: str, pg_url: str) -> None:
    assert pg_db != pg_url
    with psycopg.connect(pg_db) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        assert conn.execute("SHOW server_version").fetchone() is not None
