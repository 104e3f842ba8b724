"""The reference interpreter: docs/semantics.md in plain Python, one person at a time.

Only a test oracle (tests/engine/test_agreement.py holds the compiled SQL to it).
It is written from the semantics, not from the SQL compiler: it reads registry
rows as Python dicts, computes ages by trying every possible birth day, and folds
three-valued logic with ``None`` as unknown. Never used on the hot path.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from amnesty.decree import ir
from amnesty.decree.model import Decree
from amnesty.registry.profiles import Profile

Row = Mapping[str, Any]
IN_TYPES = ("admission", "return")
OUT_REASONS = {"death": "died", "release": "released", "temporary_release": "temporarily released"}
SPAN_FACTS = {
    "sentence.served": ("sentence.start", None),
    "sentence.remaining": (None, "sentence.end"),
    "sentence.term": ("sentence.start", "sentence.end"),
    "conviction.served": ("conviction.start", None),
    "conviction.remaining": (None, "conviction.end"),
    "conviction.term": ("conviction.start", "conviction.end"),
}


# -- calendar ---------------------------------------------------------------------------


def shift_months(d: dt.date, months: int) -> dt.date:
    y, m = d.year, d.month + months
    while m > 12:
        y, m = y + 1, m - 12
    while m < 1:
        y, m = y - 1, m + 12
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def shift_calendar(d: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "days":
        return d + dt.timedelta(days=amount)
    return shift_months(d, amount * 12 if unit == "years" else amount)


def completed_years(birth: dt.date, on: dt.date, leap_rule: str) -> int:
    years = on.year - birth.year
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(on.year):
        birthday = dt.date(on.year, 3, 1) if leap_rule == "mar1" else dt.date(on.year, 2, 28)
    else:
        birthday = dt.date(on.year, birth.month, birth.day)
    return years - 1 if birthday > on else years


def possible_births(birth: dt.date | None, precision: str | None) -> list[dt.date]:
    if birth is None:
        return []
    if precision == "month":
        last = calendar.monthrange(birth.year, birth.month)[1]
        return [dt.date(birth.year, birth.month, d) for d in range(1, last + 1)]
    if precision == "year":
        first = dt.date(birth.year, 1, 1)
        return [
            first + dt.timedelta(days=i) for i in range(366 if calendar.isleap(birth.year) else 365)
        ]
    return [birth]


# -- durations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cal:
    amount: int
    unit: str


@dataclass(frozen=True)
class Span:
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class CalMonths:
    """A fraction in calendar months: whole months, then days (None: unknown)."""

    months: int | None
    days: int


@dataclass(frozen=True)
class ExactDays:
    days: Fraction | None


# -- three-valued helpers ---------------------------------------------------------------


def and3(values: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def or3(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def cmp(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return {
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
        "=": a == b,
        "!=": a != b,
    }[op]


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


# -- one person -------------------------------------------------------------------------


@dataclass
class PersonView:
    facts: dict[str, Any]
    ages: set[int]  # completed years for every possible birth day (empty: unknown)
    convictions: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass
class Evaluator:
    as_of: dt.date
    person: PersonView
    clause_if_empty: bool | None = None
    item: dict[str, Any] | None = field(default=None)
    # Inside a nested quantifier: the enclosing quantifier's item (the other collection).
    outer: dict[str, Any] | None = field(default=None)

    def fact(self, name: str) -> Any:
        if name.startswith(("conviction.", "event.")):
            assert self.item is not None, name
            if name not in self.item and self.outer is not None:
                return self.outer.get(name)
            return self.item.get(name)
        return self.person.facts.get(name)

    def ev(self, node: ir.Expr) -> Any:
        if isinstance(node, ir.Literal):
            return node.value
        if isinstance(node, ir.Duration):
            return Cal(node.amount, node.unit)
        if isinstance(node, ir.AsOf):
            return self.as_of
        if isinstance(node, ir.Fact):
            if node.name in SPAN_FACTS:
                a, b = SPAN_FACTS[node.name]
                return Span(
                    self.as_of if a is None else self.fact(a),
                    self.as_of if b is None else self.fact(b),
                )
            return self.fact(node.name)
        if isinstance(node, ir.Between):
            return Span(self.ev(node.start), self.ev(node.end))
        if isinstance(node, ir.Scaled):
            d = self.days(self.ev(node.operand))
            return ExactDays(None if d is None else d * node.fraction)
        if isinstance(node, ir.CalendarFraction):
            m = self.ev(node.months)
            if m is None:
                return CalMonths(None, 0)
            return CalMonths(*ir.calendar_parts(node.fraction, m))
        if isinstance(node, ir.Extreme):
            vals = [self.ev(o) for o in node.operands]
            pick = min if node.kind == "min" else max
            if node.type == "duration":
                ds = [self.days(v) for v in vals]
                return ExactDays(None if any(d is None for d in ds) else pick(ds))  # type: ignore[type-var]
            return None if any(v is None for v in vals) else pick(vals)
        if isinstance(node, ir.Shift):
            return self.shift(self.ev(node.date), self.ev(node.duration), node.sign)
        if isinstance(node, ir.Not):
            v = self.ev(node.operand)
            return None if v is None else not v
        if isinstance(node, ir.And):
            return and3([self.ev(o) for o in node.operands])
        if isinstance(node, ir.Or):
            return or3([self.ev(o) for o in node.operands])
        if isinstance(node, ir.Compare):
            return self.compare(node)
        if isinstance(node, ir.InSet):
            v = self.ev(node.operand)
            if v is None:
                return None
            return any(v == lit.value and type(v) is type(lit.value) for lit in node.values)
        if isinstance(node, ir.IsKnown):
            v = self.ev(node.operand)
            if isinstance(v, Cal):
                return True
            if isinstance(v, Span):
                return v.start is not None and v.end is not None
            if isinstance(v, ExactDays):
                return v.days is not None
            if isinstance(v, CalMonths):
                return v.months is not None
            return v is not None
        if isinstance(node, ir.Quantifier):
            return self.quantify(node)
        if isinstance(node, ir.Count):
            vals = [self.within(item).ev(node.condition) for item in self.items(node.collection)]
            return None if any(v is None for v in vals) else sum(1 for v in vals if v is True)
        if isinstance(node, ir.Contested):
            vals = [self.ev(e) for _, e in node.readings]
            if not vals:
                return None
            return vals[0] if all(v == vals[0] and type(v) is type(vals[0]) for v in vals) else None
        raise TypeError(node)

    def items(self, collection: str) -> list[dict[str, Any]]:
        return self.person.convictions if collection == "convictions" else self.person.events

    def within(self, item: dict[str, Any]) -> Evaluator:
        return Evaluator(self.as_of, self.person, self.clause_if_empty, item, self.item)

    def quantify(self, node: ir.Quantifier) -> bool | None:
        vals = [self.within(i).ev(node.condition) for i in self.items(node.collection)]
        if node.kind == "any":
            return or3(vals)
        if node.kind == "none":
            v = or3(vals)
            return None if v is None else not v
        if not vals:
            return node.if_empty if node.if_empty is not None else self.clause_if_empty
        return and3(vals)

    def days(self, v: Any) -> Fraction | None:
        if isinstance(v, ExactDays):
            return v.days
        if isinstance(v, Span):
            if v.start is None or v.end is None:
                return None
            return Fraction((v.end - v.start).days)
        if isinstance(v, Cal):
            # The period of that length that ends on the as-of date (docs/semantics.md,
            # "A calendar duration as days"), as time served up to the as-of date is.
            return Fraction((self.as_of - shift_calendar(self.as_of, -v.amount, v.unit)).days)
        raise TypeError(v)

    def shift(self, date: dt.date | None, dur: Any, sign: int) -> dt.date | None:
        if date is None:
            return None
        if isinstance(dur, Cal):
            return shift_calendar(date, sign * dur.amount, dur.unit)
        if isinstance(dur, CalMonths):
            if dur.months is None:
                return None
            return shift_months(date, sign * dur.months) + dt.timedelta(days=sign * dur.days)
        d = self.days(dur)
        if d is None:
            return None
        return date + dt.timedelta(days=sign * math.ceil(d))

    def compare(self, node: ir.Compare) -> bool | None:
        left_age = isinstance(node.left, ir.Fact) and node.left.name == "person.age"
        right_age = isinstance(node.right, ir.Fact) and node.right.name == "person.age"
        if left_age or right_age:
            op = node.op if left_age else FLIPPED[node.op]
            other = self.ev(node.right if left_age else node.left)
            if other is None or not self.person.ages:
                return None
            results = {cmp(op, age, other) for age in self.person.ages}
            return results.pop() if len(results) == 1 else None
        a, b = self.ev(node.left), self.ev(node.right)
        durations = (Cal, Span, ExactDays, CalMonths)
        if isinstance(a, CalMonths) or isinstance(b, CalMonths):
            # the type check lets a calendar fraction meet only a span
            flipped = isinstance(a, CalMonths)
            span, cal, op = (b, a, FLIPPED[node.op]) if flipped else (a, b, node.op)
            assert isinstance(span, Span) and isinstance(cal, CalMonths)
            if span.start is None or span.end is None:
                return None
            return cmp(op, span.end, self.shift(span.start, cal, 1))
        if isinstance(a, durations) or isinstance(b, durations):
            if isinstance(a, Span) and isinstance(b, Cal):
                return self.span_vs_cal(node.op, a, b)
            if isinstance(a, Cal) and isinstance(b, Span):
                return self.span_vs_cal(FLIPPED[node.op], b, a)
            return cmp(node.op, self.days(a), self.days(b))
        return cmp(node.op, a, b)

    def span_vs_cal(self, op: str, span: Span, cal: Cal) -> bool | None:
        if span.start is None or span.end is None:
            return None
        return cmp(op, span.end, shift_calendar(span.start, cal.amount, cal.unit))


# -- the registry as Python rows ------------------------------------------------------


@dataclass
class Registry:
    """The registry tables as lists of dicts, indexed for per-person lookups."""

    tables: Mapping[str, Sequence[Row]]

    def __post_init__(self) -> None:
        self.facilities = {f["facility_id"]: f for f in self.tables.get("facilities", [])}
        self.divisions = {d["division_id"]: d for d in self.tables.get("divisions", [])}
        self.offences = {o["offence_code"]: o for o in self.tables.get("offences", [])}
        self.by_person: dict[str, dict[str, list[Row]]] = {}
        for name in ("convictions", "health_assessments", "events"):
            for row in self.tables.get(name, []):
                self.by_person.setdefault(row["person_id"], {}).setdefault(name, []).append(row)

    def rows(self, person_id: str, table: str) -> list[Row]:
        return self.by_person.get(person_id, {}).get(table, [])


def _latest(rows: list[Row], date_key: str, id_key: str) -> Row | None:
    return max(rows, key=lambda r: (r[date_key], r[id_key])) if rows else None


def known_day(row: Row, date_key: str, precision_key: str) -> dt.date | None:
    """A conviction date, or None when only its month or year is recorded: every fact
    built on it would otherwise be decided on its first possible day. A null
    precision is a day (extracts older than revision 0014)."""
    return row.get(date_key) if row.get(precision_key) in (None, "day") else None


def sentence_parts_ends(rows: Sequence[Row]) -> list[dt.date | None]:
    """The end of each part of a person's sentence: a conviction standing alone, or an
    aggregate (convictions sharing ``aggregate_id``, served one after another from the
    group's earliest start; no end when a member has none)."""
    groups: dict[str, list[Row]] = {}
    ends: list[dt.date | None] = []
    for c in rows:
        months = None if c["sentence_kind"] in ("life", "death") else c.get("term_months")
        if c.get("aggregate_id") is None:
            ends.append(_end(known_day(c, "start_date", "start_precision"), months))
        else:
            groups.setdefault(c["aggregate_id"], []).append({**c, "term_months": months})
    for members in groups.values():
        terms = [m["term_months"] for m in members]
        starts = [known_day(m, "start_date", "start_precision") for m in members]
        known = None not in terms and None not in starts
        ends.append(_end(min(starts), sum(terms)) if known else None)  # type: ignore[type-var]
    return ends


def _end(start: dt.date | None, months: int | None) -> dt.date | None:
    """A term's end: unknown when its start or its length is."""
    return None if start is None or months is None else shift_months(start, months)


def person_view(
    p: Row, reg: Registry, as_of: dt.date, profile: Profile
) -> tuple[PersonView, str | None, Row | None]:
    """The person's facts at ``as_of``, and why they are left out (None: in)."""
    pid = p["person_id"]
    events = [e for e in reg.rows(pid, "events") if e["event_date"] <= as_of]
    status = _latest(
        [e for e in events if e["event_type"] in IN_TYPES or e["event_type"] in OUT_REASONS],
        "event_date",
        "event_id",
    )
    commutation = _latest(
        [e for e in events if e["event_type"] == "commutation" and e.get("new_end_date")],
        "event_date",
        "event_id",
    )
    convictions = []
    for c in reg.rows(pid, "convictions"):
        o = reg.offences.get(c["offence_code"])
        kind = c["sentence_kind"]
        months = None if kind in ("life", "death") else c.get("term_months")
        start = known_day(c, "start_date", "start_precision")
        end = _end(start, months)
        in_force = bool(
            o is not None
            and o["valid_from"] <= as_of
            and (o.get("valid_to") is None or o["valid_to"] >= as_of)
        )
        item = {
            "conviction.id": c["conviction_id"],
            "conviction.offence_code": c["offence_code"],
            "conviction.category": o["category"] if o else None,
            "conviction.gravity": o.get("gravity") if o else None,
            "conviction.intent": o.get("intent") if o else None,
            "conviction.code_in_force": in_force,
            "conviction.offence_date": known_day(c, "offence_date", "offence_date_precision"),
            "conviction.kind": kind,
            "conviction.term_months": months,
            "conviction.start": start,
            "conviction.end": end,
        }
        for attr in profile.conviction_attributes:
            item[f"conviction.{attr.name}"] = c.get(attr.name)
        for attr in profile.offence_attributes:
            item[f"conviction.{attr.name}"] = o.get(attr.name) if o else None
        convictions.append(item)
    event_items = [
        {
            "event.type": e["event_type"],
            "event.date": e["event_date"],
            "event.country": e.get("country"),
            "event.decree": e.get("decree_id"),
            **{f"event.{a.name}": e.get(a.name) for a in profile.event_attributes},
        }
        for e in events
    ]

    ends = sentence_parts_ends(reg.rows(pid, "convictions"))
    if not convictions:
        sentence_end = None
    elif commutation is not None:
        sentence_end = commutation["new_end_date"]
    else:
        known = [e for e in ends if e is not None]
        sentence_end = max(known) if len(known) == len(ends) else None
    months_list = [c["conviction.term_months"] for c in convictions]

    facility = reg.facilities.get(p.get("facility_id")) if p.get("facility_id") else None
    chain: list[Row] = []
    div = reg.divisions.get(facility["division_id"]) if facility else None
    while div is not None and len(chain) < 5:
        chain.append(div)
        div = reg.divisions.get(div["parent_id"]) if div.get("parent_id") else None
    levels = profile.province_levels
    province = next((d["division_id"] for d in chain if d["level"] in levels), None)
    health = _latest(
        [h for h in reg.rows(pid, "health_assessments") if h["assessed_on"] <= as_of],
        "assessed_on",
        "assessment_id",
    )
    precision = p.get("birth_precision")
    births = possible_births(p.get("birth_date"), precision)
    ages = {completed_years(b, as_of, profile.leap_birthday) for b in births}
    facts: dict[str, Any] = {
        "person.id": pid,
        "person.sex": p.get("sex"),
        "person.birth_date": None if precision in ("month", "year") else p.get("birth_date"),
        "person.age": next(iter(ages)) if len(ages) == 1 else None,
        "person.citizenship": p.get("citizenship"),
        "person.authority": p.get("custody_authority"),
        "facility.id": p.get("facility_id"),
        "facility.type": facility["facility_type"] if facility else None,
        "facility.authority": facility["authority"] if facility else None,
        "facility.division": facility["division_id"] if facility else None,
        "facility.province": province,
        "facility.ancestors": [d["division_id"] for d in chain],
        "health.severity": health.get("severity") if health else None,
        "health.able_to_work": health.get("able_to_work") if health else None,
        "health.assessed_on": health["assessed_on"] if health else None,
        "sentence.count": len(convictions),
        "sentence.start": None
        if not convictions or any(c["conviction.start"] is None for c in convictions)
        else min(c["conviction.start"] for c in convictions),
        "sentence.end": sentence_end,
        "sentence.total_months": (
            None if not convictions or any(m is None for m in months_list) else sum(months_list)
        ),
        "sentence.life": any(c["conviction.kind"] == "life" for c in convictions),
        "sentence.death": any(c["conviction.kind"] == "death" for c in convictions),
    }
    for attr in profile.person_attributes:
        facts[f"person.{attr.name}"] = p.get(attr.name)
    for attr in profile.facility_attributes:
        facts[f"facility.{attr.name}"] = facility.get(attr.name) if facility else None

    reason: str | None
    if status is None or (
        status["event_type"] not in IN_TYPES and status["event_type"] not in OUT_REASONS
    ):
        reason = "not yet admitted"
    elif status["event_type"] in OUT_REASONS:
        reason = OUT_REASONS[status["event_type"]]
    elif sentence_end is not None and sentence_end <= as_of:
        reason = "sentence ended"
    else:
        reason = None
    view = PersonView(facts, ages, convictions, event_items)
    return view, reason, status


# -- missing facts and outcome ----------------------------------------------------------


def _nodes(node: ir.Expr) -> list[ir.Expr]:
    out: list[ir.Expr] = [node]
    kids: list[ir.Expr] = []
    if isinstance(node, ir.Between):
        kids = [node.start, node.end]
    elif isinstance(node, (ir.Scaled, ir.Not, ir.InSet, ir.IsKnown)):
        kids = [node.operand]
    elif isinstance(node, ir.CalendarFraction):
        kids = [node.months]
    elif isinstance(node, (ir.Extreme, ir.And, ir.Or)):
        kids = list(node.operands)
    elif isinstance(node, ir.Shift):
        kids = [node.date, node.duration]
    elif isinstance(node, ir.Compare):
        kids = [node.left, node.right]
    elif isinstance(node, (ir.Quantifier, ir.Count)):
        kids = [node.condition]
    elif isinstance(node, ir.Contested):
        kids = [e for _, e in node.readings]
    for k in kids:
        out.extend(_nodes(k))
    return out


def _fact_unknown(name: str, view: PersonView, as_of: dt.date) -> bool:
    collection = (
        view.convictions
        if name.startswith("conviction.")
        else (view.events if name.startswith("event.") else None)
    )
    if name in SPAN_FACTS:
        a, b = SPAN_FACTS[name]
        keys = [k for k in (a, b) if k is not None]
        if collection is None:
            return any(view.facts.get(k) is None for k in keys)
        return any(any(i.get(k) is None for k in keys) for i in collection)
    if collection is None:
        return view.facts.get(name) is None
    return any(i.get(name) is None for i in collection)


def missing(predicate: ir.Expr, ev: Evaluator, clause_if_empty: bool | None) -> list[str]:
    """The missing facts, each named once, in the order the name first appears in the
    predicate (whether or not that first appearance is the one that is missing), as
    the compiled SQL lists them."""
    order: list[str] = []
    found: set[str] = set()
    view = ev.person
    for node in _nodes(predicate):
        name: str | None = None
        unknown = False
        if isinstance(node, ir.Fact):
            name, unknown = node.name, _fact_unknown(node.name, view, ev.as_of)
        elif isinstance(node, ir.Quantifier) and node.kind == "all":
            stated = node.if_empty if node.if_empty is not None else clause_if_empty
            if stated is None:
                name, unknown = node.collection, not ev.items(node.collection)
        elif isinstance(node, ir.Contested):
            vals = [ev.ev(e) for _, e in node.readings]
            name = "contested"
            unknown = any(v != vals[0] or type(v) is not type(vals[0]) for v in vals)
        if name is not None:
            if name not in order:
                order.append(name)
            if unknown:
                found.add(name)
    return [name for name in order if name in found]


def _scope(decree: Decree, view: PersonView, ev: Evaluator) -> tuple[bool | None, list[str]] | None:
    s = decree.scope
    f = view.facts
    parts: list[bool | None] = []
    miss: list[str] = []

    def axis(name: str, values: tuple[str, ...]) -> None:
        v = f.get(name)
        parts.append(None if v is None else v in values)
        if v is None:
            miss.append(name)

    if s.facility_types:
        axis("facility.type", s.facility_types)
    if s.facilities:
        axis("facility.id", s.facilities)
    if s.authorities:
        axis("person.authority", s.authorities)
    if s.divisions:
        if f["facility.division"] is None:
            parts.append(None)
            miss.append("facility.division")
        else:
            parts.append(any(d in s.divisions for d in f["facility.ancestors"]))
    if parts:
        return and3(parts), miss
    if s.predicate is not None:
        return ev.ev(s.predicate), missing(s.predicate, ev, None)
    return None


def decide(decree: Decree, view: PersonView, as_of: dt.date) -> dict[str, Any]:
    values: list[tuple[str, str, bool | None, str | None]] = []  # id, kind, value, relief
    unknown: list[dict[str, Any]] = []
    by_id = {c.id: c for c in decree.clauses}
    for c in decree.clauses:
        ev = Evaluator(as_of, view, c.if_empty)
        v = ev.ev(c.predicate)
        gives = (c.relief or "release") if c.kind == "grant" or c.without_ground else None
        values.append((c.id, c.kind, v, gives))
        if v is None:
            unknown.append({"clause": c.id, "missing": missing(c.predicate, ev, c.if_empty)})
    scope = _scope(decree, view, Evaluator(as_of, view))
    if scope is not None:
        values.append(("scope", "require", scope[0], None))
        if scope[0] is None:
            unknown.append({"clause": "scope", "missing": scope[1]})

    def of(kind: str) -> list[tuple[str, bool | None, str | None]]:
        return [(i, v, r) for i, k, v, r in values if k == kind]

    grants, excludes, requires, refers = of("grant"), of("exclude"), of("require"), of("refer")
    ranking = list(decree.relief_ranking)

    def rank(relief: str | None) -> int:
        return ranking.index(relief) if relief in ranking else len(ranking)

    true_grants = [g for g in grants if g[1] is True]
    possible = [g for g in grants if g[1] is not False]
    best_true = min(true_grants, key=lambda g: rank(g[2]), default=None)  # first on ties
    best_possible = min(possible, key=lambda g: rank(g[2]), default=None)
    # A refer that also reaches persons with no ground (docs/semantics.md, step 3): the
    # first in file order that holds or is unknown.
    unfounded = next((r for r in refers if by_id[r[0]].without_ground and r[1] is not False), None)
    if (
        any(v is True for _, v, _ in excludes)
        or any(v is False for _, v, _ in requires)
        or (not possible and unfounded is None)
    ):
        outcome = "ineligible"
    elif (
        any(v is None for _, v, _ in excludes + requires)
        or not true_grants
        or any(v is not False for _, v, _ in refers)
        or (
            best_true is not None
            and best_possible is not None
            and rank(best_possible[2]) < rank(best_true[2])
        )
    ):
        outcome = "review"
    else:
        outcome = "eligible"
    relief = None
    if outcome == "eligible" and best_true is not None:
        relief = best_true[2]
    elif outcome == "review" and best_possible is not None:
        relief = best_possible[2]
    elif outcome == "review" and unfounded is not None:
        relief = unfounded[2]
    deciding = {"eligible": best_true, "review": best_possible or unfounded}.get(outcome)
    body = None
    if deciding is not None:
        body = by_id[deciding[0]].applied_by or decree.applied_by
    undertakings: list[str] = []
    if outcome != "ineligible":
        for u in decree.undertakings:
            who = None if u.who is None else Evaluator(as_of, view).ev(u.who)
            if u.who is None or who is not False:
                undertakings.append(u.id)
    blocking = [
        i
        for i, k, v, _ in values
        if (k == "exclude" and v is True) or (k == "require" and v is False)
    ]
    row = {
        "outcome": outcome,
        "relief": relief,
        "grounds": [i for i, v, _ in true_grants],
        "blocking": blocking,
        "referred": [i for i, v, _ in refers if v is not False],
        "unknown": unknown,
        "undertakings": undertakings,
    }
    if decree.names_bodies:
        row["applied_by"] = body
    return row


@dataclass
class Interpretation:
    determinations: dict[str, dict[str, Any]]
    left_out: Counter[tuple[str, str | None, str | None]]


def interpret(
    decree: Decree,
    tables: Mapping[str, Sequence[Row]],
    profile: Profile,
    as_of: dt.date | None = None,
) -> Interpretation:
    """Decide every person of ``tables`` (registry rows as dicts) under ``decree``."""
    if decree.parts:
        decree = decree.evaluated_on(as_of)
    as_of = as_of or decree.as_of
    reg = Registry(tables)
    out: dict[str, dict[str, Any]] = {}
    left: Counter[tuple[str, str | None, str | None]] = Counter()
    for p in tables.get("persons", []):
        view, reason, status = person_view(p, reg, as_of, profile)
        if reason is not None:
            released = status is not None and status["event_type"] in (
                "release",
                "temporary_release",
            )
            left[
                (
                    reason,
                    status.get("decree_id") if released and status else None,
                    status.get("run_id") if released and status else None,
                )
            ] += 1
            continue
        row = decide(decree, view, as_of)
        out[p["person_id"]] = {
            "person_id": p["person_id"],
            "facility_id": p.get("facility_id"),
            **row,
        }
    return Interpretation(out, left)
