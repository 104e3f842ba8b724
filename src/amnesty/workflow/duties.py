"""Separation of duties: the one place that says who may not do what together (#9).

Four eyes means two people, not two typed names: the approval of a roster is
worth something only if the approver had no hand in what it approves. So the
approver of a roster must not be

- its preparer,
- the signer of the decree whose run it lists, nor
- the reviewer who decided any case on it;

and no user holds two roles that would let them do both halves alone
(:data:`FORBIDDEN_TOGETHER`). Each refusal is audited by the caller's
transaction (they raise :class:`SeparationOfDuties`, a WorkflowError).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import PermissionDenied
from amnesty.store.tables import decrees, review_decisions, roster_entries, runs
from amnesty.workflow.roles import Role

FORBIDDEN_TOGETHER: tuple[frozenset[Role], ...] = (
    frozenset({Role.approver, Role.reviewer}),  # would approve the cases they decided
    frozenset({Role.approver, Role.drafter}),  # would approve releases under their own decree
    frozenset({Role.approver, Role.facility_officer}),  # would approve their own roster
    frozenset({Role.approver, Role.admin}),  # would grant themselves the other half
)
"""Role pairs no one account may hold."""

SECONDED_ROLES = frozenset({Role.admin, Role.approver})
"""Roles whose grant an admin proposes and a second, different admin confirms."""


class SeparationOfDuties(PermissionDenied):
    """A step refused because the acting user had a hand in what it would approve."""


def forbidden_pairs(roles: Iterable[Role]) -> list[tuple[Role, Role]]:
    """The forbidden pairs among ``roles`` (empty when they may be held together)."""
    held = set(roles)
    return [
        (a, b)
        for pair in FORBIDDEN_TOGETHER
        if pair <= held
        for a, b in [sorted(pair, key=lambda r: r.value)]
    ]


def check_roles_allowed(name: str, roles: Iterable[Role]) -> None:
    clashes = forbidden_pairs(roles)
    if clashes:
        shown = "; ".join(f"{a.value} with {b.value}" for a, b in clashes)
        raise SeparationOfDuties(
            f"user {name!r}: the duties policy forbids holding {shown} "
            "(docs/security.md, separation of duties)"
        )


def check_may_approve(
    connection: Connection, actor: str, roster_id: int, run_id: str, prepared_by: str
) -> None:
    """Refuse ``actor`` approving a roster they prepared, or whose decree or cases they decided."""
    if prepared_by == actor:
        raise SeparationOfDuties(
            f"roster {roster_id} was prepared by {actor}; four eyes: "
            "another approver must approve it"
        )
    signer = connection.execute(
        sa.select(decrees.c.signed_by)
        .join(runs, runs.c.decree_id == decrees.c.decree_id)
        .where(runs.c.run_id == run_id)
    ).scalar_one_or_none()
    if signer == actor:
        raise SeparationOfDuties(
            f"{actor} signed the decree of run {run_id}; its rosters need another approver"
        )
    reviewed = connection.execute(
        sa.select(review_decisions.c.person_id)
        .join(
            roster_entries,
            (roster_entries.c.person_id == review_decisions.c.person_id)
            & (roster_entries.c.roster_id == roster_id),
        )
        .where(review_decisions.c.run_id == run_id, review_decisions.c.decided_by == actor)
        .order_by(review_decisions.c.person_id)
        .limit(1)
    ).scalar_one_or_none()
    if reviewed is not None:
        raise SeparationOfDuties(
            f"{actor} reviewed the case of {reviewed} on roster {roster_id}; "
            "its approval needs another approver"
        )
