"""rule-engine (PyPI ``rule-engine``): the clauses as ONE rule-engine expression
(a mapping of clause id to its three-valued value) evaluated per person.

Untimed: loading the records, parsing the rule. Timed: per person, the population
and facts (``_record.facts``), ``Rule.evaluate``, and the outcome with every output
column (``_record.decide``). rule-engine walks its AST in Python, so it is run at
100k persons only; larger sizes are extrapolated (see ``bench/run.py``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from common import Size

from peers import _record as rec


def _any(collection: str, cond: str, null: str) -> str:
    """Three-valued ``any`` with rule-engine comprehensions."""
    return (
        f"([x for x in {collection} if {cond}].length > 0 ? true : "
        f"([x for x in {collection} if {null}].length > 0 ? null : false))"
    )


_REPATRIATED_NULL = 'x["type"] == "repatriation" and x["country"] == null'
_UPI = _any(
    "events",
    'x["type"] == "repatriation" and x["country"] in ["CHN", "VNM"]',
    _REPATRIATED_NULL,
)
_DNK = _any(
    "events",
    'x["type"] == "repatriation" and x["country"] in ["CHN", "VNM", "LAO", "MNG"]',
    _REPATRIATED_NULL,
)

RULE = (
    "{"
    + ", ".join(
        [
            '"KP-S1": (((ftype != null and ftype != "political_prison_camp") or '
            '(fid != null and fid == "KP-CAMP-14")) ? true : '
            "((ftype == null or fid == null) ? null : false))",
            '"KP-G1": '
            + _any(
                "categories",
                'x in ["theft", "violent_crime", "drug_trafficking"]',
                "x == null",
            ),
            '"KP-G2": (able == null ? null : not able)',
            '"KP-G3": (severity == null ? null : severity in ["severe", "terminal"])',
            f'"KP-G4": ({_UPI} == {_DNK} ? {_UPI} : null)',
            f'"_contested": ({_UPI} != {_DNK})',
            '"KP-G5": (([x for x in events if x["type"] == "defection_attempt"].length > 0 or '
            '[x for x in categories if x == "illegal_border_crossing"].length > 0) ? true : '
            "([x for x in categories if x == null].length > 0 ? null : false))",
            '"KP-X1": (authority == null ? null : authority == "MSS")',
            '"KP-X2": ' + _any("categories", 'x == "political"', "x == null"),
            '"scope": (ftype == null ? null : ftype in ["penitentiary", '
            '"labour_training_centre", "detention_centre", "political_prison_camp"])',
        ]
    )
    + "}"
)


def prepare(size: Size, options: dict[str, str]) -> Any:
    import rule_engine

    context = rule_engine.Context(default_value=None)
    return rec.load(size), rule_engine.Rule(RULE, context=context)


def run(state: Any) -> list[tuple[Any, ...]]:
    (records, facilities, offences), rule = state
    evaluate = rule.evaluate
    out = []
    for r in records:
        f = rec.facts(r, facilities, offences)
        if f is None:
            continue
        thing = {
            "ftype": f["facility_type"],
            "fid": f["facility_id"],
            "authority": f["authority"],
            "severity": f["severity"],
            "able": f["able"],
            "categories": f["categories"],
            "events": f["events"],
        }
        out.append(rec.decide(f, dict(evaluate(thing))))
    return out


def outcomes(state: Any, result: list[tuple[Any, ...]]) -> pa.Table:
    return rec.to_table(result)
