"""A run of one part of a decree in parts is released under that part (#10): its
execution window, its clauses, re-derived from the signed decree by the run's as-of date."""

from __future__ import annotations

import datetime as dt

import pytest
from casework_world import AS_OF, DECREE_TOML, IN_WINDOW, World, build_world

from amnesty.errors import IllegalTransition
from amnesty.workflow.releases import execute_release
from amnesty.workflow.rosters import approve_roster, prepare_roster

# The test decree in two parts: "october" (the world's as-of date, a later window than the
# decree's own) and "december", which adds a grant the October part does not have.
PARTS_TOML = DECREE_TOML.replace(
    "execution_window = [2015-10-08, 2015-10-09]\n",
    "execution_window = [2015-10-08, 2015-10-09]\n\n"
    '[[part]]\nid = "october"\nas_of = 2015-10-01\n'
    "execution_window = [2015-10-20, 2015-10-21]\n\n"
    '[[part]]\nid = "december"\nas_of = 2015-12-01\n',
) + (
    '\n[[clause]]\nid = "g-december"\nkind = "grant"\nrelief = "release"\n'
    'parts = ["december"]\ntext = "In December, everyone."\nsource = "S-KP1"\n'
    "predicate = 'true'\n"
)
IN_PART_WINDOW = dt.date(2015, 10, 20)


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url, template=PARTS_TOML)


def test_the_run_is_its_parts_and_released_in_the_parts_window(world: World) -> None:
    assert world.first_run.run.as_of == AS_OF
    assert world.first_run.evaluation.decree.part_id == "october"
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    # inside the decree's own window, outside the part's: refused
    with pytest.raises(IllegalTransition, match="outside part october of decree"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    done = execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_PART_WINDOW)
    assert done.release.person_id == "P02"
    # P04, excluded in October, stays in within the part's window
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 1
    with pytest.raises(IllegalTransition):
        execute_release(world.url, "off1", world.run_id, "P04", release_date=IN_PART_WINDOW)
