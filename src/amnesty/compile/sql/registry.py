"""The registry side of the query: CTEs that turn the registry tables into one
row of facts per person (``people``), with the population decided on the way.

    places      facility -> type, authority, division, province, ancestors
    conv_rows   one row per conviction with its facts (offence catalogue joined)
    conv_agg    ONE GROUP BY over conv_rows: sentence aggregates + phase-1 quantifiers
    event_rows  events on or before the as-of date
    event_agg   phase-1 quantifiers over events (only when the decree reads events)
    status      the latest custody-status event on or before the as-of date
    commuted    the latest commutation with a new end date on or before the as-of date
    health      the latest assessment on or before the as-of date
    people      everyone, every person fact, and ``left_out`` (NULL = in the population)
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from amnesty.compile.sql.aggregates import Aggregates
from amnesty.compile.sql.columns import column_name
from amnesty.compile.sql.dialect import DATE, SqlDialect, lit
from amnesty.registry.profiles import Profile

STATUS_IN = ("admission", "return")
STATUS_OUT = ("release", "death", "temporary_release")
ANCESTOR_DEPTH = 5
LEFT_OUT_REASONS = {
    "death": "died",
    "release": "released",
    "temporary_release": "temporarily released",
}


def _strings(values: Sequence[str]) -> list[exp.Expr]:
    return [lit(v) for v in values]


def _int(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("INT"))


class BoundPersons:
    """The persons a query is restricted to, given when it runs rather than written
    into it: the query's one parameter ``$1``, a list of person ids
    (:meth:`SqlDialect.in_bound_list`). One rendering then serves every batch."""

    def __repr__(self) -> str:
        return "BOUND_PERSONS"


BOUND_PERSONS = BoundPersons()

# None: everyone; ids: those, as literals; BOUND_PERSONS: those bound at execution.
PersonFilter = Sequence[str] | BoundPersons | None


def _person_filter(person_ids: PersonFilter, column: str, d: SqlDialect) -> exp.Expr | None:
    if person_ids is None:
        return None
    table, _, name = column.rpartition(".")
    if isinstance(person_ids, BoundPersons):
        return d.in_bound_list(exp.column(name, table or None))
    if not person_ids:
        return exp.false()
    return exp.In(this=exp.column(name, table or None), expressions=_strings(person_ids))


class RegistryCTEs:
    def __init__(
        self,
        dialect: SqlDialect,
        as_of: dt.date,
        profile: Profile,
        aggregates: Aggregates,
        person_ids: PersonFilter,
    ) -> None:
        self.d = dialect
        self.as_of = as_of
        self.profile = profile
        self.aggs = aggregates
        self.person_ids = person_ids

    def as_of_sql(self) -> exp.Expr:
        return self.d.date_literal(self.as_of.isoformat())

    def _where(self, select: exp.Select, column: str, *extra: exp.Expr) -> exp.Select:
        own = _person_filter(self.person_ids, column, self.d)
        conds = [c for c in (own, *extra) if c is not None]
        return select.where(exp.and_(*conds), copy=False) if conds else select

    # -- places -----------------------------------------------------------------------

    def places(self) -> exp.Select:
        sel = exp.select(
            "f.facility_id",
            exp.alias_(exp.column("facility_type", "f"), "facility_type"),
            exp.alias_(exp.column("authority", "f"), "authority"),
            exp.alias_(exp.column("division_id", "f"), "division_id"),
            *[
                exp.alias_(exp.column(a.name, "f"), f"attr__{a.name}")
                for a in self.profile.facility_attributes
            ],
        ).from_("facilities AS f", copy=False)
        levels = self.profile.province_levels
        province_ifs = []
        for i in range(ANCESTOR_DEPTH):
            parent = "f.division_id" if i == 0 else f"d{i - 1}.parent_id"
            sel = sel.join(
                f"divisions AS d{i}",
                on=f"d{i}.division_id = {parent}",
                join_type="left",
                copy=False,
            )
            sel = sel.select(exp.alias_(exp.column("division_id", f"d{i}"), f"anc{i}"), copy=False)
            province_ifs.append(
                exp.If(
                    this=exp.In(this=exp.column("level", f"d{i}"), expressions=_strings(levels)),
                    true=exp.column("division_id", f"d{i}"),
                )
            )
        # A profile without province levels has no facility.province: always unknown.
        province = (
            exp.Case(ifs=province_ifs)
            if levels
            else exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR"))
        )
        return sel.select(exp.alias_(province, "province"), copy=False)

    # -- convictions ----------------------------------------------------------------

    def _term_months(self) -> exp.Expr:
        """A conviction's term in months; NULL for life, death or an unrecorded term."""
        life_or_death = exp.In(
            this=exp.column("sentence_kind", "c"), expressions=_strings(("life", "death"))
        )
        return exp.Case(
            ifs=[exp.If(this=life_or_death, true=exp.Null())],
            default=exp.column("term_months", "c"),
        )

    def _known_day(self, date: str, precision: str) -> exp.Expr:
        """A conviction date, NULL when only its month or year is recorded (as the
        interpreter's ``known_day``); a NULL precision is a day."""
        # Anything but a day (or a null, an older extract's day) is partial.
        partial = exp.NEQ(
            this=exp.Coalesce(this=exp.column(precision, "c"), expressions=[lit("day")]),
            expression=lit("day"),
        )
        return exp.Case(
            ifs=[exp.If(this=partial, true=exp.Cast(this=exp.Null(), to=DATE))],
            default=exp.column(date, "c"),
        )

    def _start(self) -> exp.Expr:
        return self._known_day("start_date", "start_precision")

    def _own_end(self) -> exp.Expr:
        months = self._term_months()
        return exp.Case(
            ifs=[exp.If(this=exp.Is(this=months, expression=exp.Null()), true=exp.Null())],
            default=self.d.add_months(self._start(), months),
        )

    def counted_end(self) -> exp.Expr:
        """The end a conviction gives the person's sentence. Alone, its own end. In an
        aggregate (convictions sharing ``aggregate_id``) the terms are served one after
        another: the group's earliest start plus the sum of its terms, and no end at all
        when one member has none (life, death, term unrecorded)."""
        group = [exp.column("person_id", "c"), exp.column("aggregate_id", "c")]

        def over(func: exp.Expr) -> exp.Expr:
            return exp.Window(this=func, partition_by=[g.copy() for g in group])

        unrecorded = exp.or_(
            exp.Is(this=self._term_months(), expression=exp.Null()),
            exp.Is(this=self._start(), expression=exp.Null()),
        )
        open_ended = over(
            exp.Sum(this=exp.Case(ifs=[exp.If(this=unrecorded, true=lit(1))], default=lit(0)))
        )
        aggregate_end = exp.Case(
            ifs=[exp.If(this=exp.GT(this=open_ended, expression=lit(0)), true=exp.Null())],
            default=self.d.add_months(
                over(exp.Min(this=self._start())),
                _int(over(exp.Sum(this=self._term_months()))),
            ),
        )
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.Is(this=exp.column("aggregate_id", "c"), expression=exp.Null()),
                    true=self._own_end(),
                )
            ],
            default=aggregate_end,
        )

    def conv_rows(self) -> exp.Select:
        kind = exp.column("sentence_kind", "c")
        months = self._term_months()
        start = self._start()
        end = self._own_end()
        valid_from, valid_to = exp.column("valid_from", "o"), exp.column("valid_to", "o")
        in_force = exp.Coalesce(
            this=exp.and_(
                exp.LTE(this=valid_from, expression=self.as_of_sql()),
                exp.or_(
                    exp.Is(this=valid_to, expression=exp.Null()),
                    exp.GTE(this=valid_to, expression=self.as_of_sql()),
                ),
            ),
            expressions=[exp.false()],
        )
        columns: dict[str, exp.Expr] = {
            "conviction.id": exp.column("conviction_id", "c"),
            "conviction.offence_code": exp.column("offence_code", "c"),
            "conviction.category": exp.column("category", "o"),
            "conviction.gravity": exp.column("gravity", "o"),
            "conviction.intent": exp.column("intent", "o"),
            "conviction.code_in_force": in_force,
            "conviction.offence_date": self._known_day("offence_date", "offence_date_precision"),
            "conviction.kind": kind,
            "conviction.term_months": months,
            "conviction.start": start,
            "conviction.end": end,
        }
        for attr in self.profile.conviction_attributes:
            columns[f"conviction.{attr.name}"] = exp.column(attr.name, "c")
        for attr in self.profile.offence_attributes:
            columns[f"conviction.{attr.name}"] = exp.column(attr.name, "o")
        sel = (
            exp.select(exp.column("person_id", "c"))
            .from_("convictions AS c", copy=False)
            .join(
                "offences AS o", on="o.offence_code = c.offence_code", join_type="left", copy=False
            )
        )
        sel = sel.select(*[exp.alias_(e, column_name(n)) for n, e in columns.items()], copy=False)
        sel = sel.select(exp.alias_(self.counted_end(), "counted_end"), copy=False)
        return self._where(sel, "c.person_id")

    def conv_agg(self) -> exp.Select:
        def flag(cond: exp.Expr) -> exp.Expr:
            return exp.Max(this=exp.Case(ifs=[exp.If(this=cond, true=lit(1))], default=lit(0)))

        end, months, kind = (
            exp.column("counted_end"),
            exp.column("conviction__term_months"),
            exp.column("conviction__kind"),
        )
        sel = exp.select(
            "person_id",
            exp.alias_(exp.Count(this=exp.Star()), "conv_n"),
            # The earliest start is unknown when any start is (MIN would skip it).
            exp.alias_(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(
                                this=flag(
                                    exp.Is(
                                        this=exp.column("conviction__start"),
                                        expression=exp.Null(),
                                    )
                                ),
                                expression=lit(1),
                            ),
                            true=exp.Null(),
                        )
                    ],
                    default=exp.Min(this=exp.column("conviction__start")),
                ),
                "conv_start",
            ),
            exp.alias_(exp.Max(this=end), "conv_end"),
            exp.alias_(flag(exp.Is(this=end, expression=exp.Null())), "conv_end_null"),
            exp.alias_(exp.Sum(this=months), "conv_months"),
            exp.alias_(flag(exp.Is(this=months, expression=exp.Null())), "conv_months_null"),
            exp.alias_(flag(exp.EQ(this=kind, expression=lit("life"))), "conv_life"),
            exp.alias_(flag(exp.EQ(this=kind, expression=lit("death"))), "conv_death"),
            *self.aggs.columns("convictions", 1),
        ).from_("conv_rows", copy=False)
        return sel.group_by("person_id", copy=False)

    # -- events --------------------------------------------------------------------

    def event_rows(self) -> exp.Select:
        sel = exp.select(
            "person_id",
            exp.alias_(exp.column("event_type"), "event__type"),
            exp.alias_(exp.column("event_date"), "event__date"),
            exp.alias_(exp.column("country"), "event__country"),
            exp.alias_(exp.column("decree_id"), "event__decree"),
            *[
                exp.alias_(exp.column(a.name), f"event__{a.name}")
                for a in self.profile.event_attributes
            ],
        ).from_("events", copy=False)
        return self._where(sel, "person_id", self._on_or_before("event_date"))

    def event_agg(self) -> exp.Select:
        return (
            exp.select(
                "person_id",
                exp.alias_(exp.Count(this=exp.Star()), "event_n"),
                *self.aggs.columns("events", 1),
            )
            .from_("event_rows", copy=False)
            .group_by("person_id", copy=False)
        )

    def _on_or_before(self, column: str) -> exp.Expr:
        return exp.LTE(this=exp.column(column), expression=self.as_of_sql())

    def _latest(
        self, table: str, date_col: str, id_col: str, cols: list[str], condition: exp.Expr
    ) -> exp.Select:
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.column("person_id")],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=exp.column(date_col), desc=True),
                    exp.Ordered(this=exp.column(id_col), desc=True),
                ]
            ),
        )
        inner = exp.select("person_id", *cols, exp.alias_(rank, "rn")).from_(table, copy=False)
        inner = self._where(inner, "person_id", self._on_or_before(date_col), condition)
        return (
            exp.select("person_id", *cols)
            .from_(inner.subquery("latest"), copy=False)
            .where("rn = 1", copy=False)
        )

    def status(self) -> exp.Select:
        types = exp.In(this=exp.column("event_type"), expressions=_strings(STATUS_IN + STATUS_OUT))
        return self._latest(
            "events",
            "event_date",
            "event_id",
            ["event_type", "event_date", "decree_id", "run_id"],
            types,
        )

    def commuted(self) -> exp.Select:
        cond = exp.and_(
            exp.EQ(this=exp.column("event_type"), expression=lit("commutation")),
            exp.Not(this=exp.Is(this=exp.column("new_end_date"), expression=exp.Null())),
        )
        return self._latest("events", "event_date", "event_id", ["new_end_date"], cond)

    def health(self) -> exp.Select:
        return self._latest(
            "health_assessments",
            "assessed_on",
            "assessment_id",
            ["assessed_on", "severity", "able_to_work"],
            exp.true(),
        )

    # -- people ----------------------------------------------------------------------

    def sentence_end(self) -> exp.Expr:
        from_convictions = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=exp.column("conv_end_null", "ca"), expression=lit(1)),
                    true=exp.Null(),
                )
            ],
            default=exp.column("conv_end", "ca"),
        )
        # A commutation's new end date on or before the as-of date overrides.
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.Is(this=exp.column("conv_n", "ca"), expression=exp.Null()),
                    true=exp.Null(),
                )
            ],
            default=exp.Coalesce(
                this=exp.column("new_end_date", "cm"), expressions=[from_convictions]
            ),
        )

    def left_out(self) -> exp.Expr:
        st = exp.column("event_type", "st")
        ifs = [exp.If(this=exp.Is(this=st, expression=exp.Null()), true=lit("not yet admitted"))]
        ifs += [
            exp.If(this=exp.EQ(this=st, expression=lit(t)), true=lit(r))
            for t, r in LEFT_OUT_REASONS.items()
        ]
        ifs.append(
            exp.If(
                this=exp.LTE(this=self.sentence_end(), expression=self.as_of_sql()),
                true=lit("sentence ended"),
            )
        )
        return exp.Case(ifs=ifs)

    def _released(self, column: str) -> exp.Expr:
        released = exp.In(
            this=exp.column("event_type", "st"),
            expressions=_strings(("release", "temporary_release")),
        )
        return exp.Case(ifs=[exp.If(this=released, true=exp.column(column, "st"))])

    def age_columns(self) -> dict[str, exp.Expr]:
        b, prec = exp.column("birth_date", "p"), exp.column("birth_precision", "p")
        y, m = _int(exp.Year(this=b)), _int(exp.Month(this=b))
        first_of_month = self.d.make_date(y, m, lit(1))
        lo = exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=prec, expression=lit("month")), true=first_of_month),
                exp.If(
                    this=exp.EQ(this=prec, expression=lit("year")),
                    true=self.d.make_date(y, lit(1), lit(1)),
                ),
            ],
            default=b,
        )
        hi = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=prec, expression=lit("month")),
                    true=self.d.add_days(self.d.add_months(first_of_month, lit(1)), lit(-1)),
                ),
                exp.If(
                    this=exp.EQ(this=prec, expression=lit("year")),
                    true=self.d.make_date(y, lit(12), lit(31)),
                ),
            ],
            default=b,
        )
        age_lo, age_hi = self._age(hi), self._age(lo)
        exact = exp.Case(ifs=[exp.If(this=exp.EQ(this=age_lo, expression=age_hi), true=age_lo)])
        birth_date = exp.Case(
            ifs=[
                exp.If(
                    this=exp.In(this=prec, expressions=_strings(("month", "year"))),
                    true=exp.Cast(this=exp.Null(), to=DATE),
                )
            ],
            default=b,
        )
        return {
            "person__age_lo": age_lo,
            "person__age_hi": age_hi,
            "person__age": exact,
            "person__birth_date": birth_date,
        }

    def _age(self, birth: exp.Expr) -> exp.Expr:
        """Completed years at the as-of date: the birthday of the as-of year counts
        once it is reached; a 29 February birthday falls on 28 February (or 1 March,
        by profile) when the as-of year is common."""
        md: exp.Expr = exp.Add(
            this=exp.Mul(this=_int(exp.Month(this=birth)), expression=lit(100)),
            expression=_int(exp.Day(this=birth)),
        )
        if not calendar.isleap(self.as_of.year):
            moved = 301 if self.profile.leap_birthday == "mar1" else 228
            md = exp.Case(
                ifs=[exp.If(this=exp.EQ(this=md, expression=lit(229)), true=lit(moved))], default=md
            )
        key = self.as_of.month * 100 + self.as_of.day
        not_yet = exp.Case(
            ifs=[exp.If(this=exp.GT(this=md, expression=lit(key)), true=lit(1))], default=lit(0)
        )
        return exp.Sub(
            this=exp.Sub(this=lit(self.as_of.year), expression=_int(exp.Year(this=birth))),
            expression=not_yet,
        )

    def sentence_ends(self) -> exp.Select:
        """The lean counterpart of ``conv_agg`` for the left-out query: per person,
        only what ``sentence_end`` reads, from the convictions alone (no offences,
        no quantifiers)."""
        ends = exp.select(
            exp.column("person_id", "c"), exp.alias_(self.counted_end(), "counted_end")
        ).from_("convictions AS c", copy=False)
        ends = self._where(ends, "c.person_id")
        end = exp.column("counted_end", "e")
        null_end = exp.Case(
            ifs=[exp.If(this=exp.Is(this=end.copy(), expression=exp.Null()), true=lit(1))],
            default=lit(0),
        )
        sel = exp.select(
            exp.column("person_id", "e"),
            exp.alias_(exp.Count(this=exp.Star()), "conv_n"),
            exp.alias_(exp.Max(this=end), "conv_end"),
            exp.alias_(exp.Max(this=null_end), "conv_end_null"),
        ).from_(ends.subquery("e"), copy=False)
        return sel.group_by(exp.column("person_id", "e"), copy=False)

    def left_out_people(self) -> exp.Select:
        """Every person with ``left_out`` and the releasing decree and run: the
        population test of ``people`` alone, for the left-out counts."""
        columns: dict[str, exp.Expr] = {
            "person_id": exp.column("person_id", "p"),
            "left_out": self.left_out(),
            "release_decree": self._released("decree_id"),
            "release_run": self._released("run_id"),
        }
        sel = exp.select(*[exp.alias_(e, n) for n, e in columns.items()]).from_(
            "persons AS p", copy=False
        )
        for cte, alias in (("sentence_ends", "ca"), ("status", "st"), ("commuted", "cm")):
            sel = sel.join(
                f"{cte} AS {alias}",
                on=f"{alias}.person_id = p.person_id",
                join_type="left",
                copy=False,
            )
        return self._where(sel, "p.person_id")

    def people(self, needs_events: bool, needs_health: bool) -> exp.Select:
        p = lambda c: exp.column(c, "p")  # noqa: E731
        ca = lambda c: exp.column(c, "ca")  # noqa: E731
        columns: dict[str, exp.Expr] = {
            "person_id": p("person_id"),
            "person__id": p("person_id"),
            "person__sex": p("sex"),
            "person__citizenship": p("citizenship"),
            "person__authority": p("custody_authority"),
            "facility__id": p("facility_id"),
            "facility__type": exp.column("facility_type", "pl"),
            "facility__authority": exp.column("authority", "pl"),
            "facility__division": exp.column("division_id", "pl"),
            "facility__province": exp.column("province", "pl"),
            **self.age_columns(),
            "sentence__count": exp.Coalesce(this=ca("conv_n"), expressions=[lit(0)]),
            "sentence__start": ca("conv_start"),
            "sentence__end": self.sentence_end(),
            "sentence__total_months": exp.Case(
                ifs=[
                    exp.If(this=exp.Is(this=ca("conv_n"), expression=exp.Null()), true=exp.Null()),
                    exp.If(
                        this=exp.EQ(this=ca("conv_months_null"), expression=lit(1)), true=exp.Null()
                    ),
                ],
                default=ca("conv_months"),
            ),
            "sentence__life": exp.Coalesce(
                this=exp.EQ(this=ca("conv_life"), expression=lit(1)), expressions=[exp.false()]
            ),
            "sentence__death": exp.Coalesce(
                this=exp.EQ(this=ca("conv_death"), expression=lit(1)), expressions=[exp.false()]
            ),
            "conv_n": exp.Coalesce(this=ca("conv_n"), expressions=[lit(0)]),
            "left_out": self.left_out(),
            "release_decree": self._released("decree_id"),
            "release_run": self._released("run_id"),
        }
        for i in range(ANCESTOR_DEPTH):
            columns[f"facility__anc{i}"] = exp.column(f"anc{i}", "pl")
        if needs_health:
            columns["health__severity"] = exp.column("severity", "h")
            columns["health__able_to_work"] = exp.column("able_to_work", "h")
            columns["health__assessed_on"] = exp.column("assessed_on", "h")
        for attr in self.profile.person_attributes:
            columns[f"person__{attr.name}"] = p(attr.name)
        for attr in self.profile.facility_attributes:
            columns[f"facility__{attr.name}"] = exp.column(f"attr__{attr.name}", "pl")
        for alias in self.aggs.aliases("convictions", 1):
            columns[alias] = ca(alias)
        if needs_events:
            columns["event_n"] = exp.Coalesce(
                this=exp.column("event_n", "ea"), expressions=[lit(0)]
            )
            for alias in self.aggs.aliases("events", 1):
                columns[alias] = exp.column(alias, "ea")
        sel = (
            exp.select(*[exp.alias_(e, n) for n, e in columns.items()])
            .from_("persons AS p", copy=False)
            .join("places AS pl", on="pl.facility_id = p.facility_id", join_type="left", copy=False)
            .join("conv_agg AS ca", on="ca.person_id = p.person_id", join_type="left", copy=False)
            .join("status AS st", on="st.person_id = p.person_id", join_type="left", copy=False)
            .join("commuted AS cm", on="cm.person_id = p.person_id", join_type="left", copy=False)
        )
        if needs_events:
            sel = sel.join(
                "event_agg AS ea", on="ea.person_id = p.person_id", join_type="left", copy=False
            )
        if needs_health:
            sel = sel.join(
                "health AS h", on="h.person_id = p.person_id", join_type="left", copy=False
            )
        return self._where(sel, "p.person_id")


def registry_ctes(
    d: SqlDialect,
    as_of: dt.date,
    profile: Profile,
    aggs: Aggregates,
    person_ids: PersonFilter,
    reads: set[str],
) -> tuple[RegistryCTEs, list[tuple[str, exp.Select]], list[str]]:
    """The registry part of a decision query: its builder, the CTEs every decree reads,
    and the names of the second-phase aggregates (those that read ``people``). One decree
    and a decree with its variants share it, so the registry is scanned once either way."""
    needs_events = "events" in aggs.used_collections
    needs_health = any(f.startswith("health.") for f in reads)
    reg = RegistryCTEs(d, as_of, profile, aggs, person_ids)
    ctes: list[tuple[str, exp.Select]] = [
        ("places", reg.places()),
        ("conv_rows", reg.conv_rows()),
        ("conv_agg", reg.conv_agg()),
        ("status", reg.status()),
        ("commuted", reg.commuted()),
    ]
    if needs_events:
        ctes += [("event_rows", reg.event_rows()), ("event_agg", reg.event_agg())]
    if needs_health:
        ctes.append(("health", reg.health()))
    ctes.append(("people", reg.people(needs_events, needs_health)))
    phase2 = []
    for collection, rows, name in (
        ("convictions", "conv_rows", "conv_agg2"),
        ("events", "event_rows", "event_agg2"),
    ):
        cols = aggs.columns(collection, 2)
        if cols:
            sel = (
                exp.select(exp.column("person_id", "r"), *cols)
                .from_(f"{rows} AS r", copy=False)
                .join("people AS pe", on="pe.person_id = r.person_id", copy=False)
                .group_by(exp.column("person_id", "r"), copy=False)
            )
            ctes.append((name, sel))
            phase2.append(name)
    return reg, ctes, phase2
