"""One database handle, one list of domain facts.

- Outside ``store/`` (and the per-database adapters of ``backends/``) no module
  asks whether the database is DuckDB or PostgreSQL to choose what to do: it
  asks the handle (:class:`amnesty.store.database.Database`).
- The constants that say who is in custody and what counts as a province exist
  once, in ``amnesty.registry.schema``; the compiler, the interpreter and the
  release re-check agree with them (they once disagreed: ``registry show`` put
  every ru-2015 person under province None, and the re-check counted a pardon
  as leaving custody while the engine did not).
"""

from __future__ import annotations

import ast
from pathlib import Path

from amnesty.registry import schema

SRC = Path(__file__).resolve().parents[1] / "src" / "amnesty"
ADAPTERS = ("store", "backends")
# Empty since the registry tables moved to Alembic (#8): the bulk loader lives in
# store/staging.py, the driver adapter in store/driver.py. A module must not join it.
NOT_YET: set[str] = set()


def _chooses_a_database(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "is_duckdb":
            lines.append(node.lineno)
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if isinstance(side, ast.Constant) and side.value in (
                    "duckdb", "postgres", "postgresql", "psycopg",
                ):  # fmt: skip
                    lines.append(node.lineno)
    return lines


def test_no_module_outside_the_store_chooses_by_database() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.split("/")[0] in ADAPTERS or relative in NOT_YET:
            continue
        for line in _chooses_a_database(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{relative}:{line}")
    assert found == [], "ask the Database handle instead: " + ", ".join(found)


def test_the_rule_catches_a_branch() -> None:
    assert _chooses_a_database(ast.parse("if url.is_duckdb:\n    pass\n")) == [1]
    assert _chooses_a_database(ast.parse("x = kind == 'postgres'\n")) == [1]


def test_custody_and_province_constants_are_the_ones_the_engine_uses() -> None:
    from amnesty.compile import interpreter
    from amnesty.compile.sql import registry as sql_registry

    assert set(sql_registry.STATUS_IN) == set(schema.CUSTODY_IN)
    assert set(sql_registry.STATUS_OUT) == set(schema.CUSTODY_OUT)
    assert set(interpreter.IN_TYPES) == set(schema.CUSTODY_IN)
    assert "pardon" not in schema.CUSTODY_OUT
    # Province levels are the profile's (SQL and interpreter read them from it); the
    # shipped profiles' are among the defaults a profile file gets when it names none.
    from amnesty.registry.profiles import get_profile

    for name in ("core", "kp-2015", "ru-2015"):
        assert set(get_profile(name).province_levels) <= set(schema.PROVINCE_LEVELS), name
    assert "federal_subject" in get_profile("ru-2015").province_levels
    assert set(schema.CUSTODY_EVENTS) <= set(schema.EVENT_TYPES)
