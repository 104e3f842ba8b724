"""The translation held to the engine on generated decrees (tests/engine/strategies.py).

For a random decree and a random assertion over the person and the outcome:
a refuted assertion's witness, replayed through the compiled engine, breaks it;
a proved one is broken by no person of any generated registry.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from amnesty.assurance import prove
from amnesty.assurance.replay import assertion_value, violated
from amnesty.decree import ir
from amnesty.decree.model import Assertion, Decree
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile
from engine.helpers import load
from engine.strategies import decrees, predicates, registries

# The generated registries use the kp-2015 authorities under the ru-2015 profile;
# an open vocabulary lets the solver's persons hold them too.
PROFILE = replace(get_profile("ru-2015"), authorities=())
CONN = duckdb.connect()
EXAMPLES = int(os.environ.get("ASSURANCE_EXAMPLES", "25"))


def outcome_is(value: str) -> ir.Expr:
    return ir.Compare(
        op="=",
        left=ir.Fact(name="outcome", type="string"),
        right=ir.Literal(value=value, type="string"),
    )


@st.composite
def assertions(draw: st.DrawFn) -> Assertion:
    about = draw(predicates(depth=1))
    outcome = outcome_is(draw(st.sampled_from(["eligible", "ineligible", "review"])))
    kind = draw(st.sampled_from(["never", "always"]))
    if kind == "never":
        predicate: ir.Expr = ir.And(operands=(about, outcome))
    else:  # about implies outcome
        predicate = ir.Or(operands=(ir.Not(operand=about), outcome))
    return Assertion(id="H1", kind=kind, predicate=predicate)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@pytest.mark.slow
@SETTINGS
@given(
    decree=decrees(),
    assertion=assertions(),
    registry=st.lists(registries(), min_size=1, max_size=3),
)
def test_proved_holds_on_registries_and_refuted_replays(
    decree: Decree, assertion: Assertion, registry: list[dict[str, Any]]
) -> None:
    decree = replace(decree, assertions=(assertion,))
    (finding,) = prove(decree, timeout_s=10, profile=PROFILE)
    assert "does not replay" not in finding.message, (decree, finding.witness)
    event(finding.status)
    assume(finding.status != "unknown")
    if finding.status == "refuted":
        rows = finding.witness
        pid = rows["persons"][0]["person_id"]
        assert finding.engine is not None
        value = assertion_value(decree, assertion, rows, pid, finding.engine, PROFILE)
        assert violated(value, assertion)
        return
    for rows in registry:
        load(CONN, rows, PROFILE)
        for row in evaluate(decree, CONN, profile=PROFILE).determinations.to_pylist():
            value = assertion_value(decree, assertion, rows, row["person_id"], row, PROFILE)
            assert not violated(value, assertion), (decree, rows, row)
