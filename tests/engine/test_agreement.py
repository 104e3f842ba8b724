"""The compiled engine and the reference interpreter agree on every field of
every person, population membership and left-out counts included."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from amnesty.compile.interpreter import interpret
from amnesty.decree.model import Decree
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile

from .helpers import load
from .strategies import decrees, registries

PROFILE = get_profile("ru-2015")
CONN = duckdb.connect()


def check_agreement(conn: Any, decree: Decree, rows: dict[str, list[dict[str, Any]]]) -> None:
    expected = interpret(decree, rows, PROFILE)
    ev = evaluate(decree, conn, profile=PROFILE)
    got = {r["person_id"]: r for r in ev.determinations.to_pylist()}
    assert set(got) == set(expected.determinations), ev.sql
    for pid, want in expected.determinations.items():
        assert got[pid] == want, (pid, decree, ev.sql)
    left = Counter(
        {(r["reason"], r["decree_id"], r["run_id"]): r["persons"] for r in ev.left_out.rows}
    )
    assert left == expected.left_out


@settings(
    max_examples=int(os.environ.get("AGREEMENT_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(decree=decrees(), rows=registries())
def test_engine_agrees_with_interpreter_on_duckdb(decree: Decree, rows: dict[str, Any]) -> None:
    load(CONN, rows, PROFILE)
    check_agreement(CONN, decree, rows)


@pytest.mark.postgres
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(decree=decrees(), rows=registries())
def test_engine_agrees_with_interpreter_on_postgres(
    pg_conn: Any, decree: Decree, rows: dict[str, Any]
) -> None:
    from .pg import load_pg

    load_pg(pg_conn, rows, PROFILE)
    check_agreement(pg_conn, decree, rows)
