"""The symbolic person: every registry row a decree can look at, as solver variables.

One person, their facility, at most one health assessment that matters (the
latest on or before the as-of date), up to ``max_convictions`` convictions and
up to ``max_events`` custody events on or before the as-of date. The registry's
own rules hold (a term sentence has a term, no date before the birth date, one
offence code has one catalogue entry), and the person is in the run's
population: admitted or returned by their latest status event, sentence not yet
ended. The facts of :mod:`amnesty.decree.facts` are derived from these
variables exactly as :func:`amnesty.compile.interpreter.person_view` derives
them from rows; :mod:`amnesty.assurance.witness` turns a model back into rows.

What is not modelled (stated in ``docs/assurance.md``): aggregate sentences,
dates outside 1901-2099, terms over 600 months.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import z3

from amnesty.assurance.values import (
    TV,
    Day,
    Num,
    Parts,
    Span,
    Value,
    days_in_month,
    maximum,
    member,
    minimum,
    shift_months,
    year_of,
)
from amnesty.compile.sql.registry import ANCESTOR_DEPTH
from amnesty.decree.facts import FactDef, catalogue
from amnesty.registry.profiles import Profile
from amnesty.registry.schema import (
    INTENTS,
    SENTENCE_KINDS,
    SEVERITIES,
    SEXES,
)

MAX_TERM_MONTHS = 600
IN_TYPES = ("admission", "return")
STATUS_TYPES = ("admission", "return", "release", "death", "temporary_release")


class Strings:
    """Every text value as an integer code; a code no text has is a fresh, distinct text."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.texts: list[str] = []  # by code: a decree's set may intern thousands

    def code(self, text: str) -> int:
        found = self.codes.get(text)
        if found is None:
            found = self.codes[text] = len(self.texts)
            self.texts.append(text)
        return found

    def text(self, code: int) -> str | None:
        return self.texts[code] if 0 <= code < len(self.texts) else None


@dataclass
class Bounds:
    """How many convictions and events a symbolic person may have (the stated bound)."""

    convictions: int = 3
    events: int = 4


@dataclass
class Item:
    """One conviction or event slot: present or not, and its facts."""

    present: z3.BoolRef
    facts: dict[str, Value] = field(default_factory=dict)
    raw: dict[str, z3.ExprRef] = field(default_factory=dict)  # what the witness writer reads


class SymbolicPerson:
    def __init__(self, profile: Profile, as_of: dt.date, strings: Strings, bounds: Bounds):
        self.profile = profile
        self.as_of = as_of
        self.strings = strings
        self.bounds = bounds
        self.constraints: list[z3.BoolRef] = []
        self.catalogue: dict[str, FactDef] = catalogue(profile)
        self.facts: dict[str, Value] = {}
        self.raw: dict[str, z3.ExprRef] = {}
        self._person()
        self.convictions = [self._conviction(i) for i in range(bounds.convictions)]
        self.events = [self._event(i) for i in range(bounds.events)]
        self._prefix(self.convictions)
        self._prefix(self.events)
        self._offence_catalogue()
        self._sentence()
        self._not_before_birth()

    # -- the facility's division and the divisions above it -----------------------------
    def _ancestors(self, division: Num) -> list[Num]:
        """The chain the engine reads (compile/sql/registry.py, ``ANCESTOR_DEPTH``): the
        facility's division and up to four above it, each known only if the one below is,
        no division twice (the registry holds no cycle)."""
        chain = [division]
        for i in range(1, ANCESTOR_DEPTH):
            above = self.text(f"facility.anc{i}", self.flag(f"facility.anc{i}?"), None)
            self.add(z3.Implies(above.known, chain[-1].known))
            chain.append(above)
        for a, b in itertools.combinations(chain, 2):
            self.add(z3.Implies(z3.And(a.known, b.known), a.value != b.value))
        return chain

    def _province_in_chain(self, province: Num) -> None:
        """The province is the first division of the chain whose level is a province
        level, or unknown: any division of the chain, since the witness gives the ones
        below it other levels; the division itself when the profile has no other level,
        and never when it has no province level."""
        profile = self.profile
        if not profile.province_levels:
            self.add(z3.Not(province.known))
            return
        self.add(
            z3.Implies(
                province.known,
                z3.Or([z3.And(a.known, a.value == province.value) for a in self.ancestors]),
            )
        )
        if all(lv in profile.province_levels for lv in profile.division_levels):
            first = self.ancestors[0]
            self.add(z3.Implies(first.known, z3.And(province.known, province.value == first.value)))

    # -- helpers -----------------------------------------------------------------------
    def add(self, *constraints: z3.BoolRef) -> None:
        self.constraints.extend(constraints)

    def text(self, name: str, known: z3.BoolRef, values: tuple[str, ...] | None) -> Num:
        var = z3.Int(name)
        self.raw[name] = var
        if values:
            self.add(member(var, [self.strings.code(v) for v in values]))
        else:
            self.add(var >= 0)
        return Num(known, var)

    def flag(self, name: str, always: bool = False) -> z3.BoolRef:
        if always:
            return z3.BoolVal(True)
        var = z3.Bool(name)
        self.raw[name] = var
        return var

    def boolean(self, name: str, known: z3.BoolRef) -> TV:
        var = z3.Bool(name)
        self.raw[name] = var
        return TV(z3.And(known, var), z3.And(known, z3.Not(var)))

    def is_text(self, value: Num, *texts: str) -> z3.BoolRef:
        return z3.And(value.known, member(value.value, [self.strings.code(t) for t in texts]))

    def attribute(self, prefix: str, fact: FactDef, kind: str, sink: dict[str, Value]) -> None:
        name = fact.name.split(".", 1)[1]
        known = self.flag(f"{prefix}.{name}?")
        columns = {
            "person": self.profile.person_attributes,
            "conviction": self.profile.conviction_attributes + self.profile.offence_attributes,
            "facility": self.profile.facility_attributes,
            "event": self.profile.event_attributes,
        }[kind]
        column = next(c for c in columns if c.name == name)
        if kind == "facility":  # a facility's attribute is known only where one is recorded
            self.add(z3.Implies(known, self.held))
        if fact.type == "bool":
            sink[fact.name] = self.boolean(f"{prefix}.{name}", known)
        elif fact.type == "string":
            sink[fact.name] = self.text(f"{prefix}.{name}", known, column.values)
        elif fact.type == "date":
            sink[fact.name] = Day.variable(f"{prefix}.{name}", known, self.constraints)
        else:
            var = z3.Int(f"{prefix}.{name}")
            self.raw[f"{prefix}.{name}"] = var
            if column.min_value is not None:
                self.add(var >= column.min_value)
            sink[fact.name] = Num(known, var)

    # -- the person row, facility and health -------------------------------------------
    def _person(self) -> None:
        f = self.facts
        yes = z3.BoolVal(True)
        f["person.id"] = self.text("person.id", yes, None)
        f["person.sex"] = self.text("person.sex", self.flag("person.sex?"), SEXES)
        # A birth date is recorded to the day, the month or the year (its first possible
        # day is stored), or not at all; the age is known when every possible day agrees.
        birth = Day.variable("person.birth", self.flag("person.birth?"), self.constraints)
        precision = z3.Int("person.birth_precision")
        self.raw["person.birth_precision"] = precision
        self.add(precision >= 0, precision <= 2)  # 0 day, 1 month, 2 year
        q, r, m, d = birth.parts  # type: ignore[misc]
        self.add(z3.Implies(precision >= 1, d == 1), z3.Implies(precision == 2, m == 1))
        last_month = z3.If(precision == 2, 12, m)
        last_day = z3.If(precision == 0, d, days_in_month(r, last_month))
        self.birth = birth
        self.birth_precision = precision
        self.oldest = self._age((q, r, m, d))
        self.youngest = self._age((q, r, last_month, last_day))
        f["person.birth_date"] = Day(
            z3.And(birth.known, precision == 0), birth.ordinal, birth.parts
        )
        f["person.age"] = Num(z3.And(birth.known, self.oldest == self.youngest), self.oldest)
        f["person.citizenship"] = self.text("person.citizenship", self.flag("person.cit?"), None)
        authorities = self.profile.authorities or None  # the registry checks them on import
        f["person.authority"] = self.text(
            "person.authority", self.flag("person.auth?"), authorities
        )
        held = self.flag("facility?")
        self.held = held
        f["facility.id"] = self.text("facility.id", held, None)
        f["facility.type"] = self.text("facility.type", held, self.profile.facility_types)
        f["facility.authority"] = self.text("facility.authority", held, authorities)
        f["facility.division"] = self.text("facility.division", held, None)
        self.ancestors = self._ancestors(f["facility.division"])  # type: ignore[arg-type]
        province = self.flag("facility.province?")
        self.add(z3.Implies(province, held))
        f["facility.province"] = self.text("facility.province", province, None)
        self._province_in_chain(f["facility.province"])  # type: ignore[arg-type]
        assessed = self.flag("health?")
        self.assessed = assessed
        severity, able = self.flag("health.severity?"), self.flag("health.able?")
        self.add(z3.Implies(severity, assessed), z3.Implies(able, assessed))
        f["health.severity"] = self.text("health.severity", severity, SEVERITIES)
        f["health.able_to_work"] = self.boolean("health.able", able)
        on = Day.variable("health.on", assessed, self.constraints)
        self.add(on.ordinal <= self.as_of.toordinal())
        f["health.assessed_on"] = on
        for fact in self.catalogue.values():
            if fact.scope != "person" or fact.name in f:
                continue
            if fact.name.startswith("person."):
                self.attribute("person", fact, "person", f)
            elif fact.name.startswith("facility."):
                self.attribute("facility", fact, "facility", f)

    def _age(self, parts: Parts) -> z3.ArithRef:
        """Completed years at the as-of date of someone born on the day ``parts``."""
        y, m, d = year_of(parts), parts[2], parts[3]
        a = self.as_of
        common = a.year % 4 != 0 or (a.year % 100 == 0 and a.year % 400 != 0)
        leap_day = z3.And(m == 2, d == 29)
        moved = (3 * 100 + 1) if self.profile.leap_birthday == "mar1" else (2 * 100 + 28)
        key = z3.If(z3.And(leap_day, z3.BoolVal(common)), moved, m * 100 + d)
        return (a.year - 1901 - y) - z3.If(key > a.month * 100 + a.day, 1, 0)

    # -- convictions ---------------------------------------------------------------------
    def _conviction(self, i: int) -> Item:
        p = f"c{i}"
        item = Item(self.flag(f"{p}?"))
        f = item.facts
        yes = z3.BoolVal(True)
        f["conviction.id"] = self.text(f"{p}.id", yes, None)
        f["conviction.offence_code"] = self.text(f"{p}.code", yes, None)
        f["conviction.category"] = self.text(f"{p}.category", yes, self.profile.offence_categories)
        f["conviction.gravity"] = self.text(
            f"{p}.gravity", self.flag(f"{p}.gravity?"), self.profile.gravities
        )
        f["conviction.intent"] = self.text(f"{p}.intent", self.flag(f"{p}.intent?"), INTENTS)
        f["conviction.code_in_force"] = self.boolean(f"{p}.in_force", yes)
        kind = self.text(f"{p}.kind", yes, SENTENCE_KINDS)
        f["conviction.kind"] = kind
        # The registry may leave a term or a start unrecorded (#10): both are unknown then.
        term = z3.And(z3.Not(self.is_text(kind, "life", "death")), self.flag(f"{p}.months?"))
        months = z3.Int(f"{p}.months")
        self.raw[f"{p}.months"] = months
        self.add(months >= 1, months <= MAX_TERM_MONTHS)
        f["conviction.term_months"] = Num(term, months)
        start = Day.variable(f"{p}.start", self.flag(f"{p}.start?"), self.constraints)
        f["conviction.start"] = start
        end = shift_months(start, months, self.constraints)
        f["conviction.end"] = Day(z3.And(term, start.known), end.ordinal, end.parts)
        offence = Day.variable(f"{p}.offence", self.flag(f"{p}.offence?"), self.constraints)
        self.add(z3.Implies(z3.And(offence.known, start.known), offence.ordinal <= start.ordinal))
        f["conviction.offence_date"] = offence
        as_of = Day.const(self.as_of)
        f["conviction.served"] = Span(start, as_of)
        f["conviction.remaining"] = Span(as_of, f["conviction.end"])  # type: ignore[arg-type]
        f["conviction.term"] = Span(start, f["conviction.end"])  # type: ignore[arg-type]
        for fact in self.catalogue.values():
            if fact.scope == "conviction" and fact.name not in f:
                self.attribute(p, fact, "conviction", f)
        return item

    def _offence_catalogue(self) -> None:
        """One offence code, one catalogue row: same category, gravity, intent, validity."""
        shared = ("conviction.category", "conviction.gravity", "conviction.intent")
        cs = self.convictions
        for i, a in enumerate(cs):
            for b in cs[i + 1 :]:
                same: list[z3.BoolRef] = []
                for name in shared:
                    x, y = a.facts[name], b.facts[name]
                    assert isinstance(x, Num) and isinstance(y, Num)
                    same.append(x.known == y.known)
                    same.append(z3.Implies(x.known, x.value == y.value))
                fa, fb = a.facts["conviction.code_in_force"], b.facts["conviction.code_in_force"]
                assert isinstance(fa, TV) and isinstance(fb, TV)
                same.append(fa.t == fb.t)
                ca, cb = a.facts["conviction.offence_code"], b.facts["conviction.offence_code"]
                assert isinstance(ca, Num) and isinstance(cb, Num)
                self.add(z3.Implies(ca.value == cb.value, z3.And(same)))
                ia, ib = a.facts["conviction.id"], b.facts["conviction.id"]
                assert isinstance(ia, Num) and isinstance(ib, Num)
                self.add(z3.Implies(z3.And(a.present, b.present), ia.value != ib.value))
        as_of = self.as_of.toordinal()
        for c in cs:
            # A repealed code (valid_to before the as-of date) cannot be the offence of
            # a conviction whose offence date is after the repeal.
            in_force, offence = (
                c.facts["conviction.code_in_force"],
                c.facts["conviction.offence_date"],
            )
            assert isinstance(in_force, TV) and isinstance(offence, Day)
            self.add(z3.Implies(z3.And(in_force.f, offence.known), offence.ordinal < as_of))

    # -- events ----------------------------------------------------------------------------
    def _event(self, i: int) -> Item:
        p = f"e{i}"
        item = Item(self.flag(f"{p}?"))
        f = item.facts
        yes = z3.BoolVal(True)
        f["event.type"] = self.text(f"{p}.type", yes, self.profile.event_types)
        date = Day.variable(f"{p}.date", yes, self.constraints)
        self.add(date.ordinal <= self.as_of.toordinal())
        f["event.date"] = date
        f["event.country"] = self.text(f"{p}.country", self.flag(f"{p}.country?"), None)
        f["event.decree"] = self.text(f"{p}.decree", self.flag(f"{p}.decree?"), None)
        for fact in self.catalogue.values():
            if fact.scope == "event" and fact.name not in f:
                self.attribute(p, fact, "event", f)
        new_end = Day.variable(f"{p}.new_end", self.flag(f"{p}.new_end?"), self.constraints)
        self.add(z3.Implies(new_end.known, self.is_text(f["event.type"], "commutation")))  # type: ignore[arg-type]
        item.raw["new_end"] = new_end.ordinal
        item.facts["_new_end"] = new_end
        return item

    def _prefix(self, items: list[Item]) -> None:
        for a, b in itertools.pairwise(items):
            self.add(z3.Implies(b.present, a.present))
        if items and items[0].facts.get("event.date") is not None:
            # Events in date order, ties in slot order: the witness numbers them so.
            for a, b in itertools.pairwise(items):
                da, db = a.facts["event.date"], b.facts["event.date"]
                assert isinstance(da, Day) and isinstance(db, Day)
                self.add(z3.Implies(b.present, da.ordinal <= db.ordinal))

    def _latest(self, matches: list[z3.BoolRef]) -> list[z3.BoolRef]:
        """For each slot, whether it is the latest of the slots that match."""
        return [z3.And(m, *[z3.Not(n) for n in matches[i + 1 :]]) for i, m in enumerate(matches)]

    # -- the aggregate sentence and the population ----------------------------------------
    def _sentence(self) -> None:
        f = self.facts
        cs, es = self.convictions, self.events
        count = z3.Sum([z3.If(c.present, 1, 0) for c in cs]) if cs else z3.IntVal(0)
        any_conviction = z3.Or([c.present for c in cs]) if cs else z3.BoolVal(False)
        f["sentence.count"] = Num(z3.BoolVal(True), count)

        def kind(c: Item, *texts: str) -> z3.BoolRef:
            k = c.facts["conviction.kind"]
            assert isinstance(k, Num)
            return z3.And(c.present, self.is_text(k, *texts))

        life = z3.Or([kind(c, "life") for c in cs]) if cs else z3.BoolVal(False)
        death = z3.Or([kind(c, "death") for c in cs]) if cs else z3.BoolVal(False)
        f["sentence.life"] = TV(life, z3.Not(life))
        f["sentence.death"] = TV(death, z3.Not(death))
        big = z3.IntVal(10**9)

        def every(name: str) -> z3.BoolRef:
            """Every recorded conviction has ``name`` known."""
            return z3.And([z3.Implies(c.present, c.facts[name].known) for c in cs])  # type: ignore[union-attr]

        starts = [z3.If(c.present, c.facts["conviction.start"].ordinal, big) for c in cs]  # type: ignore[union-attr]
        f["sentence.start"] = Day(
            z3.And(any_conviction, every("conviction.start")), minimum(starts) if cs else big
        )
        months = [
            z3.If(c.present, c.facts["conviction.term_months"].value, 0)  # type: ignore[union-attr]
            for c in cs
        ]
        f["sentence.total_months"] = Num(
            z3.And(any_conviction, every("conviction.term_months")), z3.Sum(months) if cs else big
        )
        commuted = [
            z3.And(e.present, e.facts["_new_end"].known)  # type: ignore[union-attr]
            for e in es
        ]
        latest_commutation = self._latest(commuted)
        ends = [z3.If(c.present, c.facts["conviction.end"].ordinal, -big) for c in cs]  # type: ignore[union-attr]
        plain_end = maximum(ends) if cs else -big
        end_value: z3.ArithRef = plain_end
        for e, is_latest in zip(es, latest_commutation, strict=True):
            end_value = z3.If(is_latest, e.facts["_new_end"].ordinal, end_value)  # type: ignore[union-attr]
        any_commuted = z3.Or(commuted) if es else z3.BoolVal(False)
        end_known = z3.And(any_conviction, z3.Or(any_commuted, every("conviction.end")))
        end = Day(end_known, end_value)
        f["sentence.end"] = end
        as_of = Day.const(self.as_of)
        start = f["sentence.start"]
        assert isinstance(start, Day)
        f["sentence.served"] = Span(start, as_of)
        f["sentence.remaining"] = Span(as_of, end)
        f["sentence.term"] = Span(start, end)

        def typed(e: Item, *texts: str) -> z3.BoolRef:
            t = e.facts["event.type"]
            assert isinstance(t, Num)
            return z3.And(e.present, self.is_text(t, *texts))

        status = self._latest([typed(e, *STATUS_TYPES) for e in es])
        admitted = z3.Or(
            [z for e, s in zip(es, status, strict=True) for z in [z3.And(s, typed(e, *IN_TYPES))]]
        )
        self.in_population = z3.And(
            admitted, z3.Or(z3.Not(end.known), end.ordinal > self.as_of.toordinal())
        )

    def _not_before_birth(self) -> None:
        """The registry refuses any date of a person before their birth date."""
        b = self.birth
        dates: list[tuple[z3.BoolRef, Day]] = [(self.assessed, self.facts["health.assessed_on"])]  # type: ignore[list-item]
        for c in self.convictions:
            for name in ("conviction.start", "conviction.offence_date"):
                dates.append((c.present, c.facts[name]))  # type: ignore[arg-type]
        for e in self.events:
            dates.append((e.present, e.facts["event.date"]))  # type: ignore[arg-type]
            dates.append((e.present, e.facts["_new_end"]))  # type: ignore[arg-type]
        for present, day in dates:
            self.add(z3.Implies(z3.And(b.known, present, day.known), day.ordinal >= b.ordinal))
