"""Decrees in parts, generated (#10): each part decided on its own as-of date, by the
compiled engine and by the interpreter alike, is the plain decree of its clauses on that
date, built here independently of ``Decree.part``."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from typing import Any

import duckdb
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amnesty.compile.interpreter import interpret
from amnesty.decree.model import Decree, Part
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile

from .helpers import load
from .strategies import decrees, registries

PROFILE = get_profile("ru-2015")
CONN = duckdb.connect()


@st.composite
def decrees_in_parts(draw: st.DrawFn) -> Decree:
    decree = draw(decrees())
    shift = draw(st.integers(min_value=-800, max_value=800).filter(lambda d: d != 0))
    parts = (
        Part("a", "first", decree.as_of),
        Part("b", "second", decree.as_of + dt.timedelta(days=shift)),
    )
    choice = st.sampled_from([(), ("a",), ("b",), ("a", "b")])
    clauses = tuple(replace(c, parts=draw(choice)) for c in decree.clauses)
    for p in ("a", "b"):
        assume(any(c.kind == "grant" and (not c.parts or p in c.parts) for c in clauses))
    return replace(decree, clauses=clauses, parts=parts)


@settings(
    max_examples=int(os.environ.get("AGREEMENT_EXAMPLES", "200")) // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(decree=decrees_in_parts(), rows=registries())
def test_each_part_is_its_clauses_on_its_date(decree: Decree, rows: dict[str, Any]) -> None:
    load(CONN, rows, PROFILE)
    for part in decree.parts:
        plain = replace(
            decree,
            parts=(),
            as_of=part.as_of,
            clauses=tuple(c for c in decree.clauses if not c.parts or part.id in c.parts),
        )
        want = interpret(plain, rows, PROFILE).determinations
        got_interpreted = interpret(decree, rows, PROFILE, as_of=part.as_of).determinations
        ev = evaluate(decree, CONN, as_of=part.as_of, profile=PROFILE)
        got = {r["person_id"]: r for r in ev.determinations.to_pylist()}
        assert got_interpreted == want, part
        assert got == want, (part, ev.sql)
