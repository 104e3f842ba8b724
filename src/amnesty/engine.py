"""The library's front: ``evaluate`` a decree on a registry, ``explain`` one person.

    ev = evaluate(decree, duckdb.connect("amnesty.duckdb"))
    ev.determinations      # pyarrow Table, one row per person of the population
    ev.left_out            # who was not under sentence on the as-of date, and why
    ev.summary()           # counts by outcome, relief, ground, facility type, province
    ev.sql                 # the compiled query

The as-of date defaults to the decree's, never to today's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from amnesty.backends.base import Backend
from amnesty.compile.sql import CompiledDecree, compile_decree
from amnesty.compile.sql.plans import PersonsPlan
from amnesty.decree.model import Decree
from amnesty.errors import EngineError
from amnesty.registry.profiles import Profile

UNKNOWN_TYPE = pa.list_(pa.struct([("clause", pa.string()), ("missing", pa.list_(pa.string()))]))
DETERMINATION_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("facility_id", pa.string()),
        ("outcome", pa.string()),
        ("relief", pa.string()),
        ("grounds", pa.list_(pa.string())),
        ("blocking", pa.list_(pa.string())),
        ("referred", pa.list_(pa.string())),
        ("unknown", UNKNOWN_TYPE),
        ("undertakings", pa.list_(pa.string())),
    ]
)
LIST_COLUMNS = ("grounds", "blocking", "referred", "unknown", "undertakings")
# A decree that names bodies ([bodies], docs/semantics.md) adds the deciding body.
BODY_SCHEMA = DETERMINATION_SCHEMA.append(pa.field("applied_by", pa.string()))


def schema_of(columns: Sequence[str]) -> pa.Schema:
    return BODY_SCHEMA if "applied_by" in columns else DETERMINATION_SCHEMA


def as_backend(conn: Any) -> Backend:
    """A Backend as is; a DuckDB connection wrapped; a psycopg connection wrapped."""
    if isinstance(conn, Backend):
        return conn
    module = type(conn).__module__
    if module.startswith("duckdb") or module.startswith("_duckdb"):
        from amnesty.backends.duckdb import DuckDBBackend

        return DuckDBBackend(conn)
    if module.startswith("psycopg"):
        from amnesty.backends.postgres import PostgresBackend

        return PostgresBackend(conn)
    raise EngineError(
        f"cannot evaluate on {type(conn).__name__}: expected a DuckDB connection "
        "or an amnesty backend"
    )


@dataclass(frozen=True)
class LeftOut:
    """Persons of the registry not under sentence on the as-of date."""

    by_reason: dict[str, int]
    by_decree: dict[str, int]  # releasing decree id ("unrecorded" when the event names none)
    rows: list[dict[str, Any]] = field(default_factory=list)  # reason, decree_id, run_id, persons

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


@dataclass
class Evaluation:
    decree: Decree
    as_of: dt.date
    compiled: CompiledDecree
    determinations: pa.Table
    left_out: LeftOut
    places: dict[str, tuple[str | None, str | None]]  # facility -> (type, province name)

    @property
    def sql(self) -> str:
        return self.compiled.sql

    def summary(self) -> dict[str, Any]:
        """Counts over the determinations, aggregated set-based (DuckDB over Arrow)."""
        assumed = sorted({c.id for c in self.decree.clauses if c.source.basis == "assumption"})
        places = pa.table(
            {
                "facility_id": list(self.places),
                "facility_type": [t for t, _ in self.places.values()],
                "province": [prov for _, prov in self.places.values()],
            },
            schema=_PLACES_SCHEMA,
        )
        con = duckdb.connect()
        try:
            d = self.determinations.select(["facility_id", "outcome", "relief", "grounds"])
            positions = pa.array(np.arange(d.num_rows, dtype=np.int64))
            con.register("amnesty_d", d.append_column("amnesty_pos", positions))
            con.register("amnesty_places", places)
            con.register("amnesty_assumed", pa.table({"clause_id": pa.array(assumed, pa.string())}))
            rows = {name: con.sql(sql).fetchall() for name, sql in _SUMMARY_SQL.items()}
        finally:
            con.close()
        outcomes = dict(rows["by_outcome"])
        reliefs = dict(rows["by_relief"])
        grounds = dict(rows["by_ground"])
        by_type: Counter[str] = Counter()
        by_province: Counter[str] = Counter()
        for ftype, province, outcome, n in rows["by_place"]:
            by_type[f"{ftype or 'unrecorded'}/{outcome}"] += n
            by_province[f"{province or 'unrecorded'}/{outcome}"] += n
        return {
            "decree": self.decree.id,
            "as_of": self.as_of.isoformat(),
            **({"part": self.decree.part_id} if self.decree.part_id else {}),
            # Which jurisdiction's profile the registry was read under, by content: the
            # run's audit event carries it, so a later change to the profile file shows.
            "profile": {"name": self.compiled.profile, "hash": self.compiled.profile_hash},
            "persons": self.determinations.num_rows,
            "by_outcome": dict(sorted(outcomes.items())),
            "by_relief": dict(sorted(reliefs.items())),
            "by_ground": dict(sorted(grounds.items())),
            "by_facility_type": _nested(by_type),
            "by_province": _nested(by_province),
            "left_out": {
                "total": self.left_out.total,
                "by_reason": self.left_out.by_reason,
                "by_decree": self.left_out.by_decree,
            },
            "resting_only_on_assumptions": rows["only_assumed"][0][0],
        }


_PLACES_SCHEMA = pa.schema(
    [("facility_id", pa.string()), ("facility_type", pa.string()), ("province", pa.string())]
)
# One small result per count; a facility missing from places (or a null facility_id,
# looked up as "") counts as unrecorded, as an empty type or province does.
_SUMMARY_SQL = {
    "by_outcome": "SELECT outcome, count(*) FROM amnesty_d GROUP BY outcome",
    "by_relief": (
        "SELECT relief, count(*) FROM amnesty_d WHERE outcome = 'eligible' GROUP BY relief"
    ),
    "by_ground": (
        "SELECT g, count(*) FROM (SELECT unnest(grounds) AS g FROM amnesty_d) GROUP BY g"
    ),
    "by_place": """
        SELECT p.facility_type, p.province, d.outcome, count(*)
        FROM amnesty_d AS d
        LEFT JOIN amnesty_places AS p ON p.facility_id = coalesce(d.facility_id, '')
        GROUP BY ALL
    """,
    # Eligible on grounds (at least one) that are all assumptions; a null ground is not one.
    "only_assumed": """
        SELECT count(*) FROM (
            SELECT bool_and(g IS NOT NULL AND g IN (SELECT clause_id FROM amnesty_assumed)) AS a
            FROM (SELECT amnesty_pos, unnest(grounds) AS g FROM amnesty_d
                  WHERE outcome = 'eligible')
            GROUP BY amnesty_pos
        ) WHERE a
    """,
}


def _nested(counts: Counter[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for key, n in sorted(counts.items()):
        group, outcome = key.rsplit("/", 1)
        out.setdefault(group, {})[outcome] = n
    return out


def _decode_json_lists(table: pa.Table) -> pa.Table:
    """PostgreSQL returns list columns as JSON/arrays; normalise to the Arrow schema."""
    data = table.to_pydict()
    for col in LIST_COLUMNS:
        data[col] = [json.loads(v) if isinstance(v, str) else (v or []) for v in data[col]]
    schema = schema_of(table.column_names)
    return pa.Table.from_pydict({n: data[n] for n in schema.names}, schema=schema)


def run_compiled(backend: Backend, compiled: CompiledDecree) -> pa.Table:
    return _determinations(backend.fetch_arrow(compiled.sql), compiled.lists_as_json)


def run_plan(backend: Backend, plan: PersonsPlan, person_ids: Sequence[str]) -> pa.Table:
    """The determinations of those of ``person_ids`` in the decree's population, by a
    plan compiled and rendered once for any persons (nothing is compiled here)."""
    table = backend.fetch_arrow(plan.sql, plan.parameters(person_ids))
    return _determinations(table, plan.compiled.lists_as_json)


def _determinations(table: pa.Table, lists_as_json: bool) -> pa.Table:
    if lists_as_json:
        return _decode_json_lists(table)
    schema = schema_of(table.column_names)
    try:
        return table.select(list(schema.names)).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _decode_json_lists(table)


def evaluate(
    decree: Decree,
    conn: Any,
    as_of: dt.date | None = None,
    person_ids: Sequence[str] | None = None,
    profile: Profile | None = None,
    compiled: CompiledDecree | None = None,
) -> Evaluation:
    """Decide every person under sentence on ``as_of`` (default: the decree's).

    ``compiled``: the decree already compiled for these arguments (an explanation's
    prepared plan, :class:`amnesty.explanation.ExplainPlan`); compiled here if None.
    """
    backend = as_backend(conn)
    if decree.parts:  # a decree in parts: the part whose reference date as_of is
        decree = decree.evaluated_on(as_of)
    as_of = as_of or decree.as_of
    if compiled is None:
        compiled = compile_decree(
            decree, backend.dialect, as_of=as_of, profile=profile, person_ids=person_ids
        )
    determinations = run_compiled(backend, compiled)
    left_rows = backend.fetch_arrow(compiled.left_out_sql).to_pylist()
    by_reason: Counter[str] = Counter()
    by_decree: Counter[str] = Counter()
    for r in left_rows:
        by_reason[r["reason"]] += int(r["persons"])
        if r["reason"] in ("released", "temporarily released"):
            by_decree[r["decree_id"] or "unrecorded"] += int(r["persons"])
    places = _places(backend, profile or profile_of(decree))
    return Evaluation(
        decree,
        as_of,
        compiled,
        determinations,
        LeftOut(dict(by_reason), dict(by_decree), left_rows),
        places,
    )


def profile_of(decree: Decree) -> Profile:
    """The profile a decree is compiled against when the caller names none."""
    from amnesty.compile.sql import profile_for

    return profile_for(decree)


def _places(backend: Backend, profile: Profile) -> dict[str, tuple[str | None, str | None]]:
    """Facility -> (type, province name), for the summary (a small table)."""
    compiled_places = compile_places(backend.dialect, profile)
    rows = backend.fetch_arrow(compiled_places).to_pylist()
    return {r["facility_id"]: (r["facility_type"], r["province"]) for r in rows}


def compile_places(dialect: str, profile: Profile | None = None) -> str:
    """Each facility's type and province (by the profile's province levels; core's
    when none is given)."""
    from sqlglot import exp

    from amnesty.compile.sql.dialect import get_dialect
    from amnesty.compile.sql.registry import RegistryCTEs
    from amnesty.registry.profiles import get_profile

    reg = RegistryCTEs(
        get_dialect(dialect),
        dt.date(2000, 1, 1),
        replace(profile, facility_attributes=()) if profile is not None else get_profile("core"),
        None,  # type: ignore[arg-type]
        None,
    )
    sel = (
        exp.select(
            "pl.facility_id",
            "pl.facility_type",
            exp.alias_(
                exp.Coalesce(
                    this=exp.column("name_romanised", "d"),
                    expressions=[exp.column("province", "pl")],
                ),
                "province",
            ),
        )
        .from_("places AS pl")
        .join("divisions AS d", on="d.division_id = pl.province", join_type="left")
        .with_("places", as_=reg.places())
    )
    return sel.sql(dialect=dialect)


__all__ = ["DETERMINATION_SCHEMA", "Evaluation", "LeftOut", "as_backend", "evaluate"]
