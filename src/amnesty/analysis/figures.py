"""The figures of a run's report, as plain tables a server can serve as JSON.

Every figure is one SQL query over the run's determinations and the registry
facts (:mod:`.registry_facts`), run in an in-memory DuckDB over Arrow. A table
is ``{"name", "title", "columns", "rows"}``; counts are persons.

Choices (docs/analysis.md):

* a person with several offence categories counts once under each;
* the age band is taken at the run's as-of date from a birth date recorded to
  the day; a partial or missing birth date is ``unrecorded``;
* "on health grounds" means eligible with at least one ground whose predicate
  reads a ``health.*`` fact;
* "stopped" persons were refused at execution (by the re-check or a missing
  undertaking) and not released since; their latest reason is counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from amnesty.backends.duckdb import scratch
from amnesty.compile.sql.aggregates import facts_read
from amnesty.decree.model import Decree

OUTCOMES = ("eligible", "review", "ineligible")
AGE_BANDS = ((0, 18), (18, 30), (30, 45), (45, 60), (60, 200))

Table = dict[str, Any]


def table(name: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    return {"name": name, "title": title, "columns": list(columns), "rows": [list(r) for r in rows]}


def health_grounds(decree: Decree) -> list[str]:
    """Grants whose predicate reads a health fact."""
    return [
        c.id
        for c in decree.clauses
        if c.kind == "grant" and any(f.startswith("health.") for f in facts_read(c.predicate))
    ]


def _band_sql(as_of: dt.date) -> str:
    age = f"date_diff('year', p.birth_date, DATE '{as_of.isoformat()}') - CASE WHEN strftime(p.birth_date, '%m%d') > '{as_of:%m%d}' THEN 1 ELSE 0 END"  # noqa: E501
    whens = " ".join(
        f"WHEN ({age}) >= {lo} AND ({age}) < {hi} THEN '{lo}-{hi - 1}'"
        if hi < 200
        else f"WHEN ({age}) >= {lo} THEN '{lo}+'"
        for lo, hi in AGE_BANDS
    )
    return (
        "CASE WHEN p.birth_date IS NULL OR coalesce(p.birth_precision, 'day') <> 'day' "
        f"THEN 'unrecorded' {whens} ELSE 'unrecorded' END"
    )


_OUTCOME_COLS = ", ".join(f"count(*) FILTER (WHERE d.outcome = '{o}') AS {o}" for o in OUTCOMES)


def _by(key: str, join: str = "") -> str:
    return f"""
        SELECT {key} AS k, count(*) AS persons, {_OUTCOME_COLS}
        FROM d LEFT JOIN pl ON pl.facility_id = d.facility_id {join}
        GROUP BY ALL ORDER BY k NULLS LAST
    """


def run_figures(
    determinations: pa.Table,
    places: pa.Table,
    persons: pa.Table,
    categories: pa.Table,
    *,
    decree: Decree,
    as_of: dt.date,
    left_out: dict[str, Any],
    released: Sequence[dict[str, Any]] = (),
    revoked: Sequence[str] = (),
    stopped: Sequence[dict[str, Any]] = (),
) -> list[Table]:
    con = scratch()
    try:
        con.register("d", determinations)
        con.register("pl", places)
        con.register("p", persons)
        con.register("cat", categories)
        con.register(
            "rel",
            pa.Table.from_pylist(
                [{"person_id": r["person_id"], "relief": r["relief"]} for r in released],
                schema=pa.schema([("person_id", pa.string()), ("relief", pa.string())]),
            ),
        )
        con.register("rev", pa.table({"person_id": pa.array(list(revoked), pa.string())}))
        con.register(
            "stop",
            pa.Table.from_pylist(
                [{"person_id": s["person_id"], "reason": s["reason"]} for s in stopped],
                schema=pa.schema([("person_id", pa.string()), ("reason", pa.string())]),
            ),
        )
        health = health_grounds(decree)
        con.register("hg", pa.table({"clause": pa.array(health, pa.string())}))

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return con.sql(sql).fetchall()

        def share_rows(sql: str) -> list[list[Any]]:
            return [[*r, round(r[2] / r[1], 4) if r[1] else None] for r in rows(sql)]

        counted = ["persons", *OUTCOMES]
        totals = rows(f"SELECT count(*) AS persons, {_OUTCOME_COLS} FROM d")[0]
        out: list[Table] = [
            table(
                "totals",
                "Totals",
                ["persons", *OUTCOMES, "left_out"],
                [[*totals, int(left_out.get("total", 0))]],
            ),
            table(
                "by_province",
                "By province",
                ["province", *counted, "share_eligible"],
                share_rows(_by("pl.province")),
            ),
            table(
                "by_division",
                "By division (city or county)",
                ["division", "province", *counted],
                [
                    [r[0], r[1], *r[2:]]
                    for r in rows(
                        f"""SELECT pl.division, pl.province, count(*), {_OUTCOME_COLS}
                        FROM d LEFT JOIN pl ON pl.facility_id = d.facility_id
                        GROUP BY ALL ORDER BY 2 NULLS LAST, 1 NULLS LAST"""
                    )
                ],
            ),
            table(
                "by_facility_type",
                "By facility type",
                ["facility_type", *counted, "share_eligible"],
                share_rows(_by("pl.facility_type")),
            ),
            table(
                "by_authority",
                "By facility authority",
                ["authority", *counted, "share_eligible"],
                share_rows(_by("pl.authority")),
            ),
            table(
                "by_facility",
                "By facility",
                ["facility", "facility_type", "authority", *counted],
                rows(
                    f"""SELECT coalesce(pl.facility, d.facility_id), pl.facility_type,
                        pl.authority, count(*), {_OUTCOME_COLS}
                    FROM d LEFT JOIN pl ON pl.facility_id = d.facility_id
                    GROUP BY ALL ORDER BY 1 NULLS LAST"""
                ),
            ),
            table(
                "by_offence_category",
                "By offence category (a person counts under each of their categories)",
                ["category", *counted],
                rows(
                    f"""SELECT coalesce(cat.category, 'no conviction') AS k, count(*),
                        {_OUTCOME_COLS}
                    FROM d LEFT JOIN cat ON cat.person_id = d.person_id
                    GROUP BY ALL ORDER BY k"""
                ),
            ),
            table(
                "by_ground",
                "Eligible persons by ground (a person counts under each ground that holds)",
                ["ground", "persons"],
                rows(
                    """SELECT g, count(*) FROM (SELECT unnest(grounds) AS g FROM d
                       WHERE outcome = 'eligible') GROUP BY g ORDER BY g"""
                ),
            ),
            table(
                "by_relief",
                "Eligible persons by relief",
                ["relief", "persons"],
                rows(
                    "SELECT relief, count(*) FROM d WHERE outcome = 'eligible' "
                    "GROUP BY relief ORDER BY relief"
                ),
            ),
            table(
                "by_age_band",
                "By age band at the as-of date",
                ["age_band", *counted],
                rows(
                    f"""SELECT {_band_sql(as_of)} AS k, count(*), {_OUTCOME_COLS}
                    FROM d LEFT JOIN p ON p.person_id = d.person_id GROUP BY ALL ORDER BY k"""
                ),
            ),
            table(
                "by_sex",
                "By sex",
                ["sex", *counted],
                rows(
                    f"""SELECT coalesce(p.sex, 'unrecorded') AS k, count(*), {_OUTCOME_COLS}
                    FROM d LEFT JOIN p ON p.person_id = d.person_id GROUP BY ALL ORDER BY k"""
                ),
            ),
        ]
        on_health_sql = """SELECT count(*), count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM (SELECT unnest(d.grounds) AS g)
                WHERE g IN (SELECT clause FROM hg)))"""
        eligible, on_health = rows(f"{on_health_sql} FROM d WHERE outcome = 'eligible'")[0]
        rel_n, rel_health = rows(f"{on_health_sql} FROM rel JOIN d ON d.person_id = rel.person_id")[
            0
        ]
        out.append(
            table(
                "health_share",
                "On health grounds (" + (", ".join(health) or "the decree has none") + ")",
                ["of", "persons", "on_health_grounds", "share"],
                [
                    [
                        "eligible",
                        eligible,
                        on_health,
                        round(on_health / eligible, 4) if eligible else None,
                    ],
                    [
                        "released",
                        rel_n,
                        rel_health,
                        round(rel_health / rel_n, 4) if rel_n else None,
                    ],
                ],
            )
        )
        out.append(
            table(
                "excluded",
                "Ineligible persons by the clause that excluded them",
                ["clause", "persons"],
                rows(
                    """SELECT coalesce(b, 'no ground'), count(*) FROM (
                         SELECT unnest(CASE WHEN len(blocking) = 0 THEN [NULL]
                                            ELSE blocking END) AS b
                         FROM d WHERE outcome = 'ineligible') GROUP BY ALL ORDER BY 1"""
                ),
            )
        )
        out.append(
            table(
                "review_missing",
                "Persons in review by the missing fact that put them there",
                ["missing", "persons"],
                rows(
                    """SELECT m, count(DISTINCT person_id) FROM (
                         SELECT person_id, unnest(u.missing) AS m FROM (
                           SELECT person_id, unnest(unknown) AS u FROM d WHERE outcome = 'review'))
                       GROUP BY m ORDER BY m"""
                ),
            )
        )
        out.append(
            table(
                "review_referred",
                "Persons in review by the refer clause that sent them",
                ["clause", "persons"],
                rows(
                    """SELECT r, count(*) FROM (SELECT unnest(referred) AS r FROM d
                       WHERE outcome = 'review') GROUP BY r ORDER BY r"""
                ),
            )
        )
        out.append(
            table(
                "execution",
                "Executed so far",
                ["status", "persons"],
                [
                    ["released", rel_n],
                    ["released, then revoked", len(set(revoked))],
                    ["stopped at execution", len(stopped)],
                ],
            )
        )
        out.append(
            table(
                "stopped",
                "Stopped at execution, by reason",
                ["reason", "persons"],
                rows(
                    """SELECT trim(split_part(reason, ':', 1)), count(*) FROM stop
                       GROUP BY 1 ORDER BY 1"""
                ),
            )
        )
        return out
    finally:
        con.close()


def get(tables: Sequence[Table], name: str) -> Table:
    for t in tables:
        if t["name"] == name:
            return t
    raise KeyError(name)
