"""``explain``: one person, clause by clause, agreeing with ``evaluate`` by
construction — it runs the same compiled query restricted to that person, then
fetches the values of the facts each clause reads from the same CTEs."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from sqlglot import exp

from amnesty.compile.relief_dates import commuted_end
from amnesty.compile.sql import CompiledDecree, compile_decree
from amnesty.compile.sql.aggregates import facts_read
from amnesty.compile.sql.columns import DURATION_FACTS, collection_of, column_name
from amnesty.decree.model import Decree
from amnesty.engine import as_backend, evaluate
from amnesty.errors import EngineError
from amnesty.registry.profiles import Profile

SCOPE_CITATION = "decree scope"  # the scope is decree metadata, not a clause with a source
SCOPE_BASIS = "scope"
SCOPE_AXIS_NAMES = {
    "facility.type": "the facility type",
    "facility.id": "the facility",
    "person.authority": "the custody authority",
    "facility.division": "the facility's division",
}


@dataclass(frozen=True)
class ClauseExplanation:
    id: str
    kind: str
    text: str
    citation: str
    basis: str
    value: str  # true, false, unknown
    facts: dict[str, Any]  # person facts: a value; item facts: one value per item
    missing: list[str] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)  # named sets and predicates it reads


@dataclass(frozen=True)
class Explanation:
    person_id: str
    decree_id: str
    as_of: dt.date
    outcome: str | None  # None: not in the population
    relief: str | None
    why: str
    clauses: list[ClauseExplanation]
    determination: dict[str, Any] | None
    profile: str = ""  # the registry profile the person was read under, and its hash
    profile_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "decree_id": self.decree_id,
            "as_of": self.as_of.isoformat(),
            "outcome": self.outcome,
            "relief": self.relief,
            "why": self.why,
            "determination": self.determination,
            "clauses": [c.__dict__ for c in self.clauses],
            "profile": {"name": self.profile, "hash": self.profile_hash},
        }


def _value(kind: str, cid: str, det: dict[str, Any], unknown: dict[str, list[str]]) -> str:
    if cid in unknown:
        return "unknown"
    if kind == "grant":
        return "true" if cid in det["grounds"] else "false"
    if kind == "exclude":
        return "true" if cid in det["blocking"] else "false"
    if kind == "require":
        return "false" if cid in det["blocking"] else "true"
    return "true" if cid in det["referred"] else "false"


def _fact_columns(names: list[str]) -> list[str]:
    cols = []
    for name in names:
        if name in DURATION_FACTS:
            cols += [column_name(f) for f in DURATION_FACTS[name] if f != "as_of"]
        elif name == "person.age":
            cols += ["person__age", "person__age_lo", "person__age_hi"]
        else:
            cols.append(column_name(name))
    return list(dict.fromkeys(cols))


def _fetch_sql(compiled: CompiledDecree, table: str, cols: list[str], person_id: str) -> str:
    sel = (
        exp.select(*cols)
        .from_(table)
        .where(exp.EQ(this=exp.column("person_id"), expression=exp.Literal.string(person_id)))
    )
    with_ = compiled.query.args.get("with_") or compiled.query.args.get("with")
    sel.set("with_", with_.copy() if with_ is not None else None)
    return sel.sql(dialect=compiled.dialect)


def _fetch(
    backend: Any, compiled: CompiledDecree, table: str, cols: list[str], person_id: str
) -> list[dict[str, Any]]:
    if not cols:
        return []
    if isinstance(compiled, _PersonCompiled):
        sql = compiled.plan.fetch_sql(table, cols, person_id)
    else:
        sql = _fetch_sql(compiled, table, cols, person_id)
    rows: list[dict[str, Any]] = backend.fetch_arrow(sql).to_pylist()
    return rows


# A person id no registry holds, compiled in place of the person an ExplainPlan explains.
PLACEHOLDER = "amnesty-explain-plan-placeholder-7f3a9c"


@dataclass(frozen=True)
class _PersonCompiled(CompiledDecree):
    """A plan's compiled decree with one person's SQL text (nothing rendered again)."""

    plan: Any = None
    person_sql: str = ""
    person_left_out_sql: str = ""

    @property
    def sql(self) -> str:
        return self.person_sql

    @property
    def left_out_sql(self) -> str:
        return self.person_left_out_sql


class ExplainPlan:
    """``decree`` compiled once for explaining any one person on ``as_of`` under
    ``profile`` on ``dialect``.

    The SQL of an explanation (the decision, the left-out counts, the fact reads) is
    the decree's whole CTE chain restricted to one person; rendering it costs far
    more than running it. A plan compiles the decree for a placeholder person,
    renders each query once, and gives a person's SQL by putting that person's
    quoted id in place of the placeholder's: the same SQL ``explain`` would build
    for them. Thread-safe; meant to be kept by a caller that explains many persons
    under one decree (keyed by the decree's and the profile's hashes and ``as_of``).
    """

    def __init__(
        self, decree: Decree, dialect: str, as_of: dt.date, profile: Profile | None = None
    ) -> None:
        self.decree = decree
        self.dialect = dialect
        self.as_of = as_of
        self.profile = profile
        self.compiled = compile_decree(
            decree, dialect, as_of=as_of, profile=profile, person_ids=[PLACEHOLDER]
        )
        self._quoted = exp.Literal.string(PLACEHOLDER).sql(dialect=dialect)
        self._lock = threading.Lock()
        self._rendered: dict[tuple[str, ...], str] = {}
        self._decision = self._render(("decision",), lambda: self.compiled.sql)
        self._left_out = self._render(("left out",), lambda: self.compiled.left_out_sql)

    def _render(self, key: tuple[str, ...], build: Callable[[], str]) -> str:
        with self._lock:
            found = self._rendered.get(key)
        if found is None:
            found = build()
            if self._quoted not in found:
                raise EngineError(f"explain plan: {key[0]} does not filter by person")
            with self._lock:
                self._rendered[key] = found
        return found

    def _person(self, sql: str, person_id: str) -> str:
        return sql.replace(self._quoted, exp.Literal.string(person_id).sql(dialect=self.dialect))

    def fetch_sql(self, table: str, cols: list[str], person_id: str) -> str:
        template = self._render(
            ("fetch", table, *cols),
            lambda: _fetch_sql(self.compiled, table, cols, PLACEHOLDER),
        )
        return self._person(template, person_id)

    def for_person(self, person_id: str) -> CompiledDecree:
        """The compiled decree of ``person_id``: the placeholder's, with their SQL."""
        base = {f.name: getattr(self.compiled, f.name) for f in fields(self.compiled)}
        return _PersonCompiled(
            **base,
            plan=self,
            person_sql=self._person(self._decision, person_id),
            person_left_out_sql=self._person(self._left_out, person_id),
        )


def explain(
    decree: Decree,
    conn: Any,
    person_id: str,
    as_of: dt.date | None = None,
    profile: Profile | None = None,
    plan: ExplainPlan | None = None,
) -> Explanation:
    """One person under ``decree`` on the registry in ``conn``, clause by clause.

    Each clause's value (true, false, unknown), its legal text and citation and the
    facts it read; then the outcome and why. ``as_of`` defaults to the decree's.
    ``plan``: ``decree`` prepared for ``as_of`` and ``profile`` (:class:`ExplainPlan`),
    so that nothing is compiled or rendered again.
    """
    if decree.parts and plan is None:  # a decree in parts: the part dated as_of
        decree = decree.evaluated_on(as_of)
    backend = as_backend(conn)
    if plan is not None and (plan.decree is not decree or (as_of and plan.as_of != as_of)):
        raise EngineError("explain: the plan given was prepared for another decree or date")
    as_of = as_of or (plan.as_of if plan is not None else None)
    ev = evaluate(
        decree,
        backend,
        as_of=as_of,
        person_ids=[person_id],
        profile=profile,
        compiled=plan.for_person(person_id) if plan is not None else None,
    )
    rows = ev.determinations.to_pylist()
    det = rows[0] if rows else None
    predicates = {c.id: c.predicate for c in decree.clauses}
    names = list(dict.fromkeys(f for p in predicates.values() for f in facts_read(p)))
    scope_axes = _scope_axes(decree)
    scope_facts = [fact for fact, _values in scope_axes] or (
        list(facts_read(decree.scope.predicate)) if decree.scope.predicate is not None else []
    )
    # a commutation's new end is computed from the sentence (docs/semantics.md, "Commutations")
    commutes = ["sentence.end", "sentence.death"] if _commutes(decree) else []
    person_names = list(
        dict.fromkeys([f for f in names if collection_of(f) is None] + scope_facts + commutes)
    )
    conv_names = [f for f in names if collection_of(f) == "convictions"]
    event_names = [f for f in names if collection_of(f) == "events"]
    people = _fetch(
        backend, ev.compiled, "people", [*_fact_columns(person_names), "left_out"], person_id
    )
    if not people:
        raise EngineError(f"person {person_id} is not in the registry")
    person_row = people[0]
    items = {
        "convictions": _fetch(
            backend, ev.compiled, "conv_rows", _fact_columns(conv_names), person_id
        ),
        "events": _fetch(backend, ev.compiled, "event_rows", _fact_columns(event_names), person_id)
        if event_names
        and "events" in {collection_of(n) for n in names}
        and _has_cte(ev.compiled, "event_rows")
        else [],
    }

    def value_of(name: str) -> Any:
        collection = collection_of(name)
        if collection is None:
            return (
                {c: person_row.get(c) for c in _fact_columns([name])}
                if (name in DURATION_FACTS or name == "person.age")
                else person_row.get(column_name(name))
            )
        return [
            {c: r.get(c) for c in _fact_columns([name])}
            if name in DURATION_FACTS
            else r.get(column_name(name))
            for r in items[collection]
        ]

    if det is None:
        return Explanation(
            person_id,
            decree.id,
            ev.as_of,
            None,
            None,
            _left_out_why(backend, ev.compiled, person_row, person_id, ev.as_of),
            [],
            None,
            ev.compiled.profile,
            ev.compiled.profile_hash,
        )
    unknown = {u["clause"]: u["missing"] for u in det["unknown"]}
    explained = [
        ClauseExplanation(
            c.id,
            c.kind,
            c.text,
            c.source.citation,
            c.source.basis,
            _value(c.kind, c.id, det, unknown),
            {f: value_of(f) for f in facts_read(c.predicate)},
            unknown.get(c.id, []),
            list(c.uses),
        )
        for c in decree.clauses
    ]
    if "scope" in ev.compiled.clause_ids:
        explained.append(
            ClauseExplanation(
                "scope",
                "require",
                _scope_text(scope_axes),
                SCOPE_CITATION,
                SCOPE_BASIS,
                _value("require", "scope", det, unknown),
                {f: value_of(f) for f in scope_facts},
                unknown.get("scope", []),
            )
        )
    return Explanation(
        person_id,
        decree.id,
        ev.as_of,
        det["outcome"],
        det["relief"],
        _why(det) + _commutation_why(decree, det, person_row, ev.as_of),
        explained,
        det,
        ev.compiled.profile,
        ev.compiled.profile_hash,
    )


def _left_out_why(
    backend: Any,
    compiled: CompiledDecree,
    person_row: dict[str, Any],
    person_id: str,
    as_of: dt.date,
) -> str:
    """Why a person is not in the population, dated by the event or sentence end that
    put them out (never by the as-of date, which is only when the run looked)."""
    reason = person_row.get("left_out") or "not in the population"
    when: dt.date | None = None
    if reason == "sentence ended":
        ends = _fetch(backend, compiled, "people", ["sentence__end"], person_id)
        when = ends[0]["sentence__end"] if ends else None
    elif reason != "not yet admitted":
        status = _fetch(
            backend, compiled, "status", ["event_date", "decree_id", "run_id"], person_id
        )
        if status:
            when = status[0]["event_date"]
            by = [f"decree {status[0]['decree_id']}"] if status[0]["decree_id"] else []
            by += [f"run {status[0]['run_id']}"] if status[0]["run_id"] else []
            if by:
                reason = f"{reason} by {', '.join(by)}"
    dated = f"{reason} on {when.isoformat()}" if when is not None else reason
    return f"not decided: {dated}; not in the population on {as_of.isoformat()}"


def _scope_axes(decree: Decree) -> list[tuple[str, tuple[str, ...]]]:
    """The scope's restricted axes as (fact, allowed values), in the compiler's order."""
    s = decree.scope
    axes = [
        ("facility.type", s.facility_types),
        ("facility.id", s.facilities),
        ("person.authority", s.authorities),
        ("facility.division", s.divisions),
    ]
    return [(fact, values) for fact, values in axes if values]


def _scope_text(axes: list[tuple[str, tuple[str, ...]]]) -> str:
    if not axes:
        return "The decree's scope: its scope predicate holds."
    parts = [
        f"{SCOPE_AXIS_NAMES[fact]} is one of {', '.join(values)}"
        if fact != "facility.division"
        else f"the facility lies in one of the divisions {', '.join(values)}"
        for fact, values in axes
    ]
    return "The decree's scope (not a clause of the text): " + "; and ".join(parts) + "."


def _has_cte(compiled: CompiledDecree, name: str) -> bool:
    return any(cte.alias == name for cte in compiled.query.find_all(exp.CTE))


def _why(det: dict[str, Any]) -> str:
    body = det.get("applied_by")
    said = _why_rule(det)
    # a decree naming bodies: who applies the decision (docs/semantics.md)
    return f"{said}; applied by {body}" if body else said


def _why_rule(det: dict[str, Any]) -> str:
    if det["outcome"] == "ineligible":
        if det["blocking"]:
            return "ineligible: blocked by " + ", ".join(det["blocking"])
        return "ineligible: no ground holds"
    if det["outcome"] == "review":
        parts = []
        if det["unknown"]:
            parts.append("unknown: " + ", ".join(u["clause"] for u in det["unknown"]))
        if det["referred"]:
            parts.append("referred by " + ", ".join(det["referred"]))
        return "review: " + "; ".join(parts)
    return f"eligible for {det['relief']} on " + ", ".join(det["grounds"])


def _commutes(decree: Decree) -> bool:
    return any(c.relief == "commutation" for c in decree.clauses)


def _commutation_why(
    decree: Decree, det: dict[str, Any], person: dict[str, Any], as_of: dt.date
) -> str:
    """What an eligible person's commutation does to their sentence, as the release computes
    it (workflow/execution.py ``sentence_change``); "" for any other determination."""
    if det["outcome"] != "eligible" or det["relief"] != "commutation":
        return ""
    terms = next(
        (
            c.commutation
            for c in decree.clauses
            if c.id in det["grounds"] and c.relief == "commutation" and c.commutation
        ),
        None,
    )
    if terms is None:
        return ""
    if terms.death_to_life and person.get("sentence__death"):
        return "; the death sentence becomes life"
    if (terms.fraction_of_remaining, terms.to_months, terms.reduce_by_months) == (None,) * 3:
        return "; no death sentence to commute (the release is refused)"
    end = person.get("sentence__end")
    new_end = commuted_end(end, as_of, terms)
    if end is None or new_end is None:
        return "; new sentence end not computable (sentence end unknown): given at the release"
    return f"; new sentence end {new_end.isoformat()} (from {end.isoformat()})"
