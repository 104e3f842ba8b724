"""Evaluation.summary: the counts a user reads, against a hand-computed answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from amnesty.compile.sql import compile_decree
from amnesty.engine import DETERMINATION_SCHEMA, Evaluation, LeftOut
from amnesty.registry.profiles import get_profile

from .helpers import clause, decree, s

AS_OF = dt.date(2015, 10, 8)


def _row(pid: str, facility: str | None, outcome: str, **kw: Any) -> dict[str, Any]:
    return {
        "person_id": pid,
        "facility_id": facility,
        "outcome": outcome,
        "relief": kw.get("relief"),
        "grounds": kw.get("grounds", []),
        "blocking": kw.get("blocking", []),
        "referred": [],
        "unknown": [],
        "undertakings": [],
    }


def test_summary_matches_a_hand_count() -> None:
    d = decree(
        [
            clause("theft", "grant", s("x")),
            clause("age", "grant", s("x"), basis="assumption"),
            clause("health", "grant", s("x"), relief="commute", basis="assumption"),
        ]
    )
    rows = [
        _row("P1", "F1", "eligible", relief="release", grounds=["theft"]),
        _row("P2", "F1", "eligible", relief="release", grounds=["age", "health"]),
        _row("P3", "F2", "eligible", relief="commute", grounds=["health"]),
        _row("P4", "F2", "ineligible", blocking=["murder"]),
        _row("P5", "F3", "review"),  # facility without a recorded type or province
        _row("P6", None, "eligible", relief="release", grounds=["theft", "age"]),
        _row("P7", "F9", "ineligible"),  # facility unknown to the registry
    ]
    ev = Evaluation(
        decree=d,
        as_of=AS_OF,
        compiled=compile_decree(d, "duckdb", profile=get_profile("kp-2015")),
        determinations=pa.Table.from_pylist(rows, schema=DETERMINATION_SCHEMA),
        left_out=LeftOut({"released": 2, "not admitted": 1}, {"kp-2012": 2}),
        places={"F1": ("camp", "North"), "F2": ("prison", None), "F3": (None, "South")},
    )
    assert ev.summary() == {
        "decree": "test-decree",
        "as_of": "2015-10-08",
        "profile": {"name": "kp-2015", "hash": get_profile("kp-2015").content_hash},
        "persons": 7,
        "by_outcome": {"eligible": 4, "ineligible": 2, "review": 1},
        "by_relief": {"commute": 1, "release": 3},
        "by_ground": {"age": 2, "health": 2, "theft": 2},
        "by_facility_type": {
            "camp": {"eligible": 2},
            "prison": {"eligible": 1, "ineligible": 1},
            "unrecorded": {"eligible": 1, "ineligible": 1, "review": 1},
        },
        "by_province": {
            "North": {"eligible": 2},
            "South": {"review": 1},
            "unrecorded": {"eligible": 2, "ineligible": 2},
        },
        "left_out": {
            "total": 3,
            "by_reason": {"released": 2, "not admitted": 1},
            "by_decree": {"kp-2012": 2},
        },
        "resting_only_on_assumptions": 2,  # P2 and P3; P6 rests on theft too
    }
    # Key order is part of the output (JSON, tables): sorted as before.
    summary = ev.summary()
    assert list(summary["by_facility_type"]) == ["camp", "prison", "unrecorded"]
    assert list(summary["by_province"]["unrecorded"]) == ["eligible", "ineligible"]


def test_summary_of_no_determinations() -> None:
    one = decree([clause("a", "grant", s("x"), basis="assumption")])
    ev = Evaluation(
        decree=one,
        as_of=AS_OF,
        compiled=compile_decree(one, "duckdb", profile=get_profile("core")),
        determinations=DETERMINATION_SCHEMA.empty_table(),
        left_out=LeftOut({}, {}),
        places={},
    )
    summary = ev.summary()
    assert summary["persons"] == 0 and summary["resting_only_on_assumptions"] == 0
    assert summary["by_outcome"] == summary["by_ground"] == summary["by_province"] == {}


def _counted_in_python(ev: Evaluation) -> dict[str, Any]:
    """The summary counted row by row: a reference for the set-based one."""
    from collections import Counter

    d = ev.determinations.to_pydict()
    assumed = {c.id for c in ev.decree.clauses if c.source.basis == "assumption"}
    by_type: Counter[str] = Counter()
    by_province: Counter[str] = Counter()
    for fid, o in zip(d["facility_id"], d["outcome"], strict=True):
        ftype, province = ev.places.get(fid or "", (None, None))
        by_type[f"{ftype or 'unrecorded'}/{o}"] += 1
        by_province[f"{province or 'unrecorded'}/{o}"] += 1

    def nested(counts: Counter[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for key, n in sorted(counts.items()):
            group, outcome = key.rsplit("/", 1)
            out.setdefault(group, {})[outcome] = n
        return out

    pairs = list(zip(d["outcome"], d["relief"], d["grounds"], strict=True))
    return {
        "by_outcome": dict(sorted(Counter(d["outcome"]).items())),
        "by_relief": dict(sorted(Counter(r for o, r, _ in pairs if o == "eligible").items())),
        "by_ground": dict(sorted(Counter(g for gs in d["grounds"] for g in gs).items())),
        "by_facility_type": nested(by_type),
        "by_province": nested(by_province),
        "resting_only_on_assumptions": sum(
            1 for o, _, gs in pairs if o == "eligible" and gs and all(g in assumed for g in gs)
        ),
    }


def test_summary_agrees_with_a_row_by_row_count() -> None:
    import random

    rng = random.Random(7)
    clauses = ["a", "b", "c", "d/e", "ß"]
    d = decree([clause(c, "grant", s("x"), basis=rng.choice(["source", "assumption"]))
                for c in clauses])  # fmt: skip
    places = {f"F{i}": (rng.choice([None, "", "camp", "a/b"]), rng.choice([None, "N", "S"]))
              for i in range(6)}  # fmt: skip
    places[""] = ("empty-id", "E")
    rows = []
    for i in range(500):
        outcome = rng.choice(["eligible", "ineligible", "review"])
        rows.append(
            _row(
                f"P{i}",
                rng.choice([None, "F0", "F1", "F2", "F3", "F4", "F5", "F9"]),
                outcome,
                relief=rng.choice(["release", "commute"]) if outcome == "eligible" else None,
                grounds=rng.sample(clauses, rng.randint(0, 3)) * rng.choice([1, 1, 2]),
            )
        )
    ev = Evaluation(
        decree=d,
        as_of=AS_OF,
        compiled=compile_decree(d, "duckdb", profile=get_profile("core")),
        determinations=pa.Table.from_pylist(rows, schema=DETERMINATION_SCHEMA),
        left_out=LeftOut({}, {}),
        places=places,
    )
    summary = ev.summary()
    expected = _counted_in_python(ev)
    assert {k: summary[k] for k in expected} == expected
    assert [list(summary[k]) for k in expected if isinstance(expected[k], dict)] == [
        list(v) for v in expected.values() if isinstance(v, dict)
    ]
