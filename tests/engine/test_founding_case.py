"""The October 2015 decree on a generated kp-2015 registry: the properties the
founding case must have, whatever the random registry (issue #3, "Done when")."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from amnesty.decree import Decree, ir, load
from amnesty.engine import evaluate
from amnesty.explanation import explain
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.store.db import connect_duckdb, resolve_db

DECREES = Path(__file__).resolve().parents[2] / "decrees"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("founding")
    generate("kp-2015", 4000, 15, root / "registry")
    url = resolve_db(str(root / "kp.duckdb"))
    import_registry(url, root / "registry")
    conn = connect_duckdb(url, read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def october() -> Decree:
    return load(DECREES / "kp-2015-10-party-founding.toml")


@pytest.fixture(scope="module")
def decided(registry: duckdb.DuckDBPyConnection, october: Decree) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = evaluate(october, registry.cursor()).determinations.to_pylist()
    return rows


def _reads_convictions(node: Any) -> bool:
    """Does a predicate depend on the person's convictions at all?"""
    if isinstance(node, ir.Quantifier | ir.Count):
        return node.collection == "convictions"
    if isinstance(node, ir.Fact):
        return node.name.startswith(("conviction.", "sentence."))
    fields = getattr(node, "__dataclass_fields__", {})
    for name in fields:
        value = getattr(node, name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, tuple):
                child = child[-1]  # contested readings: (name, expr)
            if isinstance(child, ir.Node) and _reads_convictions(child):
                return True
    return False


def test_no_mss_prisoner_and_no_political_convict_is_eligible(
    registry: duckdb.DuckDBPyConnection, decided: list[dict[str, Any]]
) -> None:
    eligible = {r["person_id"] for r in decided if r["outcome"] == "eligible"}
    assert eligible, "the October decree frees someone in a generated registry"
    mss = {
        pid
        for (pid,) in registry.execute(
            "SELECT person_id FROM persons WHERE custody_authority = 'MSS'"
        ).fetchall()
    }
    political = {
        pid
        for (pid,) in registry.execute(
            "SELECT DISTINCT c.person_id FROM convictions c "
            "JOIN offences o USING (offence_code) WHERE o.category = 'political'"
        ).fetchall()
    }
    assert mss and political, "the generated registry holds both kinds of person"
    assert not eligible & mss
    assert not eligible & political


def test_every_eligible_has_a_ground_and_every_review_a_reason(
    decided: list[dict[str, Any]],
) -> None:
    for row in decided:
        if row["outcome"] == "eligible":
            assert row["grounds"], row
            assert row["relief"], row
        if row["outcome"] == "review":
            assert row["unknown"] or row["referred"], row
        if row["outcome"] == "ineligible":
            assert row["relief"] is None


def test_no_one_without_a_conviction_is_eligible_by_an_offence_ground(
    registry: duckdb.DuckDBPyConnection, october: Decree, decided: list[dict[str, Any]]
) -> None:
    offence_grounds = {
        c.id for c in october.clauses if c.kind == "grant" and _reads_convictions(c.predicate)
    }
    assert offence_grounds, "the October decree has grants by offence"
    without = {
        pid
        for (pid,) in registry.execute(
            "SELECT person_id FROM persons WHERE person_id NOT IN "
            "(SELECT person_id FROM convictions)"
        ).fetchall()
    }
    decided_without = [r for r in decided if r["person_id"] in without]
    assert decided_without, "pre-trial detainees are in the population"
    for row in decided_without:
        assert not set(row["grounds"]) & offence_grounds, row


def test_explain_agrees_with_evaluate_on_a_sample(
    registry: duckdb.DuckDBPyConnection, october: Decree, decided: list[dict[str, Any]]
) -> None:
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    for row in decided:
        by_outcome.setdefault(row["outcome"], []).append(row)
    rng = random.Random(2015)
    sample = [r for rows in by_outcome.values() for r in rng.sample(rows, min(8, len(rows)))]
    for row in sample:
        shown = explain(october, registry.cursor(), row["person_id"])
        assert (shown.outcome, shown.relief) == (row["outcome"], row["relief"]), row
        assert shown.determination is not None
        for field in ("grounds", "blocking", "referred"):
            assert sorted(shown.determination[field]) == sorted(row[field]), (field, row)
