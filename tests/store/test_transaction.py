"""A change and its audit event commit together; a refused step changes nothing but is logged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from amnesty.audit.verify import verify
from amnesty.errors import IllegalTransition, PermissionDenied
from amnesty.store.engine import get_engine
from amnesty.store.tables import audit_events, decrees
from amnesty.store.transaction import transaction, utcnow
from amnesty.workflow.users import Role, add_user, require


def _events(url: str) -> list[tuple[str, str, str | None]]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(
            sa.select(
                audit_events.c.action, audit_events.c.outcome, audit_events.c.reason
            ).order_by(audit_events.c.seq)
        ).all()
    return [tuple(r) for r in rows]


def _decree_count(url: str) -> int:
    with get_engine(url).connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(decrees)).scalar_one()


def test_refused_step_is_rolled_back_and_audited_once(backend_url: str) -> None:
    add_user(backend_url, "root", ["admin"])
    with (
        pytest.raises(IllegalTransition, match="not before approval"),
        transaction(backend_url, "root", action="decree.sign", entity=("decree", "d1")) as tx,
    ):
        tx.connection.execute(
            decrees.insert().values(
                decree_id="d1", content_hash="h", title="t", status="draft", source_text="",
                registered_by="root", registered_at=utcnow(),
            )
        )  # fmt: skip
        tx.audit(after={"decree_id": "d1"})
        raise IllegalTransition("not before approval")
    assert _decree_count(backend_url) == 0
    assert _events(backend_url)[1:] == [("decree.sign", "refused", "not before approval")]
    assert verify(backend_url).ok


def test_permission_refused_inside_a_transaction_is_logged_once(backend_url: str) -> None:
    add_user(backend_url, "root", ["admin"])
    with (
        pytest.raises(PermissionDenied),
        transaction(backend_url, "root", action="review.decide", entity=("review", "x")),
    ):
        require(backend_url, "root", Role.reviewer, action="review.decide")
    refused = [e for e in _events(backend_url) if e[1] == "refused"]
    assert len(refused) == 1
