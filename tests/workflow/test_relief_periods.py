"""A temporary release given as a period returns that many calendar months after it (#10)."""

from __future__ import annotations

import sqlalchemy as sa
from casework_world import DECREE_TOML, IN_WINDOW, build_world

from amnesty.store.engine import get_engine
from amnesty.workflow.releases import execute_release
from amnesty.workflow.rosters import approve_roster, prepare_roster

FOR_FOUR_MONTHS = DECREE_TOML.replace(
    'relief = "release"\n', 'relief = "temporary_release"\nfor_months = 4\n', 1
)


def test_the_return_date_is_computed_from_the_release_date(backend_url: str) -> None:
    world = build_world(backend_url, template=FOR_FOUR_MONTHS, relief="temporary_release")
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    with get_engine(world.url).connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT event_type, new_end_date FROM events "
                "WHERE person_id = 'P02' AND run_id = :run"
            ),
            {"run": world.run_id},
        ).all()
    # released on IN_WINDOW, 2015-10-08, for four calendar months: back on 2016-02-08
    assert [(t, str(d)) for t, d in rows] == [("temporary_release", "2016-02-08")]
