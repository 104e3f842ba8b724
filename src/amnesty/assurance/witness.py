"""A solver model -> registry rows: the counterexample person as a registry folder.

The rows are written as one Parquet file per table plus ``manifest.json``
naming the profile, which ``amnesty registry import`` accepts, so that
``amnesty explain`` replays the person through the engine. Texts the solver
invented (a facility id no clause names) get readable placeholders.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import z3

from amnesty.assurance.person import Item, SymbolicPerson
from amnesty.assurance.values import TV, Day, Num, Value
from amnesty.registry.generators.common import ARROW_TYPES
from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import Table

PERSON_ID = "WITNESS-1"
Rows = dict[str, list[dict[str, Any]]]


class _Reader:
    def __init__(self, person: SymbolicPerson, model: z3.ModelRef) -> None:
        self.person = person
        self.model = model

    def true(self, b: z3.BoolRef) -> bool:
        return z3.is_true(self.model.eval(b, model_completion=True))

    def integer(self, e: z3.ArithRef) -> int:
        return int(self.model.eval(e, model_completion=True).as_long())

    def known(self, v: Value) -> bool:
        return self.true(v.known)  # type: ignore[union-attr]

    def text(self, v: Value, placeholder: str) -> str | None:
        assert isinstance(v, Num)
        if not self.known(v):
            return None
        code = self.integer(v.value)
        found = self.person.strings.text(code)
        return found if found is not None else f"{placeholder}{code}"

    def date(self, v: Value) -> dt.date | None:
        assert isinstance(v, Day)
        return dt.date.fromordinal(self.integer(v.ordinal)) if self.known(v) else None

    def boolean(self, v: Value) -> bool | None:
        assert isinstance(v, TV)
        return True if self.true(v.t) else (False if self.true(v.f) else None)

    def number(self, v: Value) -> int | None:
        assert isinstance(v, Num)
        return self.integer(v.value) if self.known(v) else None

    def attribute(self, facts: dict[str, Value], name: str, type_: str) -> Any:
        v = facts[name]
        if type_ == "bool":
            return self.boolean(v)
        if type_ == "string":
            return self.text(v, "V")
        if type_ == "date":
            return self.date(v)
        return self.number(v)


def witness_rows(person: SymbolicPerson, model: z3.ModelRef) -> Rows:
    """The registry rows of the person the model describes."""
    r = _Reader(person, model)
    f = person.facts
    pid = r.text(f["person.id"], "WITNESS-") or PERSON_ID
    rows: Rows = {t: [] for t in ("divisions", "facilities", "offences", "persons")}
    rows |= {"convictions": [], "health_assessments": [], "events": []}
    facility_id = r.text(f["facility.id"], "FAC-") if r.true(person.held) else None
    if facility_id is not None:
        chain = [d for a in person.ancestors if (d := r.text(a, "DIV-")) is not None]
        division = chain[0]
        province = r.text(f["facility.province"], "DIV-")
        # Levels from the profile: a province level for the province, a level that is not
        # one for every other division of the chain (so that the province is the first).
        prof = person.profile
        as_province = prof.province_levels[0] if prof.province_levels else None
        others = [lv for lv in prof.division_levels if lv not in prof.province_levels]
        plain = others[-1] if others else prof.division_levels[0]
        for i, did in enumerate(chain):
            parent = chain[i + 1] if i + 1 < len(chain) else None
            level = as_province if did == province and as_province else plain
            rows["divisions"].append(_division(did, parent, level))
        rows["facilities"].append(
            {
                "facility_id": facility_id,
                "name": facility_id,
                "name_romanised": facility_id,
                "facility_type": r.text(f["facility.type"], ""),
                "authority": r.text(f["facility.authority"], "AUTH-"),
                "division_id": division,
                **{
                    col.name: r.attribute(f, n, person.catalogue[n].type)
                    for col in person.profile.facility_attributes
                    for n in (f"facility.{col.name}",)
                },
            }
        )
    birth = r.date(person.birth)
    precision = ("day", "month", "year")[r.integer(person.birth_precision)]
    person_row: dict[str, Any] = {
        "person_id": pid,
        "name": "Witness",
        "name_romanised": "Witness",
        "sex": r.text(f["person.sex"], ""),
        "birth_date": birth,
        "birth_precision": precision if birth else None,
        "citizenship": _country(r.text(f["person.citizenship"], "")),
        "facility_id": facility_id,
        "custody_authority": r.text(f["person.authority"], "AUTH-"),
    }
    for col in person.profile.person_attributes:
        fact = person.catalogue[f"person.{col.name}"]
        person_row[col.name] = r.attribute(f, fact.name, fact.type)
    rows["persons"].append(person_row)
    if r.true(person.assessed):
        rows["health_assessments"].append(
            {
                "assessment_id": f"{pid}-H1",
                "person_id": pid,
                "assessed_on": r.date(f["health.assessed_on"]),
                "severity": r.text(f["health.severity"], ""),
                "able_to_work": r.boolean(f["health.able_to_work"]),
            }
        )
    offences: dict[str, dict[str, Any]] = {}
    for c in person.convictions:
        if r.true(c.present):
            rows["convictions"].append(_conviction(r, person, c, pid, offences))
    rows["offences"] = list(offences.values())
    for i, e in enumerate(person.events):
        if r.true(e.present):
            event = _event(r, e, pid, i)
            for col in person.profile.event_attributes:
                n = f"event.{col.name}"
                event[col.name] = r.attribute(e.facts, n, person.catalogue[n].type)
            rows["events"].append(event)
    return rows


def _division(did: str, parent: str | None, level: str) -> dict[str, Any]:
    return {
        "division_id": did,
        "parent_id": parent,
        "level": level,
        "name": did,
        "name_romanised": did,
        "name_is_real": False,
    }


def _country(text: str | None) -> str | None:
    """Invented countries become three-letter codes (the registry stores alpha-3)."""
    if text is None or (len(text) == 3 and text.isupper()):
        return text
    n = sum(ord(ch) for ch in text)
    return "Q" + chr(65 + n % 26) + chr(65 + (n // 26) % 26)


def _conviction(
    r: _Reader, person: SymbolicPerson, c: Item, pid: str, offences: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    f = c.facts
    code = r.text(f["conviction.offence_code"], "OFF-") or "OFF"
    if code not in offences:
        in_force = r.boolean(f["conviction.code_in_force"])
        offences[code] = {
            "offence_code": code,
            "title": code,
            "title_romanised": code,
            "category": r.text(f["conviction.category"], ""),
            "gravity": r.text(f["conviction.gravity"], ""),
            "intent": r.text(f["conviction.intent"], ""),
            "valid_from": dt.date(1900, 1, 1),
            "valid_to": None if in_force else person.as_of - dt.timedelta(days=1),
            **{
                col.name: r.attribute(f, n, person.catalogue[n].type)
                for col in person.profile.offence_attributes
                for n in (f"conviction.{col.name}",)
            },
        }
    kind = r.text(f["conviction.kind"], "")
    row: dict[str, Any] = {
        "conviction_id": r.text(f["conviction.id"], f"{pid}-C"),
        "person_id": pid,
        "offence_code": code,
        "offence_date": r.date(f["conviction.offence_date"]),
        "sentence_kind": kind,
        "term_months": r.number(f["conviction.term_months"]),
        "start_date": r.date(f["conviction.start"]),
        "aggregate_id": None,
    }
    for col in person.profile.conviction_attributes:
        fact = person.catalogue[f"conviction.{col.name}"]
        row[col.name] = r.attribute(f, fact.name, fact.type)
    return row


def _event(r: _Reader, e: Item, pid: str, i: int) -> dict[str, Any]:
    f = e.facts
    return {
        "event_id": f"{pid}-E{i + 1:02d}",  # in slot order: ties on a date keep it
        "person_id": pid,
        "event_type": r.text(f["event.type"], ""),
        "event_date": r.date(f["event.date"]),
        "facility_id": None,
        "country": _country(r.text(f["event.country"], "")),
        "decree_id": r.text(f["event.decree"], "DECREE-"),
        "run_id": None,
        "new_sentence_kind": None,
        "new_end_date": r.date(f["_new_end"]),
        "note": None,
    }


def write_registry(rows: Rows, folder: str | Path, profile: str) -> Path:
    """Write ``rows`` as a registry folder ``amnesty registry import`` accepts:
    one Parquet file per table (typed by the profile's schema) and ``manifest.json``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps({"profile": profile}) + "\n", encoding="utf-8")
    for table in get_profile(profile).tables():
        pq.write_table(arrow_table(table, rows), out / f"{table.name}.parquet")
    return out


def arrow_table(table: Table, rows: Rows) -> pa.Table:
    """``rows[table.name]`` as an Arrow table of the schema's types."""
    schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in table.columns])
    data = [{c: r.get(c) for c in schema.names} for r in rows.get(table.name, [])]
    return pa.Table.from_pylist(data, schema=schema)
