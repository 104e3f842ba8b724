"""zen-engine (GoRules ZEN, Rust core): the clauses as ONE compiled ZEN expression
evaluated per person.

Its fastest API for this shape: ``zen.compile_expression`` once, then
``Expression.evaluate(context)`` per record, returning an object with every
clause's three-valued value (the decision-graph API with ``evaluate_batch`` wraps
the same evaluator in graph and JSON overhead). Untimed: loading the records.
Timed: per person, the population and facts (``_record.facts``), the ZEN
evaluation, and the outcome with every output column (``_record.decide``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from common import Size

from peers import _record as rec


def _any(cond: str, collection: str, null: str) -> str:
    """Three-valued ``any``: true if an item holds, else unknown if one is unknown."""
    return f"(some({collection}, {cond}) ? true : (some({collection}, {null}) ? null : false))"


_UPI = _any(
    '#.type == "repatriation" and #.country in ["CHN", "VNM"]',
    "events",
    '#.type == "repatriation" and #.country == null',
)
_DNK = _any(
    '#.type == "repatriation" and #.country in ["CHN", "VNM", "LAO", "MNG"]',
    "events",
    '#.type == "repatriation" and #.country == null',
)

EXPRESSION = ", ".join(
    [
        '"KP-S1": ((ftype != null and ftype != "political_prison_camp") or '
        '(fid != null and fid == "KP-CAMP-14")) ? true : '
        "((ftype == null or fid == null) ? null : false)",
        '"KP-G1": '
        + _any('# in ["theft", "violent_crime", "drug_trafficking"]', "categories", "# == null"),
        '"KP-G2": able == null ? null : not able',
        '"KP-G3": severity == null ? null : severity in ["severe", "terminal"]',
        f'"KP-G4": ({_UPI}) == ({_DNK}) ? ({_UPI}) : null',
        f'"_contested": ({_UPI}) != ({_DNK})',
        '"KP-G5": (some(events, #.type == "defection_attempt") or '
        'some(categories, # == "illegal_border_crossing")) ? true : '
        "(some(categories, # == null) ? null : false)",
        '"KP-X1": authority == null ? null : authority == "MSS"',
        '"KP-X2": ' + _any('# == "political"', "categories", "# == null"),
        '"scope": ftype == null ? null : ftype in '
        '["penitentiary", "labour_training_centre", "detention_centre", "political_prison_camp"]',
    ]
)


def prepare(size: Size, options: dict[str, str]) -> Any:
    import zen

    return rec.load(size), zen.compile_expression("{" + EXPRESSION + "}")


def run(state: Any) -> list[tuple[Any, ...]]:
    (records, facilities, offences), expression = state
    evaluate = expression.evaluate
    out = []
    for r in records:
        f = rec.facts(r, facilities, offences)
        if f is None:
            continue
        context = {
            "ftype": f["facility_type"],
            "fid": f["facility_id"],
            "authority": f["authority"],
            "severity": f["severity"],
            "able": f["able"],
            "categories": f["categories"],
            "events": f["events"],
        }
        out.append(rec.decide(f, evaluate(context)))
    return out


def outcomes(state: Any, result: list[tuple[Any, ...]]) -> pa.Table:
    return rec.to_table(result)
