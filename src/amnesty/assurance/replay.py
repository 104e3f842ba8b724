"""Replay a witness through the engine: does the compiled SQL really decide the person so?

Every counterexample ``prove`` prints is checked this way before it is shown:
the witness rows go into a throwaway in-memory DuckDB, ``engine.evaluate``
decides them, and the assertion is evaluated (by the reference interpreter's
evaluator) over the person's facts and the engine's determination.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from amnesty.assurance.witness import Rows, arrow_table
from amnesty.backends.duckdb import scratch
from amnesty.compile.interpreter import Evaluator, Registry, person_view
from amnesty.decree.model import Assertion, Decree
from amnesty.registry.profiles import Profile, jurisdiction_profile


def load_rows(conn: Any, rows: Rows, profile: Profile) -> None:
    """Replace the registry tables of a DuckDB connection with ``rows``."""
    for table in profile.tables():
        conn.register("_witness", arrow_table(table, rows))
        conn.execute(f"CREATE OR REPLACE TABLE {table.name} AS SELECT * FROM _witness")
        conn.unregister("_witness")


def engine_determinations(
    decree: Decree, rows: Rows, profile: Profile | None = None, as_of: dt.date | None = None
) -> dict[str, dict[str, Any]]:
    """The engine's determination of every person of ``rows``, by person id."""
    from amnesty.engine import evaluate

    prof = profile or jurisdiction_profile(decree.jurisdiction, decree.source_path)
    conn = scratch()
    try:
        load_rows(conn, rows, prof)
        result = evaluate(decree, conn, as_of=as_of, profile=prof)
        return {r["person_id"]: r for r in result.determinations.to_pylist()}
    finally:
        conn.close()


def determination_facts(decree: Decree, row: dict[str, Any]) -> dict[str, Any]:
    """A determination row as the names an assertion uses."""
    unknown = {u["clause"] for u in row.get("unknown") or ()}
    grounds, blocking = set(row.get("grounds") or ()), set(row.get("blocking") or ())
    referred = set(row.get("referred") or ())
    facts: dict[str, Any] = {
        "outcome": row["outcome"],
        "relief": row.get("relief"),
        "excluded": bool(blocking),
    }
    for c in decree.clauses:
        if c.id in unknown:
            value: bool | None = None
        elif c.kind == "grant":
            value = c.id in grounds
        elif c.kind == "exclude":
            value = c.id in blocking
        elif c.kind == "require":
            value = c.id not in blocking
        else:
            value = c.id in referred
        facts[f"clause.{c.id}"] = value
        facts[f"ground.{c.id}"] = c.id in grounds
        facts[f"blocking.{c.id}"] = c.id in blocking
        facts[f"referred.{c.id}"] = c.id in referred
    return facts


def assertion_value(
    decree: Decree,
    assertion: Assertion,
    rows: Rows,
    person_id: str,
    determination: dict[str, Any],
    profile: Profile | None = None,
    as_of: dt.date | None = None,
) -> bool | None:
    """The assertion's three-valued value for one person of ``rows``."""
    prof = profile or jurisdiction_profile(decree.jurisdiction, decree.source_path)
    on = as_of or decree.as_of
    person = next(p for p in rows["persons"] if p["person_id"] == person_id)
    view, _, _ = person_view(person, Registry(rows), on, prof)
    view.facts.update(determination_facts(decree, determination))
    value: bool | None = Evaluator(on, view).ev(assertion.predicate)
    return value


def violated(value: bool | None, assertion: Assertion) -> bool:
    return value is True if assertion.kind == "never" else value is False
