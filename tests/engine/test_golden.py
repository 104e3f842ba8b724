"""The compiled SQL of one small decree, per dialect, against golden files.

Refresh after an intended change:
``AMNESTY_UPDATE_GOLDEN=1 uv run pytest tests/engine/test_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from amnesty.compile.sql import compile_decree
from amnesty.decree import ir
from amnesty.registry.profiles import get_profile

from .helpers import clause, decree, fact, n, s

GOLDEN = Path(__file__).with_name("golden")


def small_decree():  # type: ignore[no-untyped-def]
    theft = ir.Quantifier(
        kind="any",
        collection="convictions",
        condition=ir.InSet(operand=fact("conviction.category"), values=(s("theft"),)),
    )
    return decree(
        [
            clause("g-theft", "grant", theft),
            clause(
                "g-age",
                "grant",
                ir.Compare(op=">=", left=fact("person.age", "int"), right=n(55)),
                relief="conditional_release",
            ),
            clause(
                "x-mss",
                "exclude",
                ir.Compare(op="=", left=fact("person.authority"), right=s("MSS")),
            ),
        ]
    )


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_compiled_sql_matches_golden(dialect: str) -> None:
    sql = compile_decree(small_decree(), dialect, profile=get_profile("kp-2015")).sql + "\n"
    path = GOLDEN / f"small-{dialect}.sql"
    if os.environ.get("AMNESTY_UPDATE_GOLDEN"):
        path.write_text(sql)
    assert sql == path.read_text()
