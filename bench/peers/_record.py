"""Per-record peers: the registry as one nested record per person, and the parts of
the October 2015 decree that every per-record peer shares.

Untimed (``load``): the registry read from DuckDB into one Python dict per person
with the lists of their convictions, events and health assessments, as an
application would hand records to a rule engine.

Timed, per person, in every per-record peer:

* ``facts``: the population test (latest custody status on or before the as-of
  date, sentence end with calendar months) and the facts the clauses read
  (facility type and offence categories looked up, latest health assessment,
  events on or before the as-of date); None when the person is not in the population;
* the clause values (true / false / None for unknown): by the peer itself, in plain
  Python, as rule-engine rules, or as ZEN expressions;
* ``decide``: SEMANTICS.md steps 1-8 and the nine output columns, the missing
  facts of every unknown clause included.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
from common import Size

from peers import _canon

AS_OF = dt.date(2015, 10, 8)
STATUS_TYPES = ("admission", "return", "release", "death", "temporary_release")
IN_CUSTODY = ("admission", "return")
OFFENCE_GROUNDS = ("theft", "violent_crime", "drug_trafficking")
SCOPE_TYPES = (
    "penitentiary",
    "labour_training_centre",
    "detention_centre",
    "political_prison_camp",
)
CLAUSES = ("KP-S1", "KP-G1", "KP-G2", "KP-G3", "KP-G4", "KP-G5", "KP-X1", "KP-X2", "scope")
GRANTS = ("KP-G1", "KP-G2", "KP-G3", "KP-G4", "KP-G5")

RECORDS_SQL = """
SELECT p.person_id, p.facility_id, p.custody_authority AS authority, c.conv, e.ev, h.hl
FROM persons AS p
LEFT JOIN (
    SELECT person_id, list({'code': offence_code, 'kind': sentence_kind,
                            'months': term_months, 'start': start_date,
                            'agg': aggregate_id}) AS conv
    FROM convictions GROUP BY person_id
) AS c ON c.person_id = p.person_id
LEFT JOIN (
    SELECT person_id, list({'type': event_type, 'date': event_date, 'id': event_id,
                            'country': country, 'new_end': new_end_date}) AS ev
    FROM events GROUP BY person_id
) AS e ON e.person_id = p.person_id
LEFT JOIN (
    SELECT person_id, list({'on': assessed_on, 'id': assessment_id, 'severity': severity,
                            'able': able_to_work}) AS hl
    FROM health_assessments GROUP BY person_id
) AS h ON h.person_id = p.person_id
"""


def load(size: Size) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, str]]:
    conn = duckdb.connect(str(size.duckdb), read_only=True)
    facilities = dict(conn.sql("SELECT facility_id, facility_type FROM facilities").fetchall())
    offences = dict(conn.sql("SELECT offence_code, category FROM offences").fetchall())
    records = conn.sql(RECORDS_SQL).to_arrow_table().to_pylist()
    conn.close()
    return records, facilities, offences


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months; a month end clamps (31 Jan + 1 month = 28/29 Feb)."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def served_end(convs: list[dict[str, Any]]) -> dt.date | None:
    """The latest end; the convictions of one aggregate are served one after another
    (from the group's earliest start, for the sum of their terms); None if any is open."""
    if any(c["kind"] in ("life", "death") or c["months"] is None for c in convs):
        return None
    groups: dict[Any, list[dict[str, Any]]] = {}
    ends = []
    for c in convs:
        if c["agg"] is None:
            ends.append(add_months(c["start"], c["months"]))
        else:
            groups.setdefault(c["agg"], []).append(c)
    for group in groups.values():
        start = min(c["start"] for c in group)
        ends.append(add_months(start, sum(c["months"] for c in group)))
    return max(ends)


def facts(
    r: dict[str, Any], facilities: dict[str, str], offences: dict[str, str]
) -> dict[str, Any] | None:
    events = [e for e in (r["ev"] or ()) if e["date"] <= AS_OF]
    status = None
    status_key: tuple[dt.date, str] | None = None
    new_end = None
    new_end_key: tuple[dt.date, str] | None = None
    for e in events:
        key = (e["date"], e["id"])
        if e["type"] in STATUS_TYPES and (status_key is None or key > status_key):
            status, status_key = e["type"], key
        elif (
            e["type"] == "commutation"
            and e["new_end"] is not None
            and (new_end_key is None or key > new_end_key)
        ):
            new_end, new_end_key = e["new_end"], key
    if status not in IN_CUSTODY:
        return None
    convs = r["conv"] or []
    if convs:
        end: dt.date | None = new_end
        if end is None:
            end = served_end(convs)
        if end is not None and end <= AS_OF:
            return None
    health = None
    health_key: tuple[dt.date, str] | None = None
    for h in r["hl"] or ():
        key = (h["on"], h["id"])
        if h["on"] <= AS_OF and (health_key is None or key > health_key):
            health, health_key = h, key
    fid = r["facility_id"]
    return {
        "person_id": r["person_id"],
        "facility_id": fid,
        "facility_type": facilities.get(fid) if fid is not None else None,
        "authority": r["authority"],
        "severity": health["severity"] if health else None,
        "able": health["able"] if health else None,
        "categories": [offences.get(c["code"]) for c in convs],
        "events": [{"type": e["type"], "country": e["country"]} for e in events],
    }


def missing(f: dict[str, Any], values: dict[str, bool | None]) -> list[dict[str, Any]]:
    """The ``unknown`` column: each unknown clause with the facts it lacked, in the
    order the engine names them."""
    out = []
    cat_null = any(c is None for c in f["categories"])
    country_null = any(e["country"] is None for e in f["events"])
    type_null = f["facility_type"] is None
    for clause in CLAUSES:
        if values[clause] is not None:
            continue
        names: list[str] = []
        if clause == "KP-S1":
            names = (["facility.type"] if type_null else []) + (
                ["facility.id"] if f["facility_id"] is None else []
            )
        elif clause in ("KP-G1", "KP-G5", "KP-X2"):
            names = ["conviction.category"] if cat_null else []
        elif clause == "KP-G2":
            names = ["health.able_to_work"] if f["able"] is None else []
        elif clause == "KP-G3":
            names = ["health.severity"] if f["severity"] is None else []
        elif clause == "KP-G4":
            names = (["contested"] if values["_contested"] else []) + (
                ["event.country"] if country_null else []
            )
        elif clause == "KP-X1":
            names = ["person.authority"] if f["authority"] is None else []
        elif clause == "scope":
            names = ["facility.type"] if type_null else []
        out.append({"clause": clause, "missing": names})
    return out


def decide(f: dict[str, Any], v: dict[str, bool | None]) -> tuple[Any, ...]:
    """SEMANTICS.md outcome steps 1-8 and the output columns (every grant gives release,
    so step 7 never applies)."""
    blocking = [
        c
        for c in CLAUSES
        if (c in ("KP-X1", "KP-X2") and v[c] is True) or (c in ("KP-S1", "scope") and v[c] is False)
    ]
    grounds = [g for g in GRANTS if v[g] is True]
    if blocking or all(v[g] is False for g in GRANTS):
        outcome = "ineligible"
    elif any(v[c] is None for c in ("KP-S1", "KP-X1", "KP-X2", "scope")) or not grounds:
        outcome = "review"
    else:
        outcome = "eligible"
    if outcome == "ineligible":
        undertakings: list[str] = []
    elif f["facility_id"] is None or f["facility_id"] == "KP-CAMP-14":
        undertakings = ["KP-U1", "KP-U2"]
    else:
        undertakings = ["KP-U1"]
    return (
        f["person_id"],
        f["facility_id"],
        outcome,
        None if outcome == "ineligible" else "release",
        grounds,
        blocking,
        [],
        missing(f, v),
        undertakings,
    )


def to_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in _canon.COLUMNS]
    return _canon.from_arrow(
        pa.table(
            {name: list(col) for name, col in zip(_canon.COLUMNS, cols, strict=True)},
            schema=pa.schema(
                [
                    ("person_id", pa.string()),
                    ("facility_id", pa.string()),
                    ("outcome", pa.string()),
                    ("relief", pa.string()),
                    ("grounds", _canon.STRINGS),
                    ("blocking", _canon.STRINGS),
                    ("referred", _canon.STRINGS),
                    (
                        "unknown",
                        pa.list_(pa.struct([("clause", pa.string()), ("missing", _canon.STRINGS)])),
                    ),
                    ("undertakings", _canon.STRINGS),
                ]
            ),
        )
    )
