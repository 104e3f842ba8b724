"""Decree test tables: lawyer-editable YAML -> a tiny registry -> determinations.

A table (``decrees/tests/<decree-id>.yaml``) holds the places its persons are held
in, defaults shared by every person, and the cases. Each case is one person in
plain terms (birth date, sex, authority, facility, convictions by category, health,
events) and the outcome the law gives them, with the clauses that decide it.
Every case is decided twice, by the compiled engine on DuckDB and by the
reference interpreter, and both must give the expected answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from amnesty.decree import load
from amnesty.decree.model import Decree
from amnesty.registry.profiles import Profile, jurisdiction_profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR

ROOT = Path(__file__).resolve().parents[2]
DECREES = ROOT / "decrees"
TABLES = DECREES / "tests"
# Tables of language constructs that no shipped act uses yet: each beside its own decree
# (written for the test, not an act), named by ``decree_file``.
LANGUAGE_TABLES = Path(__file__).resolve().parent / "language"
_ARROW = {
    VARCHAR: pa.string(),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
    DATE: pa.date32(),
    DOUBLE: pa.float64(),
}
NOT_IN_POPULATION = "not_in_population"
CHECKED = ("grounds", "blocking", "referred")


@dataclass
class Case:
    name: str
    person_id: str
    as_of: dt.date | None
    expect: dict[str, Any]


@dataclass
class Table:
    """One YAML table, built into registry rows."""

    path: Path
    decree: Decree
    profile: Profile
    cases: list[Case]
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def months(value: Any) -> int:
    """``24``, ``"24 months"``, ``"2 years"`` -> months."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+)\s*(years?|months?)\s*", str(value))
    if not match:
        raise ValueError(f"term {value!r}: write a number of months, 'N months' or 'N years'")
    n = int(match.group(1))
    return n * 12 if match.group(2).startswith("year") else n


def birth(value: Any) -> tuple[dt.date | None, str | None]:
    """``1960-04-24`` (a date), ``"1960-04"`` or ``"1960"`` (partial) -> (first day, precision)."""
    if value is None:
        return None, None
    if isinstance(value, dt.date):
        return value, "day"
    text = str(value)
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 1, 1), "year"
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return dt.date(int(text[:4]), int(text[5:]), 1), "month"
    return dt.date.fromisoformat(text), "day"


def read_table(path: Path) -> Table:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "decree_file" in spec:
        decree = load(path.parent / spec["decree_file"])
    else:
        decree = load(DECREES / f"{spec['decree']}.toml")
    # the decree's own profile: a shipped one, or a file beside it (decrees/profiles/)
    profile = jurisdiction_profile(decree.jurisdiction, decree.source_path)
    table = Table(path, decree, profile, [])
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in profile.tables()}
    top = profile.division_levels[0]
    level = profile.province_levels[0] if profile.province_levels else profile.division_levels[-1]
    rows["divisions"].append(_division("C", None, top))
    for place in spec.get("facilities", []):
        province = place.get("province", "P1")
        if not any(d["division_id"] == province for d in rows["divisions"]):
            rows["divisions"].append(_division(province, "C", level))
        facility = {
            "facility_id": place["id"],
            "name": place["id"],
            "name_romanised": place["id"],
            "facility_type": place["type"],
            "authority": place.get("authority", profile.authorities[0]),
            "division_id": province,
        }
        for attr in profile.facility_attributes:
            facility[attr.name] = place.get(attr.name)
        rows["facilities"].append(facility)
    defaults = spec.get("defaults", {})
    for i, case in enumerate(spec["cases"], start=1):
        pid = f"P{i:03d}"
        person = {**defaults.get("person", {}), **case["person"]}
        _person(rows, profile, pid, person, defaults.get("conviction", {}), decree.as_of)
        # a decree in parts is evaluated a part at a time, on the part's own as-of date
        as_of = case.get("as_of") or (decree.part(case["part"]).as_of if "part" in case else None)
        table.cases.append(Case(case["name"], pid, as_of, dict(case["expect"])))
    table.rows = rows
    return table


def _division(did: str, parent: str | None, level: str) -> dict[str, Any]:
    return {
        "division_id": did,
        "parent_id": parent,
        "level": level,
        "name": did,
        "name_romanised": did,
        "name_is_real": False,
    }


def _person(
    rows: dict[str, list[dict[str, Any]]],
    profile: Profile,
    pid: str,
    spec: Mapping[str, Any],
    conviction_defaults: Mapping[str, Any],
    as_of: dt.date,
) -> None:
    born, precision = birth(spec.get("born"))
    person: dict[str, Any] = {
        "person_id": pid,
        "name": pid,
        "name_romanised": pid,
        "sex": spec.get("sex"),
        "birth_date": born,
        "birth_precision": precision,
        "citizenship": spec.get("citizenship"),
        "facility_id": spec.get("facility"),
        "custody_authority": spec.get("authority"),
    }
    for attr in profile.person_attributes:
        person[attr.name] = spec.get(attr.name)
    rows["persons"].append(person)
    starts = []
    for j, given in enumerate(spec.get("convictions", []), start=1):
        c = {**conviction_defaults, **given}
        offence_keys = (
            "category",
            "gravity",
            "intent",
            *(a.name for a in profile.offence_attributes),
        )
        code = "/".join(str(c.get(k) or "-") for k in offence_keys)
        if not any(o["offence_code"] == code for o in rows["offences"]):
            offence = {
                "offence_code": code,
                "title": code,
                "title_romanised": code,
                "category": c["category"],
                "gravity": c.get("gravity"),
                "intent": c.get("intent"),
                "valid_from": dt.date(1950, 1, 1),
                "valid_to": None,
            }
            for attr in profile.offence_attributes:
                offence[attr.name] = c.get(attr.name)
            rows["offences"].append(offence)
        kind = c.get("kind", "term")
        # A start or offence date may be partial ("2013-05", "2013"), as ``born`` may.
        start, start_precision = birth(c["start"])
        offence_date, offence_precision = birth(c.get("offence_date"))
        row: dict[str, Any] = {
            "conviction_id": f"{pid}-C{j}",
            "person_id": pid,
            "offence_code": code,
            "offence_date": offence_date,
            "offence_date_precision": offence_precision,
            "sentence_kind": kind,
            # ``term: null`` or ``start: null``: the registry did not record it.
            "term_months": None
            if kind in ("life", "death") or c["term"] is None
            else months(c["term"]),
            "start_date": start,
            "start_precision": start_precision,
            "aggregate_id": None,
        }
        for attr in profile.conviction_attributes:
            row[attr.name] = c.get(attr.name)
        rows["convictions"].append(row)
        if start is not None:
            starts.append(start)
    admitted = spec.get("admitted") or (min(starts) if starts else as_of - dt.timedelta(days=30))
    events = [{"type": "admission", "date": admitted}, *spec.get("events", [])]
    for k, e in enumerate(events, start=1):
        rows["events"].append(
            {
                "event_id": f"{pid}-E{k}",
                "person_id": pid,
                "event_type": e["type"],
                "event_date": e["date"],
                "facility_id": spec.get("facility") if e["type"] == "admission" else None,
                "country": e.get("country"),
                "decree_id": e.get("decree"),
            }
        )
    health = spec.get("health")
    if health is not None:
        rows["health_assessments"].append(
            {
                "assessment_id": f"{pid}-H1",
                "person_id": pid,
                "assessed_on": health.get("on", as_of - dt.timedelta(days=30)),
                "severity": health.get("severity"),
                "able_to_work": health.get("able_to_work"),
            }
        )


def registry(table: Table) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the table's registry."""
    conn = duckdb.connect(":memory:")
    for t in table.profile.tables():
        schema = pa.schema([(c.name, _ARROW[c.type]) for c in t.columns])
        data = [{c: r.get(c) for c in schema.names} for r in table.rows[t.name]]
        conn.register("_rows", pa.Table.from_pylist(data, schema=schema))
        conn.execute(f"CREATE TABLE {t.name} AS SELECT * FROM _rows")
        conn.unregister("_rows")
    return conn


def decide_with_engine(table: Table, as_of: dt.date | None) -> dict[str, dict[str, Any]]:
    from amnesty.engine import evaluate

    conn = registry(table)
    try:
        rows = evaluate(table.decree, conn, as_of=as_of).determinations.to_pylist()
    finally:
        conn.close()
    return {r["person_id"]: r for r in rows}


def decide_with_interpreter(table: Table, as_of: dt.date | None) -> dict[str, dict[str, Any]]:
    from amnesty.compile.interpreter import interpret

    return dict(interpret(table.decree, table.rows, table.profile, as_of=as_of).determinations)


def mismatches(case: Case, row: dict[str, Any] | None) -> list[str]:
    """What differs between the expected outcome and a determination row."""
    expect = case.expect
    if expect["outcome"] == NOT_IN_POPULATION:
        return [] if row is None else [f"expected not in the population, got {row['outcome']}"]
    if row is None:
        return ["the person is not in the population"]
    out = []
    if row["outcome"] != expect["outcome"]:
        out.append(f"outcome: expected {expect['outcome']}, got {row['outcome']}")
    if "relief" in expect and row["relief"] != expect["relief"]:
        out.append(f"relief: expected {expect['relief']}, got {row['relief']}")
    for key in CHECKED:
        want, got = sorted(expect.get(key) or []), sorted(row.get(key) or [])
        if want != got:
            out.append(f"{key}: expected {want}, got {got}")
    if "unknown" in expect:
        want = sorted(expect["unknown"] or [])
        got = sorted(u["clause"] for u in row.get("unknown") or [])
        if want != got:
            out.append(f"unknown: expected {want}, got {got}")
    for clause, facts in (expect.get("missing") or {}).items():
        named = {u["clause"]: sorted(u["missing"]) for u in row.get("unknown") or []}
        if named.get(clause) != sorted(facts):
            out.append(f"missing for {clause}: expected {sorted(facts)}, got {named.get(clause)}")
    if "undertakings" in expect:
        want, got = sorted(expect["undertakings"] or []), sorted(row.get("undertakings") or [])
        if want != got:
            out.append(f"undertakings: expected {want}, got {got}")
    return out
