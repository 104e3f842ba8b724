"""A tiny hand-made registry for the import tests, written as Parquet, CSV or JSONL."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, Table

D = dt.date

_ARROW = {
    "VARCHAR": pa.string(),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
    DATE: pa.date32(),
    DOUBLE: pa.float64(),
}


def _division(i: str, parent: str | None, level: str) -> dict[str, Any]:
    return {
        "division_id": i,
        "parent_id": parent,
        "level": level,
        "name": f"이름 {i}",
        "name_romanised": f"Name {i}",
        "name_is_real": level != "county",
    }


def registry() -> dict[str, list[dict[str, Any]]]:
    """A valid kp-2015 registry: 2 provinces, 3 facilities, 4 persons."""
    return copy.deepcopy(
        {
            "divisions": [
                _division("KP", None, "country"),
                _division("P1", "KP", "province"),
                _division("SC", "KP", "special_city"),
                _division("C1", "P1", "county"),
            ],
            "facilities": [
                {
                    "facility_id": "F1",
                    "name": "교화소 1",
                    "name_romanised": "Kyohwaso 1",
                    "facility_type": "penitentiary",
                    "authority": "MPS",
                    "division_id": "C1",
                },
                {
                    "facility_id": "F2",
                    "name": "관리소 14",
                    "name_romanised": "Kwanliso 14",
                    "facility_type": "political_prison_camp",
                    "authority": "MSS",
                    "division_id": "P1",
                },
                {
                    "facility_id": "F3",
                    "name": "단련대",
                    "name_romanised": "Labour training centre",
                    "facility_type": "labour_training_centre",
                    "authority": "MPS",
                    "division_id": "SC",
                },
            ],
            "offences": [
                {
                    "offence_code": "T1",
                    "title": "절도",
                    "title_romanised": "Theft",
                    "category": "theft",
                    "gravity": "medium",
                    "intent": "intentional",
                    "valid_from": D(2000, 1, 1),
                    "valid_to": None,
                },
                {
                    "offence_code": "X9",
                    "title": "옛 조항",
                    "title_romanised": "Old article",
                    "category": "economic",
                    "gravity": None,
                    "intent": None,
                    "valid_from": D(1990, 1, 1),
                    "valid_to": D(2004, 12, 31),
                },
            ],
            "persons": [
                _person("P001", "F1", D(1970, 5, 1)),
                _person("P002", "F2", D(1980, 1, 1), precision="year"),
                _person("P003", "F3", None, precision=None),
                _person("P004", "F1", D(1990, 2, 28), sex=None),
            ],
            "convictions": [
                _conviction("C001", "P001", "T1", D(2010, 3, 1), D(2010, 6, 1)),
                _conviction("C002", "P001", "X9", D(2003, 3, 1), D(2003, 6, 1)),
                _conviction("C003", "P002", "T1", D(2012, 1, 1), D(2012, 5, 1)),
                _conviction("C004", "P004", "T1", None, D(2014, 1, 1)),
            ],
            "health_assessments": [
                {
                    "assessment_id": "H1",
                    "person_id": "P002",
                    "assessed_on": D(2015, 1, 1),
                    "severity": "severe",
                    "able_to_work": False,
                },
            ],
            "events": [
                _event("E1", "P001", "admission", D(2010, 6, 1), "F1"),
                _event("E2", "P002", "admission", D(2012, 5, 1), "F2"),
                _event("E3", "P003", "admission", D(2013, 1, 1), "F3"),
                _event("E4", "P004", "admission", D(2014, 1, 1), "F1", note=""),
            ],
        }
    )


def _person(
    pid: str,
    facility: str,
    birth: dt.date | None,
    precision: str | None = "day",
    sex: str | None = "M",
) -> dict[str, Any]:
    return {
        "person_id": pid,
        "name": f"사람 {pid}",
        "name_romanised": f"Person {pid}",
        "sex": sex,
        "birth_date": birth,
        "birth_precision": precision,
        "citizenship": "PRK",
        "facility_id": facility,
        "custody_authority": "MPS",
    }


def _conviction(
    cid: str, pid: str, code: str, offence: dt.date | None, start: dt.date
) -> dict[str, Any]:
    return {
        "conviction_id": cid,
        "person_id": pid,
        "offence_code": code,
        "offence_date": offence,
        "sentence_kind": "term",
        "term_months": 24,
        "start_date": start,
        "aggregate_id": None,
    }


def _event(
    eid: str, pid: str, kind: str, when: dt.date, facility: str | None, note: str | None = None
) -> dict[str, Any]:
    return {
        "event_id": eid,
        "person_id": pid,
        "event_type": kind,
        "event_date": when,
        "facility_id": facility,
        "country": None,
        "decree_id": None,
        "run_id": None,
        "new_sentence_kind": None,
        "new_end_date": None,
        "note": note,
    }


def arrow_table(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """Typed as the schema says, unless a test put text in a typed column: then text."""
    fields = []
    for c in table.columns:
        mixed = c.type != "VARCHAR" and any(isinstance(r.get(c.name), str) for r in rows)
        if mixed:
            for r in rows:
                v = r.get(c.name)
                if v is not None and not isinstance(v, str):
                    r[c.name] = v.isoformat() if isinstance(v, dt.date) else str(v).lower()
        fields.append(pa.field(c.name, pa.string() if mixed else _ARROW[c.type]))
    names = {k for r in rows for k in r}
    fields = [f for f in fields if f.name in names] + [
        pa.field(n, pa.string()) for n in sorted(names - set(table.column_names))
    ]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


def write(
    data: dict[str, list[dict[str, Any]]],
    out: Path,
    fmt: str = "parquet",
    profile: str = "kp-2015",
    formats: dict[str, str] | None = None,
) -> Path:
    """Write every table in ``fmt`` (or ``formats[table]``) plus a manifest."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(f'{{"profile": "{profile}"}}')
    prof = get_profile(profile)
    con = duckdb.connect()
    for table in prof.tables():
        rows = data[table.name]
        arrow = arrow_table(table, rows)
        kind = (formats or {}).get(table.name, fmt)
        target = out / f"{table.name}.{kind}"
        if kind == "parquet":
            pq.write_table(arrow, target)
        else:
            con.register("src", arrow)
            options = "FORMAT csv, HEADER true" if kind == "csv" else "FORMAT json"
            con.execute(f"COPY src TO '{target}' ({options})")
            con.unregister("src")
    con.close()
    return out
