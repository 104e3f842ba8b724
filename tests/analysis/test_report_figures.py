"""Every figure of a run's report against independent SQL over the same DuckDB file."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from amnesty.analysis import run_report
from amnesty.analysis.figures import get

pytestmark = pytest.mark.slow


def _sql(db: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


D = "(SELECT * FROM determinations WHERE run_id = $run)"


@pytest.fixture(scope="module")
def october(world):  # type: ignore[no-untyped-def]
    from amnesty.store.engine import dispose_engine

    report = run_report(world.db, world.runs[1])
    dispose_engine(world.db)  # the independent SQL opens the file itself
    return report


def _rows(report: dict[str, Any], name: str) -> list[list[Any]]:
    return get(report["tables"], name)["rows"]


def test_totals_and_outcomes(world, october) -> None:  # type: ignore[no-untyped-def]
    want = _sql(
        world.db,
        f"""SELECT count(*), count(*) FILTER (WHERE outcome = 'eligible'),
                   count(*) FILTER (WHERE outcome = 'review'),
                   count(*) FILTER (WHERE outcome = 'ineligible') FROM {D}""",
        run=world.runs[1],
    )[0]
    assert tuple(_rows(october, "totals")[0][:4]) == want
    assert want[1] > 0 and want[3] > 0


def test_by_province_and_facility_type(world, october) -> None:  # type: ignore[no-untyped-def]
    # provinces: a facility's division, or its parent when the division is a city or county
    want = _sql(
        world.db,
        f"""SELECT coalesce(CASE WHEN dv.level IN ('province', 'special_city')
                                THEN dv.name_romanised ELSE pa.name_romanised END, 'x') AS prov,
                   count(*), count(*) FILTER (WHERE d.outcome = 'eligible')
            FROM {D} AS d JOIN facilities f ON f.facility_id = d.facility_id
            JOIN divisions dv ON dv.division_id = f.division_id
            LEFT JOIN divisions pa ON pa.division_id = dv.parent_id
            GROUP BY prov ORDER BY prov""",
        run=world.runs[1],
    )
    got = sorted((r[0], r[1], r[2]) for r in _rows(october, "by_province"))
    assert got == want
    types = _sql(
        world.db,
        f"""SELECT f.facility_type, count(*), count(*) FILTER (WHERE d.outcome = 'ineligible')
            FROM {D} d JOIN facilities f USING (facility_id) GROUP BY 1 ORDER BY 1""",
        run=world.runs[1],
    )
    assert sorted((r[0], r[1], r[4]) for r in _rows(october, "by_facility_type")) == types


def test_by_offence_category_ground_relief(world, october) -> None:  # type: ignore[no-untyped-def]
    cats = _sql(
        world.db,
        f"""SELECT o.category, count(DISTINCT d.person_id)
            FROM {D} d JOIN convictions c ON c.person_id = d.person_id
            JOIN offences o ON o.offence_code = c.offence_code GROUP BY 1 ORDER BY 1""",
        run=world.runs[1],
    )
    got = [(r[0], r[1]) for r in _rows(october, "by_offence_category") if r[0] != "no conviction"]
    assert got == cats
    grounds = _sql(
        world.db,
        f"""SELECT g, count(*) FROM (SELECT unnest(CAST(grounds AS VARCHAR[])) AS g FROM {D}
            WHERE outcome = 'eligible') GROUP BY g ORDER BY g""",
        run=world.runs[1],
    )
    assert [tuple(r) for r in _rows(october, "by_ground")] == grounds
    reliefs = _sql(
        world.db,
        f"SELECT relief, count(*) FROM {D} WHERE outcome = 'eligible' GROUP BY 1 ORDER BY 1",
        run=world.runs[1],
    )
    assert [tuple(r) for r in _rows(october, "by_relief")] == reliefs


def test_sex_age_and_health(world, october) -> None:  # type: ignore[no-untyped-def]
    sexes = _sql(
        world.db,
        f"""SELECT coalesce(p.sex, 'unrecorded'), count(*) FROM {D} d
            JOIN persons p USING (person_id) GROUP BY 1 ORDER BY 1""",
        run=world.runs[1],
    )
    assert [(r[0], r[1]) for r in _rows(october, "by_sex")] == sexes
    ages = dict(
        _sql(
            world.db,
            f"""SELECT CASE WHEN p.birth_precision = 'day' AND p.birth_date IS NOT NULL
                            THEN (CASE WHEN datediff('year', p.birth_date, DATE '2015-10-08')
                                  - (CASE WHEN strftime(p.birth_date, '%m%d') > '1008'
                                     THEN 1 ELSE 0 END)
                                  >= 60 THEN 'old' ELSE 'young' END) ELSE 'unrecorded' END, count(*)
                FROM {D} d JOIN persons p USING (person_id) GROUP BY 1""",
            run=world.runs[1],
        )
    )
    bands = {r[0]: r[1] for r in _rows(october, "by_age_band")}
    assert bands.get("60+", 0) == ages.get("old", 0)
    assert bands.get("unrecorded", 0) == ages.get("unrecorded", 0)
    health = _sql(
        world.db,
        f"""SELECT count(*) FILTER (
                WHERE list_has_any(CAST(grounds AS VARCHAR[]), ['KP-G2', 'KP-G3']))
            FROM {D} WHERE outcome = 'eligible'""",
        run=world.runs[1],
    )[0][0]
    row = _rows(october, "health_share")[0]
    assert row[2] == health


def test_excluded_review_and_execution(world, october) -> None:  # type: ignore[no-untyped-def]
    excluded = _sql(
        world.db,
        f"""SELECT b, count(*) FROM (SELECT unnest(CAST(blocking AS VARCHAR[])) AS b FROM {D}
            WHERE outcome = 'ineligible') GROUP BY b ORDER BY b""",
        run=world.runs[1],
    )
    got = [tuple(r) for r in _rows(october, "excluded") if r[0] != "no ground"]
    assert got == excluded
    no_ground = _sql(
        world.db,
        f"SELECT count(*) FROM {D} WHERE outcome = 'ineligible' AND blocking = '[]'",
        run=world.runs[1],
    )[0][0]
    assert dict((r[0], r[1]) for r in _rows(october, "excluded")).get("no ground", 0) == no_ground
    missing = _sql(
        world.db,
        f"""SELECT m, count(DISTINCT person_id) FROM (
              SELECT person_id, unnest(json_extract_string(u, '$.missing[*]')) AS m FROM (
                SELECT person_id, unnest(json_extract(unknown, '$[*]')) AS u FROM {D}
                WHERE outcome = 'review')) GROUP BY m ORDER BY m""",
        run=world.runs[1],
    )
    assert [tuple(r) for r in _rows(october, "review_missing")] == missing
    released = _sql(
        world.db, "SELECT count(*) FROM releases WHERE run_id = $run", run=world.runs[1]
    )[0][0]
    assert dict((r[0], r[1]) for r in _rows(october, "execution"))["released"] == released
    assert released > 0


def test_clause_stats(world, october) -> None:  # type: ignore[no-untyped-def]
    stats = {r["clause"]: r for r in october["clauses"]["clauses"]}
    x1 = _sql(
        world.db,
        f"""SELECT count(*) FROM {D} WHERE outcome = 'ineligible'
            AND list_contains(CAST(blocking AS VARCHAR[]), 'KP-X1')""",
        run=world.runs[1],
    )[0][0]
    assert stats["KP-X1"]["decided"] == x1 > 0
    assert october["clauses"]["decided_nobody"] == [
        c for c, r in stats.items() if r["decided"] == 0
    ]
