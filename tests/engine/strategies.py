"""Hypothesis strategies: small registries and random decrees over the fact catalogue."""

from __future__ import annotations

import datetime as dt
import functools
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from amnesty.decree import ir
from amnesty.decree.model import Clause, Decree, Scope, Source, Undertaking

AS_OFS = (dt.date(2015, 10, 8), dt.date(2015, 2, 28), dt.date(2016, 2, 29), dt.date(2015, 4, 24))
CODES = ("T1", "V1", "D1", "P1", "B1")
FACILITIES = ("F1", "F2", "F3")

PLACES: dict[str, list[dict[str, Any]]] = {
    "divisions": [
        {"division_id": "KP", "parent_id": None, "level": "country"},
        {"division_id": "P1", "parent_id": "KP", "level": "province"},
        {"division_id": "S1", "parent_id": "KP", "level": "special_city"},
        {"division_id": "C1", "parent_id": "P1", "level": "county"},
    ],
    "facilities": [
        {
            "facility_id": "F1",
            "facility_type": "penitentiary",
            "authority": "MPS",
            "division_id": "C1",
        },
        {
            "facility_id": "F2",
            "facility_type": "political_prison_camp",
            "authority": "MSS",
            "division_id": "P1",
        },
        {
            "facility_id": "F3",
            "facility_type": "detention_centre",
            "authority": "MPS",
            "division_id": "S1",
        },
    ],
    "offences": [
        {
            "offence_code": "T1",
            "category": "theft",
            "gravity": "medium",
            "intent": "intentional",
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": None,
        },
        {
            "offence_code": "V1",
            "category": "violent_crime",
            "gravity": "grave",
            "intent": None,
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": None,
        },
        {
            "offence_code": "D1",
            "category": "drug_trafficking",
            "gravity": None,
            "intent": "intentional",
            "valid_from": dt.date(2015, 10, 8),
            "valid_to": None,
        },
        {
            "offence_code": "P1",
            "category": "political",
            "gravity": "especially_grave",
            "intent": "intentional",
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": dt.date(2015, 4, 24),
        },
        {
            "offence_code": "B1",
            "category": "illegal_border_crossing",
            "gravity": "small",
            "intent": "negligent",
            "valid_from": dt.date(1990, 1, 1),
            "valid_to": None,
        },
    ],
}
for _t in ("divisions", "facilities", "offences"):
    for _r in PLACES[_t]:
        _r.setdefault("name", "x")
        _r.setdefault("name_romanised", "x")
        _r.setdefault("name_is_real", True)
        _r.setdefault("title", "x")
        _r.setdefault("title_romanised", "x")

# Dates near the boundaries that matter: month ends, leap days, the as-of dates.
_DAYS = st.sampled_from(
    [
        dt.date(2015, 1, 31),
        dt.date(2014, 2, 28),
        dt.date(2012, 2, 29),
        dt.date(2015, 4, 24),
        dt.date(2014, 4, 24),
        dt.date(2014, 10, 8),
        dt.date(2015, 10, 8),
        dt.date(2015, 10, 9),
        dt.date(2016, 2, 29),
        dt.date(2010, 8, 31),
        dt.date(2005, 12, 31),
    ]
) | st.dates(dt.date(2000, 1, 1), dt.date(2017, 1, 1))
_BIRTHS = st.sampled_from(
    [
        dt.date(1960, 4, 24),
        dt.date(1960, 10, 8),
        dt.date(1960, 2, 29),
        dt.date(1961, 2, 28),
        dt.date(1960, 3, 1),
        dt.date(1997, 10, 8),
        dt.date(1960, 10, 1),
    ]
) | st.dates(dt.date(1940, 1, 1), dt.date(2000, 12, 31))


def _partial(draw: st.DrawFn, day: dt.date | None) -> tuple[dt.date | None, str | None]:
    """A conviction date and its precision: none without a date, else mostly a day."""
    if day is None:
        return None, None
    precision = draw(st.sampled_from([None, "day", "day", "month", "year"]))
    if precision == "month":
        return day.replace(day=1), precision
    if precision == "year":
        return day.replace(month=1, day=1), precision
    return day, precision


@st.composite
def registries(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n = draw(st.integers(1, 6))
    persons, convictions, health, events = [], [], [], []
    for i in range(n):
        pid = f"P{i:02d}"
        precision = draw(st.sampled_from([None, "day", "day", "month", "year"]))
        birth = None if precision is None else draw(_BIRTHS)
        if precision == "month":
            birth = birth.replace(day=1) if birth else None
        if precision == "year":
            birth = birth.replace(month=1, day=1) if birth else None
        persons.append(
            {
                "person_id": pid,
                "name": pid,
                "name_romanised": pid,
                "sex": draw(st.sampled_from(["M", "F", None])),
                "birth_date": birth,
                "birth_precision": precision,
                "citizenship": draw(st.sampled_from(["PRK", "CHN", None])),
                "facility_id": draw(st.sampled_from([*FACILITIES, None])),
                "custody_authority": draw(st.sampled_from(["MPS", "MSS", None])),
                "veteran": draw(st.sampled_from([True, False, None])),
                "minor_children": draw(st.sampled_from([0, 1, 3, None])),
            }
        )
        for j in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["term", "term", "life", "death", "suspended"]))
            # A start or offence date known only to its month or year (#10), stored as
            # its first possible day; a null precision is a day.
            offence, offence_precision = _partial(draw, draw(st.none() | _DAYS))
            start, start_precision = _partial(draw, draw(st.one_of(_DAYS, _DAYS, _DAYS, st.none())))
            convictions.append(
                {
                    "conviction_id": f"C{i:02d}{j}",
                    "person_id": pid,
                    "offence_code": draw(st.sampled_from(CODES)),
                    "offence_date": offence,
                    "offence_date_precision": offence_precision,
                    "sentence_kind": kind,
                    # A term or a start not recorded (#10): unknown, never invented.
                    "term_months": None
                    if kind in ("life", "death")
                    else draw(st.sampled_from([1, 12, 24, 60, 120, 6, None])),
                    "start_date": start,
                    "start_precision": start_precision,
                    # Convictions sharing an id form one aggregate sentence (#10).
                    "aggregate_id": draw(st.sampled_from([None, None, "A1", "A2"])),
                    "first_conviction": draw(st.sampled_from([True, False, None])),
                }
            )
        for j in range(draw(st.integers(0, 2))):
            health.append(
                {
                    "assessment_id": f"H{i:02d}{j}",
                    "person_id": pid,
                    "assessed_on": draw(_DAYS),
                    "severity": draw(st.sampled_from(["none", "severe", "terminal", None])),
                    "able_to_work": draw(st.sampled_from([True, False, None])),
                }
            )
        kinds = [
            "admission",
            "admission",
            "release",
            "death",
            "temporary_release",
            "return",
            "repatriation",
            "defection_attempt",
            "commutation",
            "transfer",
        ]
        n_events = draw(st.integers(0, 4))
        if draw(st.booleans()):
            events.append(
                {
                    "event_id": f"E{i:02d}0",
                    "person_id": pid,
                    "event_type": "admission",
                    "event_date": dt.date(2005, 1, 1),
                }
            )
        for j in range(1, n_events + 1):
            etype = draw(st.sampled_from(kinds))
            events.append(
                {
                    "event_id": f"E{i:02d}{j}",
                    "person_id": pid,
                    "event_type": etype,
                    "event_date": draw(_DAYS),
                    "country": draw(st.sampled_from(["CHN", "VNM", None]))
                    if etype == "repatriation"
                    else None,
                    "decree_id": draw(st.sampled_from(["kp-08", None]))
                    if etype == "release"
                    else None,
                    "run_id": "run-1" if etype == "release" else None,
                    "new_end_date": draw(st.none() | _DAYS) if etype == "commutation" else None,
                }
            )
    return {
        **PLACES,
        "persons": persons,
        "convictions": convictions,
        "health_assessments": health,
        "events": events,
    }


# -- decrees ------------------------------------------------------------------------------


def F(name: str, t: ir.Type) -> ir.Fact:
    return ir.Fact(name=name, type=t)


def L(v: Any, t: ir.Type) -> ir.Literal:
    return ir.Literal(value=v, type=t)


OPS = st.sampled_from(["<", "<=", ">", ">=", "=", "!="])
PERSON_STRINGS = {
    "person.sex": ["M", "F"],
    "person.citizenship": ["PRK", "CHN"],
    "person.authority": ["MPS", "MSS"],
    "facility.type": ["penitentiary", "detention_centre"],
    "facility.id": ["F1", "F2"],
    "facility.province": ["P1", "S1"],
    "facility.division": ["C1", "P1"],
    "health.severity": ["severe", "terminal", "none"],
}
CONV_STRINGS = {
    "conviction.category": ["theft", "political", "drug_trafficking"],
    "conviction.gravity": ["grave", "small", "medium"],
    "conviction.intent": ["intentional"],
    "conviction.kind": ["term", "life"],
    "conviction.offence_code": ["T1", "P1"],
}
EVENT_STRINGS = {
    "event.type": ["repatriation", "defection_attempt", "release"],
    "event.country": ["CHN", "VNM"],
    "event.decree": ["kp-08"],
}
PERSON_DATES = ["person.birth_date", "health.assessed_on", "sentence.start", "sentence.end"]
CONV_DATES = ["conviction.offence_date", "conviction.start", "conviction.end"]
PERSON_DURS = ["sentence.served", "sentence.remaining", "sentence.term"]
CONV_DURS = ["conviction.served", "conviction.remaining", "conviction.term"]
PERSON_INTS = ["sentence.count", "sentence.total_months", "person.minor_children"]
PERSON_BOOLS = ["health.able_to_work", "sentence.life", "sentence.death", "person.veteran"]
CONV_BOOLS = ["conviction.code_in_force", "conviction.first_conviction"]
DURATIONS = st.builds(
    lambda a, u: ir.Duration(amount=a, unit=u),
    st.sampled_from([0, 1, 6, 10, 12, 30]),
    st.sampled_from(["days", "months", "years"]),
)
FRACTIONS = st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(2, 3), Fraction(3, 4)])


@functools.cache
def leaves(ctx: str) -> st.SearchStrategy[ir.Expr]:
    strings = dict(PERSON_STRINGS)
    dates, durs, bools = list(PERSON_DATES), list(PERSON_DURS), list(PERSON_BOOLS)
    if ctx == "convictions":
        strings |= CONV_STRINGS
        dates += CONV_DATES
        durs += CONV_DURS
        bools += CONV_BOOLS
    if ctx == "events":
        strings = dict(EVENT_STRINGS) | {"person.authority": ["MSS"]}
        dates = ["event.date", "sentence.start"]
    string_cmp = st.sampled_from(sorted(strings)).flatmap(
        lambda f: st.one_of(
            st.builds(
                lambda op, v: ir.Compare(op=op, left=F(f, "string"), right=L(v, "string")),
                st.sampled_from(["=", "!="]),
                st.sampled_from(strings[f]),
            ),
            st.builds(
                lambda vs: ir.InSet(
                    operand=F(f, "string"), values=tuple(L(v, "string") for v in vs)
                ),
                st.lists(st.sampled_from(strings[f]), max_size=2, unique=True),
            ),
        )
    )
    date_val = st.one_of(
        st.sampled_from(dates).map(lambda f: F(f, "date")),
        st.just(ir.AsOf()),
        _DAYS.map(lambda d: L(d, "date")),
    )
    dur_val: st.SearchStrategy[ir.Expr] = st.one_of(
        st.sampled_from(durs).map(lambda f: F(f, "duration")),
        st.builds(lambda a, b: ir.Between(start=a, end=b), date_val, date_val),
    )
    dur_any = st.one_of(
        dur_val,
        st.builds(lambda f, d: ir.Scaled(fraction=f, operand=d), FRACTIONS, dur_val),
        st.builds(
            lambda k, a, b: ir.Extreme(kind=k, operands=(a, b), type="duration"),
            st.sampled_from(["min", "max"]),
            dur_val,
            DURATIONS,
        ),
    )
    # A fraction in calendar months (#10): of a literal term, or of the conviction's
    # term in months; it stands only beside a date or a span, as the checker allows.
    months: st.SearchStrategy[ir.Expr] = st.sampled_from([0, 1, 7, 12, 72]).map(
        lambda m: L(m, "int")
    )
    if ctx == "convictions":
        months = st.one_of(months, st.just(F("conviction.term_months", "int")))
    in_months = st.builds(
        lambda f, m: ir.CalendarFraction(fraction=f, months=m),
        st.one_of(FRACTIONS, st.sampled_from([Fraction(1, 7), Fraction(5, 4)])),
        months,
    )
    shifted = st.builds(
        lambda d, u, s: ir.Shift(date=d, duration=u, sign=s),
        date_val,
        st.one_of(DURATIONS, dur_any, in_months),
        st.sampled_from([1, -1]),
    )
    date_any = st.one_of(
        date_val,
        shifted,
        st.builds(
            lambda k, a, b: ir.Extreme(kind=k, operands=(a, b), type="date"),
            st.sampled_from(["min", "max"]),
            date_val,
            date_val,
        ),
    )
    out = [
        string_cmp,
        st.builds(lambda op, a, b: ir.Compare(op=op, left=a, right=b), OPS, date_any, date_any),
        st.builds(
            lambda op, a, b: ir.Compare(op=op, left=a, right=b),
            OPS,
            dur_any,
            st.one_of(DURATIONS, dur_any),
        ),
        st.builds(lambda op, a, b: ir.Compare(op=op, left=a, right=b), OPS, DURATIONS, dur_val),
        st.builds(
            lambda op, a, b, flip: (
                ir.Compare(op=op, left=b, right=a) if flip else ir.Compare(op=op, left=a, right=b)
            ),
            OPS,
            dur_val,
            in_months,
            st.booleans(),
        ),
        st.builds(
            lambda op, n, flip: (
                ir.Compare(op=op, left=L(n, "int"), right=F("person.age", "int"))
                if flip
                else ir.Compare(op=op, left=F("person.age", "int"), right=L(n, "int"))
            ),
            OPS,
            st.sampled_from([0, 17, 18, 54, 55, 56, 60]),
            st.booleans(),
        ),
        st.builds(
            lambda op, f, n: ir.Compare(op=op, left=F(f, "int"), right=L(n, "int")),
            OPS,
            st.sampled_from(
                PERSON_INTS + (["conviction.term_months"] if ctx == "convictions" else [])
            ),
            st.sampled_from([0, 1, 2, 12, 60]),
        ),
        # `n in {v, low..high}` (#10): a set of numbers with ranges, as the checker lowers it
        st.builds(
            lambda f, vs, rs, neg: (
                ir.Not(operand=ir.in_ranges(F(f, "int"), vs, rs))
                if neg
                else ir.in_ranges(F(f, "int"), vs, rs)
            ),
            st.sampled_from(
                PERSON_INTS + (["conviction.term_months"] if ctx == "convictions" else [])
            ),
            st.lists(st.sampled_from([0, 1, 12, 60]), max_size=2, unique=True).map(
                lambda vs: tuple(L(v, "int") for v in vs)
            ),
            st.lists(
                st.tuples(st.sampled_from([0, 1, 2, 12]), st.sampled_from([0, 1, 3, 12, 60])),
                min_size=1,
                max_size=2,
            ).map(tuple),
            st.booleans(),
        ),
        st.sampled_from(bools).map(lambda f: F(f, "bool")),
        st.sampled_from(bools + dates).map(
            lambda f: ir.IsKnown(operand=F(f, "date" if f in dates else "bool"))
        ),
        st.builds(lambda f: ir.IsKnown(operand=F(f, "int")), st.just("person.age")),
    ]
    if ctx == "person":
        out.append(
            st.builds(
                lambda k, a, op, n: ir.Compare(
                    op=op,
                    left=ir.Extreme(
                        kind=k, operands=(F("person.age", "int"), F(a, "int")), type="int"
                    ),
                    right=L(n, "int"),
                ),
                st.sampled_from(["min", "max"]),
                st.just("sentence.count"),
                st.sampled_from(["<", ">="]),
                st.sampled_from([1, 55]),
            )
        )
    return st.one_of(out)


# A quantifier over the other collection inside one over convictions or events (#10):
# the inner condition reads either item, so its leaves are both contexts' and a date of
# one item against a date of the other, the link nesting exists for.
NESTED = {"convictions": "events", "events": "convictions"}


@functools.cache
def nested_leaves(outer: str) -> st.SearchStrategy[ir.Expr]:
    cross = st.builds(
        lambda op, c: ir.Compare(op=op, left=F("event.date", "date"), right=F(c, "date")),
        OPS,
        st.sampled_from(CONV_DATES),
    )
    return st.one_of(leaves(NESTED[outer]), leaves(outer), cross, cross)


@functools.cache
def nested_predicates(outer: str, depth: int) -> st.SearchStrategy[ir.Expr]:
    base = nested_leaves(outer)
    if depth <= 0:
        return base
    sub = nested_predicates(outer, depth - 1)
    return st.one_of(
        base,
        sub.map(lambda e: ir.Not(operand=e)),
        st.lists(sub, min_size=0, max_size=3).map(lambda es: ir.And(operands=tuple(es))),
        st.lists(sub, min_size=0, max_size=3).map(lambda es: ir.Or(operands=tuple(es))),
    )


def inner_quantifiers(outer: str, depth: int) -> list[st.SearchStrategy[ir.Expr]]:
    """A quantifier and a count over the other collection, inside one over ``outer``."""
    inner_coll = NESTED[outer]
    nested = nested_predicates(outer, depth)
    return [
        st.builds(
            lambda k, c, e: ir.Quantifier(kind=k, collection=inner_coll, condition=c, if_empty=e),
            st.sampled_from(["any", "all", "none"]),
            nested,
            st.sampled_from([None, True, False]),
        ),
        st.builds(
            lambda c, op, n: ir.Compare(
                op=op, left=ir.Count(collection=inner_coll, condition=c), right=L(n, "int")
            ),
            nested,
            OPS,
            st.sampled_from([0, 1, 2]),
        ),
    ]


@functools.cache
def predicates(ctx: str = "person", depth: int = 3) -> st.SearchStrategy[ir.Expr]:
    base = leaves(ctx)
    if depth <= 0:
        return base
    sub = predicates(ctx, depth - 1)
    options = [
        base,
        base,
        sub.map(lambda e: ir.Not(operand=e)),
        st.lists(sub, min_size=0, max_size=3).map(lambda es: ir.And(operands=tuple(es))),
        st.lists(sub, min_size=0, max_size=3).map(lambda es: ir.Or(operands=tuple(es))),
    ]
    if ctx == "person":
        # as the language makes them: readings of a clause, never of one conviction
        options.append(
            st.builds(
                lambda a, b: ir.Contested(applied="a", readings=(("a", a), ("b", b))), sub, sub
            )
        )
    if ctx == "person":
        for coll in ("convictions", "events"):
            inner = predicates(coll, depth - 1)
            options.append(
                st.builds(
                    lambda k, c, e, coll=coll: ir.Quantifier(
                        kind=k, collection=coll, condition=c, if_empty=e
                    ),
                    st.sampled_from(["any", "all", "none"]),
                    inner,
                    st.sampled_from([None, None, True, False]),
                )
            )
            options.append(
                st.builds(
                    lambda c, op, n, coll=coll: ir.Compare(
                        op=op, left=ir.Count(collection=coll, condition=c), right=L(n, "int")
                    ),
                    inner,
                    OPS,
                    st.sampled_from([0, 1, 2]),
                )
            )
    if ctx in NESTED:
        # Weighted up: drawn as one option among the rest, nesting is rare.
        options += 3 * inner_quantifiers(ctx, depth - 1)
    return st.one_of(options)


@functools.cache
def linked() -> st.SearchStrategy[ir.Expr]:
    """A clause whose quantifier holds a quantifier over the other collection, drawn on
    its own: left to the mix of ``predicates`` nesting is too rare to be tested."""

    def outer(coll: str) -> st.SearchStrategy[ir.Expr]:
        inner = st.one_of(*inner_quantifiers(coll, 1))
        condition = st.one_of(
            inner,
            st.builds(lambda a, b: ir.And(operands=(a, b)), predicates(coll, 1), inner),
        )
        return st.one_of(
            st.builds(
                lambda k, c, e: ir.Quantifier(kind=k, collection=coll, condition=c, if_empty=e),
                st.sampled_from(["any", "all", "none"]),
                condition,
                st.sampled_from([None, True, False]),
            ),
            st.builds(
                lambda c, op, n: ir.Compare(
                    op=op, left=ir.Count(collection=coll, condition=c), right=L(n, "int")
                ),
                condition,
                OPS,
                st.sampled_from([0, 1, 2]),
            ),
        )

    return st.one_of(outer("convictions"), outer("events"))


RELIEFS = ("release", "conditional_release", "temporary_release", "commutation")


@st.composite
def decrees(draw: st.DrawFn) -> Decree:
    n = draw(st.integers(1, 5))
    # bodies (#10): when the decree names some, determinations carry applied_by
    bodies = draw(st.sampled_from([{}, {}, {"court": "c", "council": "k"}]))
    body = st.sampled_from([None, *bodies]) if bodies else st.just(None)
    clauses = []
    for i in range(n):
        kind = draw(st.sampled_from(["grant", "grant", "exclude", "require", "refer"]))
        # a refer that also reaches persons with no ground (#10), with its relief
        unfounded = kind == "refer" and draw(st.booleans())
        relief = None
        if kind == "grant":
            relief = draw(st.sampled_from(RELIEFS))
        elif unfounded:
            relief = draw(st.sampled_from(["release", "conditional_release"]))
        clauses.append(
            Clause(
                id=f"{kind[0]}{i}",
                kind=kind,
                predicate=draw(st.one_of(predicates(), linked())),
                text=f"clause {i}",
                source=Source("S", basis=draw(st.sampled_from(["source", "assumption"]))),
                relief=relief,
                if_empty=draw(st.sampled_from([None, None, True, False])),
                applied_by=draw(body) if kind == "grant" or unfounded else None,
                without_ground=unfounded,
            )
        )
    scope = draw(
        st.sampled_from(
            [
                Scope(),
                Scope(facility_types=("penitentiary", "detention_centre")),
                Scope(divisions=("P1",)),
                Scope(authorities=("MPS",)),
                Scope(facilities=("F1", "F3")),
            ]
        )
    )
    undertakings = tuple(
        Undertaking(f"u{j}", "pledge", draw(st.none() | predicates(depth=1)))
        for j in range(draw(st.integers(0, 2)))
    )
    ranking = draw(st.sampled_from([RELIEFS, tuple(reversed(RELIEFS))]))
    return Decree(
        id="hyp",
        title="t",
        jurisdiction="ru-2015",
        occasion="t",
        authority="t",
        signed=None,
        as_of=draw(st.sampled_from(AS_OFS)),
        execution_window=None,
        scope=scope,
        clauses=tuple(clauses),
        undertakings=undertakings,
        relief_ranking=ranking,
        bodies=bodies,
        applied_by=draw(body),
    )
