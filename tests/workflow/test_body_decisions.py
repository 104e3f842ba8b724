"""A decree that leaves its application to a body (applied_by, #10): the rule decides who
is eligible, and nobody is released until a reviewer has recorded the body's decision."""

from __future__ import annotations

import pytest
from casework_world import BODY_DECREE_TOML, IN_WINDOW, World, build_world

from amnesty.audit.verify import verify
from amnesty.errors import IllegalTransition
from amnesty.store.database import Database
from amnesty.workflow import review
from amnesty.workflow.batches import check_roster, execute_roster
from amnesty.workflow.releases import execute_release
from amnesty.workflow.rosters import approve_roster, prepare_roster


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url, template=BODY_DECREE_TOML)


def _roster(world: World) -> None:
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)


def test_an_eligible_person_waits_for_the_bodys_decision(world: World) -> None:
    _roster(world)
    with pytest.raises(IllegalTransition, match="applied by court: court's decision"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    review.decide(world.url, "rev1", world.run_id, "P02", "eligible", "court order 17/2015")
    done = execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    assert not done.already and done.release.person_id == "P02"
    assert verify(world.url).ok


def test_the_body_refusing_keeps_the_person_in(world: World) -> None:
    _roster(world)
    review.decide(world.url, "rev1", world.run_id, "P06", "ineligible", "court refused")
    with pytest.raises(IllegalTransition, match="court's decision must be recorded"):
        execute_release(world.url, "off1", world.run_id, "P06", release_date=IN_WINDOW)
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 0


def test_no_decision_for_a_person_no_body_applies_to(world: World) -> None:
    # P04 is excluded (ineligible): there is nothing for the court to apply
    with pytest.raises(IllegalTransition, match="only review cases, and eligible persons"):
        review.decide(world.url, "rev1", world.run_id, "P04", "eligible", "x")


def test_without_bodies_an_eligible_person_is_no_review_case(backend_url: str) -> None:
    plain = build_world(backend_url)
    with pytest.raises(IllegalTransition, match="only review cases"):
        review.decide(plain.url, "rev1", plain.run_id, "P02", "eligible", "x")


def test_roster_check_counts_who_waits_for_the_body(world: World) -> None:
    db = Database.of(world.url)
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    before = check_roster(db, roster.roster_id, IN_WINDOW)
    waiting = {
        pid
        for pid, stops in before.blocked.items()
        if any(s.kind == "body decision not recorded" for s in stops)
    }
    assert "P02" in waiting and not before.ready
    assert dict(before.by_reason)["body decision not recorded"] == len(waiting)
    with pytest.raises(IllegalTransition, match=r"body decision not recorded"):
        execute_roster(world.url, "off1", roster.roster_id, release_date=IN_WINDOW)

    review.decide(world.url, "rev1", world.run_id, "P02", "eligible", "court order 17/2015")
    after = check_roster(db, roster.roster_id, IN_WINDOW)
    assert "P02" in after.ready
    assert dict(after.by_reason).get("body decision not recorded", 0) == len(waiting) - 1
    report = execute_roster(world.url, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert report.released == ["P02"]
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 1
