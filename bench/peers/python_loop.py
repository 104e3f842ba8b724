"""A plain Python loop: every person decided one after the other, clauses as Python.

Untimed: the registry loaded into one dict per person (``_record.load``).
Timed: for every person, the population test, the facts, the nine clauses in
three-valued logic, the outcome and every output column (``_record``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from common import Size

from peers import _record as rec


def prepare(size: Size, options: dict[str, str]) -> Any:
    return rec.load(size)


def _any(values: list[bool | None]) -> bool | None:
    unknown = False
    for v in values:
        if v:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a or b:
        return True
    return None if a is None or b is None else False


def clauses(f: dict[str, Any]) -> dict[str, bool | None]:
    ftype, fid, cats, events = f["facility_type"], f["facility_id"], f["categories"], f["events"]
    upi = _any(
        [
            e["type"] == "repatriation"
            and (None if e["country"] is None else e["country"] in ("CHN", "VNM"))
            for e in events
        ]
    )
    dnk = _any(
        [
            e["type"] == "repatriation"
            and (None if e["country"] is None else e["country"] in ("CHN", "VNM", "LAO", "MNG"))
            for e in events
        ]
    )
    contested = upi is not dnk
    return {
        "KP-S1": _or(
            None if ftype is None else ftype != "political_prison_camp",
            None if fid is None else fid == "KP-CAMP-14",
        ),
        "KP-G1": _any([None if c is None else c in rec.OFFENCE_GROUNDS for c in cats]),
        "KP-G2": None if f["able"] is None else not f["able"],
        "KP-G3": None if f["severity"] is None else f["severity"] in ("severe", "terminal"),
        "KP-G4": None if contested else upi,
        "KP-G5": _or(
            _any([e["type"] == "defection_attempt" for e in events]),
            _any([None if c is None else c == "illegal_border_crossing" for c in cats]),
        ),
        "KP-X1": None if f["authority"] is None else f["authority"] == "MSS",
        "KP-X2": _any([None if c is None else c == "political" for c in cats]),
        "scope": None if ftype is None else ftype in rec.SCOPE_TYPES,
        "_contested": contested,
    }


def run(state: Any) -> list[tuple[Any, ...]]:
    records, facilities, offences = state
    out = []
    for r in records:
        f = rec.facts(r, facilities, offences)
        if f is not None:
            out.append(rec.decide(f, clauses(f)))
    return out


def outcomes(state: Any, result: list[tuple[Any, ...]]) -> pa.Table:
    return rec.to_table(result)
