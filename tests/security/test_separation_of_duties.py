"""Four eyes are two people (#9): one identity cannot both decide and approve.

The rogue chain of one shell was: sign a decree, evaluate, prepare and approve
the roster, release. Now the signer, a reviewer of a case on the roster and its
preparer cannot approve it; no account holds approver beside drafter, reviewer,
facility officer or admin; and an approver (or admin) is active only once a
second admin confirms the grant.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from released_world import World, build_world

from amnesty.errors import PermissionDenied
from amnesty.store.engine import get_engine
from amnesty.workflow import review
from amnesty.workflow.duties import SeparationOfDuties
from amnesty.workflow.rosters import approve_roster, prepare_roster
from amnesty.workflow.users import Role, add_user, confirm_user, require


def _refused(url: object, action: str) -> list[str]:
    query = sa.text(
        "SELECT actor FROM audit_events WHERE outcome = 'refused' AND action = :a ORDER BY seq"
    )
    with get_engine(url).connect() as conn:  # type: ignore[arg-type]
        return [r[0] for r in conn.execute(query, {"a": action})]


def test_roles_the_policy_forbids_together_are_refused_and_audited(backend_url: str) -> None:
    add_user(backend_url, "root", ["admin"])
    for roles in (["reviewer", "approver"], ["drafter", "approver"], ["admin", "approver"]):
        with pytest.raises(SeparationOfDuties, match="the duties policy forbids holding"):
            add_user(backend_url, "rogue", roles, actor="root")
    assert _refused(backend_url, "user.add") == ["root"] * 3


def test_an_approver_acts_only_once_a_second_admin_confirms(backend_url: str) -> None:
    add_user(backend_url, "root", ["admin"])
    add_user(backend_url, "root2", ["admin"], actor="root")  # the installation's second admin
    pending = add_user(backend_url, "pak", ["approver"], actor="root")
    assert not pending.active
    with pytest.raises(PermissionDenied, match="waiting for a second admin"):
        require(backend_url, "pak", Role.approver, action="roster.approve")
    with pytest.raises(SeparationOfDuties, match="needs a second admin"):
        confirm_user(backend_url, "pak", actor="root")
    third = add_user(backend_url, "root3", ["admin"], actor="root")
    assert not third.active  # beyond the first two, an admin's grant is seconded too
    assert confirm_user(backend_url, "pak", actor="root2").active
    assert require(backend_url, "pak", Role.approver, action="roster.approve").name == "pak"
    assert _refused(backend_url, "user.confirm") == ["root"]


@pytest.fixture
def world(duck_url: str) -> World:
    return build_world(duck_url)


def _give_roles_behind_amnesty(world: World, name: str, roles: str) -> None:
    """What an intruder (or a roles policy changed later) would leave: both halves in one."""
    world.sql("UPDATE users SET roles = :r WHERE name = :n", r=roles, n=name)


def test_the_reviewer_of_a_case_cannot_approve_its_roster(world: World) -> None:
    review.decide(world.url, "rev1", world.run_id, "P03", "eligible", "health report seen")
    roster = prepare_roster(world.url, "appr1", world.run_id, "F1")
    _give_roles_behind_amnesty(world, "rev1", '["reviewer", "approver"]')
    with pytest.raises(SeparationOfDuties, match="rev1 reviewed the case of P03"):
        approve_roster(world.url, "rev1", roster.roster_id)
    assert _refused(world.url, "roster.approve") == ["rev1"]


def test_the_signer_of_the_decree_cannot_approve_its_rosters(world: World) -> None:
    roster = prepare_roster(world.url, "appr1", world.run_id, "F2")
    _give_roles_behind_amnesty(world, "drafter", '["drafter", "approver"]')
    with pytest.raises(SeparationOfDuties, match="drafter signed the decree"):
        approve_roster(world.url, "drafter", roster.roster_id)
    assert approve_roster(world.url, "appr2", roster.roster_id).approved_by == "appr2"
