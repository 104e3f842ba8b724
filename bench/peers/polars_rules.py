"""Polars expressions of the same rules, every output column included.

Untimed: reading the registry's Parquet files into DataFrames. Timed: one lazy
query (group-bys over convictions, events and health, joins, three-valued clause
columns with Kleene logic, the outcome and the explanation lists) collected into a
DataFrame.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
from common import Size

from peers import _canon
from peers._record import AS_OF, OFFENCE_GROUNDS, SCOPE_TYPES, STATUS_TYPES

TABLES = ("persons", "convictions", "offences", "events", "health_assessments", "facilities")


def prepare(size: Size, options: dict[str, str]) -> dict[str, pl.DataFrame]:
    return {t: pl.read_parquet(size.parquet / f"{t}.parquet") for t in TABLES}


def _add_months(day: pl.Expr, months: pl.Expr) -> pl.Expr:
    """Calendar months, a month end clamping (31 Jan + 1 month = 28/29 Feb)."""
    total = day.dt.year() * 12 + day.dt.month() - 1 + months
    year, month = total // 12, total % 12 + 1
    last = pl.date(year, month, 1).dt.month_end().dt.day()
    return pl.date(year, month, pl.min_horizontal(day.dt.day(), last))


def _code(cond: pl.Expr) -> pl.Expr:
    """Three-valued item condition as 2 true, 1 unknown, 0 false (``any`` = max)."""
    return pl.when(cond.is_null()).then(1).when(cond).then(2).otherwise(0)


def _bool(code: pl.Expr) -> pl.Expr:
    c = code.fill_null(0)
    return pl.when(c == 2).then(True).when(c == 1).then(None).otherwise(False)


def _listed(pairs: list[tuple[pl.Expr, str]]) -> pl.Expr:
    return pl.concat_list(
        [pl.when(cond).then(pl.lit(name)) for cond, name in pairs]
    ).list.drop_nulls()


def query(t: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    col = pl.col
    category = col("category")
    conv = (
        t["convictions"]
        .lazy()
        .join(
            t["offences"].lazy().select("offence_code", "category"), on="offence_code", how="left"
        )
        # the convictions of one aggregate are served one after another (docs/semantics.md)
        .with_columns(
            served_start=pl.when(col("aggregate_id").is_null())
            .then(col("start_date"))
            .otherwise(col("start_date").min().over("person_id", "aggregate_id")),
            served_months=pl.when(col("aggregate_id").is_null())
            .then(col("term_months"))
            .otherwise(col("term_months").sum().over("person_id", "aggregate_id")),
        )
        .group_by("person_id")
        .agg(
            n=pl.len(),
            last_end=_add_months(col("served_start"), col("served_months")).max(),
            open_ended=(
                col("sentence_kind").is_in(["life", "death"]) | col("term_months").is_null()
            ).any(),
            g1=_code(category.is_in(OFFENCE_GROUNDS)).max(),
            g5c=_code(category == "illegal_border_crossing").max(),
            x2=_code(category == "political").max(),
            category_null=category.is_null().any(),
        )
    )
    is_status = col("event_type").is_in(STATUS_TYPES)
    is_commutation = (col("event_type") == "commutation") & col("new_end_date").is_not_null()
    repatriated = col("event_type") == "repatriation"
    ev = (
        t["events"]
        .lazy()
        .filter(col("event_date") <= AS_OF)
        .sort("event_date", "event_id")
        .group_by("person_id")
        .agg(
            status=col("event_type").filter(is_status).last(),
            new_end=col("new_end_date").filter(is_commutation).last(),
            g4_upi=_code(repatriated & col("country").is_in(["CHN", "VNM"])).max(),
            g4_dnk=_code(repatriated & col("country").is_in(["CHN", "VNM", "LAO", "MNG"])).max(),
            g5e=(col("event_type") == "defection_attempt").any(),
            country_null=col("country").is_null().any(),
        )
    )
    health = (
        t["health_assessments"]
        .lazy()
        .filter(col("assessed_on") <= AS_OF)
        .sort("assessed_on", "assessment_id")
        .group_by("person_id")
        .agg(severity=col("severity").last(), able=col("able_to_work").last())
    )
    facilities = t["facilities"].lazy().select("facility_id", "facility_type")
    sentence_end = (
        pl.when(col("n").is_null())
        .then(None)
        .otherwise(
            pl.coalesce(
                col("new_end"), pl.when(col("open_ended")).then(None).otherwise(col("last_end"))
            )
        )
    )
    people = (
        t["persons"]
        .lazy()
        .select("person_id", "facility_id", col("custody_authority").alias("authority"))
        .join(ev, on="person_id", how="inner")
        .join(conv, on="person_id", how="left")
        .join(health, on="person_id", how="left")
        .join(facilities, on="facility_id", how="left")
        .filter(
            col("status").is_in(["admission", "return"]) & ~(sentence_end <= AS_OF).fill_null(False)
        )
    )
    ftype, fid = col("facility_type"), col("facility_id")
    contested = col("g4_upi").fill_null(0) != col("g4_dnk").fill_null(0)
    clauses = people.with_columns(
        s1=(ftype != "political_prison_camp") | (fid == "KP-CAMP-14"),
        g1=_bool(col("g1")),
        g2=~col("able"),
        g3=col("severity").is_in(["severe", "terminal"]),
        g4=pl.when(contested).then(None).otherwise(_bool(col("g4_upi"))),
        g5=col("g5e").fill_null(False) | _bool(col("g5c")),
        x1=col("authority") == "MSS",
        x2=_bool(col("x2")),
        scope=ftype.is_in(SCOPE_TYPES),
        contested=contested,
        no_category=col("category_null").fill_null(False),
        no_country=col("country_null").fill_null(False),
    )
    g = [col(c) for c in ("g1", "g2", "g3", "g4", "g5")]
    guards = [col(c) for c in ("x1", "x2", "s1", "scope")]
    blocked = (
        col("x1").fill_null(False)
        | col("x2").fill_null(False)
        | (~col("s1")).fill_null(False)
        | (~col("scope")).fill_null(False)
    )
    outcome = (
        pl.when(blocked.fill_null(False))
        .then(pl.lit("ineligible"))
        .when(pl.all_horizontal([(~x).fill_null(False) for x in g]))
        .then(pl.lit("ineligible"))
        .when(
            pl.any_horizontal([x.is_null() for x in guards])
            | ~pl.any_horizontal([x.fill_null(False) for x in g])
        )
        .then(pl.lit("review"))
        .otherwise(pl.lit("eligible"))
    )

    no_type, no_fid = ftype.is_null(), fid.is_null()
    cat = [(col("no_category"), "conviction.category")]
    unknown_specs: list[tuple[str, str, list[tuple[pl.Expr, str]]]] = [
        ("KP-S1", "s1", [(no_type, "facility.type"), (no_fid, "facility.id")]),
        ("KP-G1", "g1", cat),
        ("KP-G2", "g2", [(col("able").is_null(), "health.able_to_work")]),
        ("KP-G3", "g3", [(col("severity").is_null(), "health.severity")]),
        ("KP-G4", "g4", [(col("contested"), "contested"), (col("no_country"), "event.country")]),
        ("KP-G5", "g5", cat),
        ("KP-X1", "x1", [(col("authority").is_null(), "person.authority")]),
        ("KP-X2", "x2", cat),
        ("scope", "scope", [(no_type, "facility.type")]),
    ]
    # The unknown entries in long form (one row per unknown clause), then one list per
    # person in clause order: concat_list over nine struct columns is far slower.
    unknown = (
        pl.concat(
            [
                clauses.filter(col(value).is_null()).select(
                    "person_id",
                    order=pl.lit(i),
                    entry=pl.struct(clause=pl.lit(clause), missing=_listed(missing)),
                )
                for i, (clause, value, missing) in enumerate(unknown_specs)
            ]
        )
        .group_by("person_id")
        .agg(unknown=col("entry").sort_by("order"))
    )
    entry_type = pl.List(pl.Struct({"clause": pl.String, "missing": pl.List(pl.String)}))
    return (
        clauses.with_columns(outcome=outcome)
        .join(unknown, on="person_id", how="left")
        .select(
            "person_id",
            "facility_id",
            "outcome",
            relief=pl.when(col("outcome") != "ineligible").then(pl.lit("release")),
            grounds=_listed([(x.fill_null(False), f"KP-G{i + 1}") for i, x in enumerate(g)]),
            blocking=_listed(
                [
                    ((~col("s1")).fill_null(False), "KP-S1"),
                    (col("x1").fill_null(False), "KP-X1"),
                    (col("x2").fill_null(False), "KP-X2"),
                    ((~col("scope")).fill_null(False), "scope"),
                ]
            ),
            referred=pl.lit([], dtype=pl.List(pl.String)),
            unknown=col("unknown").fill_null(pl.lit([], dtype=entry_type)),
            undertakings=pl.when(col("outcome") == "ineligible")
            .then(pl.lit([], dtype=pl.List(pl.String)))
            .when(fid.is_null() | (fid == "KP-CAMP-14"))
            .then(pl.lit(["KP-U1", "KP-U2"]))
            .otherwise(pl.lit(["KP-U1"])),
        )
    )


def run(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return query(tables).collect()


def outcomes(state: Any, result: pl.DataFrame) -> pa.Table:
    return _canon.from_arrow(result.to_arrow())
