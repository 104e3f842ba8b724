"""A throwaway PostgreSQL server for the bench, started exactly as the test suite
starts one: this reuses ``ThrowawayPostgres`` from ``tests/conftest.py``.

``AMNESTY_BENCH_PG`` (a ``postgresql://user@host:port`` server URL) points the bench
at an existing server instead. On the throwaway server, ``work_mem`` is raised for
the evaluation's sorts and hashes (``ALTER SYSTEM`` + reload; the test suite's
server has PostgreSQL's defaults).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _test_fixtures() -> ModuleType:
    import sys

    sys.path.insert(0, str(ROOT / "tests"))  # conftest.py imports its sibling helpers
    spec = importlib.util.spec_from_file_location(
        "amnesty_tests_conftest", ROOT / "tests" / "conftest.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("tests/conftest.py not found: the bench starts PostgreSQL with it")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Server:
    def __init__(self) -> None:
        self.base_url = os.environ.get("AMNESTY_BENCH_PG", "").rstrip("/")
        self.server: Any = None

    def start(self) -> str:
        if self.base_url:
            return self.base_url
        fixtures = _test_fixtures()
        bin_dir = fixtures._find_pg_bin()
        if bin_dir is None:
            raise SystemExit("no PostgreSQL binaries: install postgresql or set AMNESTY_BENCH_PG")
        self.server = fixtures.ThrowawayPostgres(bin_dir)
        self.server.start()
        self.base_url = self.server.base_url
        import psycopg

        with psycopg.connect(f"{self.base_url}/postgres", autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET work_mem = '256MB'")
            conn.execute("ALTER SYSTEM SET max_parallel_workers_per_gather = 2")
            conn.execute("SELECT pg_reload_conf()")
        return self.base_url

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"{self.base_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
