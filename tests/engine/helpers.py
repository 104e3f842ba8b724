"""Small registries for engine tests: Python rows -> Arrow -> DuckDB tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from amnesty.decree import ir
from amnesty.decree.model import Clause, Decree, Scope, Source, Undertaking
from amnesty.registry.profiles import Profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR

ARROW = {
    VARCHAR: pa.string(),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
    DATE: pa.date32(),
    DOUBLE: pa.float64(),
}

Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def arrow_tables(rows: Rows, profile: Profile) -> dict[str, pa.Table]:
    out = {}
    for table in profile.tables():
        schema = pa.schema([(c.name, ARROW[c.type]) for c in table.columns])
        data = rows.get(table.name, [])
        out[table.name] = pa.Table.from_pylist(
            [{c: r.get(c) for c in schema.names} for r in data], schema=schema
        )
    return out


def load(conn: Any, rows: Rows, profile: Profile) -> None:
    """Replace the registry tables of a DuckDB connection with ``rows``."""
    for name, table in arrow_tables(rows, profile).items():
        conn.register("_incoming", table)
        conn.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        conn.unregister("_incoming")


def fact(name: str, type: ir.Type = "string") -> ir.Fact:
    return ir.Fact(name=name, type=type)


def s(value: str) -> ir.Literal:
    return ir.Literal(value=value, type="string")


def n(value: int) -> ir.Literal:
    return ir.Literal(value=value, type="int")


def clause(
    cid: str,
    kind: str,
    predicate: ir.Expr,
    relief: str | None = None,
    basis: str = "source",
    if_empty: bool | None = None,
) -> Clause:
    if kind == "grant" and relief is None:
        relief = "release"
    return Clause(
        id=cid,
        kind=kind,
        predicate=predicate,
        text=f"text of {cid}",  # type: ignore[arg-type]
        source=Source("S-1", basis=basis),
        relief=relief,  # type: ignore[arg-type]
        if_empty=if_empty,
    )


def decree(
    clauses: Sequence[Clause],
    as_of: dt.date = dt.date(2015, 10, 8),
    scope: Scope | None = None,
    undertakings: Sequence[Undertaking] = (),
    jurisdiction: str = "kp-2015",
    **kw: Any,
) -> Decree:
    return Decree(
        id="test-decree",
        title="Test",
        jurisdiction=jurisdiction,
        occasion="test",
        authority="test",
        signed=None,
        as_of=as_of,
        execution_window=None,
        scope=scope or Scope(),
        clauses=tuple(clauses),
        undertakings=tuple(undertakings),
        **kw,
    )


def person(
    pid: str,
    birth: dt.date | None = dt.date(1970, 1, 1),
    precision: str | None = "day",
    facility: str | None = "F1",
    authority: str | None = "MPS",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "person_id": pid,
        "name": pid,
        "name_romanised": pid,
        "sex": kw.pop("sex", "M"),
        "birth_date": birth,
        "birth_precision": precision if birth else None,
        "citizenship": "PRK",
        "facility_id": facility,
        "custody_authority": authority,
        **kw,
    }


def admission(
    pid: str,
    when: dt.date = dt.date(2010, 1, 1),
    eid: str | None = None,
    etype: str = "admission",
    **kw: Any,
) -> dict[str, Any]:
    return {
        "event_id": eid or f"E-{pid}-{etype}-{when}",
        "person_id": pid,
        "event_type": etype,
        "event_date": when,
        **kw,
    }


BASE_PLACES: dict[str, list[dict[str, Any]]] = {
    "divisions": [
        {
            "division_id": "KP",
            "parent_id": None,
            "level": "country",
            "name": "KP",
            "name_romanised": "KP",
            "name_is_real": True,
        },
        {
            "division_id": "P1",
            "parent_id": "KP",
            "level": "province",
            "name": "P1",
            "name_romanised": "P1",
            "name_is_real": True,
        },
        {
            "division_id": "C1",
            "parent_id": "P1",
            "level": "county",
            "name": "C1",
            "name_romanised": "C1",
            "name_is_real": True,
        },
    ],
    "facilities": [
        {
            "facility_id": "F1",
            "name": "F1",
            "name_romanised": "F1",
            "facility_type": "penitentiary",
            "authority": "MPS",
            "division_id": "C1",
        },
        {
            "facility_id": "F2",
            "name": "F2",
            "name_romanised": "F2",
            "facility_type": "political_prison_camp",
            "authority": "MSS",
            "division_id": "P1",
        },
    ],
    "offences": [
        {
            "offence_code": "T1",
            "title": "theft",
            "title_romanised": "theft",
            "category": "theft",
            "gravity": "medium",
            "intent": "intentional",
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": None,
        },
        {
            "offence_code": "P1",
            "title": "pol",
            "title_romanised": "pol",
            "category": "political",
            "gravity": None,
            "intent": None,
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": dt.date(2012, 1, 1),
        },
    ],
}
