"""A diff of a decree and its variants, decided in one query, against evaluating
each separately; variant files checked with positions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from amnesty.analysis import decide_together, diff_decrees, diff_variants
from amnesty.analysis.diff import compare_tables
from amnesty.compile.sql.variants import compile_variants
from amnesty.decree import load
from amnesty.decree.variants import load_variant
from amnesty.engine import evaluate
from amnesty.errors import DecreeErrors
from amnesty.store.engine import dispose_engine

DECREES = Path(__file__).resolve().parents[2] / "decrees"
OCTOBER = DECREES / "kp-2015-10-party-founding.toml"
AUGUST = DECREES / "kp-2015-08-liberation.toml"

BROAD = """\
id = "broad-health"
decree = "kp-2015-10-party-founding"
remove = ["KP-G1"]

[[override]]
clause = "KP-X1"
predicate = 'authority = "MSS" and any convictions (category = "political")'

[[replace]]
clause = "KP-G3"
text = '{"severe", "terminal"}'
with = '{"moderate", "severe", "terminal"}'

[[clause]]
id = "KP-G6"
kind = "grant"
relief = "conditional_release"
text = "Elderly prisoners"
source = "what-if"
predicate = 'age >= 60'
"""
DALIY_NK = 'id = "daily-nk"\napplied_reading = "daily_nk"\n'
NO_SCOPE_CAMP = 'id = "no-camps"\nremove = ["KP-S1"]\n'


@pytest.fixture()
def variants(tmp_path: Path) -> list[Path]:
    out = []
    for name, text in (("broad", BROAD), ("dnk", DALIY_NK), ("camps", NO_SCOPE_CAMP)):
        p = tmp_path / f"{name}.toml"
        p.write_text(text)
        out.append(p)
    return out


def test_one_query_agrees_with_separate_evaluations(world, variants) -> None:  # type: ignore[no-untyped-def]
    decrees = [load(OCTOBER), *(load_variant(OCTOBER, v) for v in variants)]
    dispose_engine(world.db)
    con = duckdb.connect(world.db, read_only=True)
    try:
        together = decide_together(decrees, con)
        compiled = compile_variants(decrees)
        separate = [evaluate(d, con).determinations for d in decrees]
    finally:
        con.close()
    # the shared clauses are computed once
    assert compiled.distinct_clauses < compiled.total_clauses
    for one, alone in zip(together, separate, strict=True):
        assert one.sort_by("person_id").to_pylist() == alone.sort_by("person_id").to_pylist()
    # the variants do change outcomes, so the comparison is not of identical tables
    assert together[1].column("outcome").to_pylist() != together[0].column("outcome").to_pylist()


def test_diff_groups_by_the_clause_that_differs(world, variants) -> None:  # type: ignore[no-untyped-def]
    result = diff_variants(world.db, OCTOBER, variants)
    dispose_engine(world.db)
    con = duckdb.connect(world.db, read_only=True)
    try:
        base = evaluate(load(OCTOBER), con).determinations
        broad = evaluate(load_variant(OCTOBER, variants[0]), con).determinations
    finally:
        con.close()
    a = {r["person_id"]: r for r in base.to_pylist()}
    b = {r["person_id"]: r for r in broad.to_pylist()}
    changed = {
        p for p in a if (a[p]["outcome"], a[p]["relief"]) != (b[p]["outcome"], b[p]["relief"])
    }
    first = result["diffs"][0]
    assert first["labels"] == ["kp-2015-10-party-founding", "broad-health"]
    assert first["changed"] == len(changed) > 0
    assert sum(sum(g["by_province"].values()) for g in first["groups"]) == len(changed)
    # removing KP-G1 is what moved those whose only ground was an offence
    g1 = next(g for g in first["groups"] if g["clauses"] == ["KP-G1"])
    for example in g1["examples"]:
        pid = example["person_id"]
        assert "KP-G1" in a[pid]["grounds"] and "KP-G1" not in b[pid]["grounds"]
    assert g1["legal_text"]["KP-G1"].startswith("Most of the prisoners released")
    assert len(result["diffs"]) == 3


def test_two_decrees_and_only_in(world) -> None:  # type: ignore[no-untyped-def]
    result = diff_decrees(world.db, AUGUST, OCTOBER)
    d = result["diffs"][0]
    assert d["labels"] == ["kp-2015-08-liberation", "kp-2015-10-party-founding"]
    assert d["persons_compared"] > 0


def test_compare_tables_by_hand() -> None:
    import pyarrow as pa

    def row(pid: str, outcome: str, grounds: list[str], blocking: list[str]) -> dict[str, object]:
        return {
            "person_id": pid,
            "facility_id": "F1",
            "outcome": outcome,
            "relief": "release" if outcome == "eligible" else None,
            "grounds": grounds,
            "blocking": blocking,
            "referred": [],
            "unknown": [],
        }

    a = pa.Table.from_pylist([row("P1", "eligible", ["G"], []), row("P2", "eligible", ["G"], [])])
    b = pa.Table.from_pylist(
        [row("P1", "ineligible", ["G"], ["X"]), row("P2", "eligible", ["G"], [])]
    )
    d = compare_tables(a, b, None)
    assert d["changed"] == 1
    assert d["groups"][0]["clauses"] == ["X"]
    assert d["transitions"] == {"eligible -> ineligible": 1}


def test_variant_errors_point_into_the_variant(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'id = "bad"\n\n[[override]]\nclause = "KP-X1"\npredicate = \'authorty = "MSS"\'\n\n'
        '[[replace]]\nclause = "KP-G3"\ntext = \'"severe"\'\nwith = \'"sever"\'\n'
    )
    with pytest.raises(DecreeErrors) as caught:
        load_variant(OCTOBER, bad)
    shown = [str(e) for e in caught.value.errors]
    assert any(s.startswith(f"{bad}:5:14") and "authority" in s for s in shown), shown
    # the misspelt value of the [[replace]] is found at its place in the variant file
    assert any(s.startswith(f"{bad}:10:") and '"sever"' in s for s in shown), shown
    missing = tmp_path / "missing.toml"
    missing.write_text('id = "m"\nremove = ["KP-G9"]\n')
    with pytest.raises(DecreeErrors, match="no clause 'KP-G9'"):
        load_variant(OCTOBER, missing)
    twice = tmp_path / "twice.toml"
    twice.write_text('id = "t"\n[[replace]]\nclause = "KP-G1"\ntext = "\\""\nwith = "x"\n')
    with pytest.raises(DecreeErrors, match="exactly once"):
        load_variant(OCTOBER, twice)
