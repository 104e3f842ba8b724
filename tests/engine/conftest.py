"""Engine fixtures: one PostgreSQL connection for a whole module of Hypothesis examples.

Hypothesis runs many examples per test call, so a function-scoped database would be
shared across examples anyway; a module-scoped connection says so honestly. Each
example replaces the registry tables itself (``load_pg``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def pg_conn(pg_server: Any) -> Iterator[Any]:
    import psycopg

    url = pg_server.create_database("amnesty_engine")
    conn = psycopg.connect(url, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
        pg_server.drop_database(url)
