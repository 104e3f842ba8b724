"""``import_as`` on the caller's handle (#8) and the stricter bootstrap rule (#9).

- The handle belongs to its caller (under the server, every request shares its pool):
  the import uses it and leaves it open, and the import's audit event is written in
  the import's own transaction.
- The bootstrap (an import with nobody to authenticate) is for a database that never
  had a user: once the audit chain records a user added, an import with no user left
  in the table is refused, audited, and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from amnesty.audit.verify import verify
from amnesty.errors import PermissionDenied
from amnesty.registry.generate import generate
from amnesty.registry.snapshot import current_snapshot
from amnesty.store.database import Database
from amnesty.workflow.registry_import import import_as
from amnesty.workflow.users import BOOTSTRAP_ACTOR, add_user


def _events(db: Database) -> list[tuple[str, str, str, str]]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, action, outcome, entity_id FROM audit_events ORDER BY seq")
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _extract(tmp_path: Path, name: str, persons: int) -> Path:
    out = tmp_path / name
    generate("kp-2015", persons, 7, out)
    return out


def test_import_as_leaves_the_callers_handle_open(backend_url: str, tmp_path: Path) -> None:
    db = Database.open(backend_url)
    try:
        engine = db.engine
        with db.connect() as held:  # another request's connection, checked out throughout
            report = import_as(db, None, _extract(tmp_path, "a", 30))
            assert held.execute(sa.text("SELECT 1")).scalar_one() == 1
        assert db.engine is engine  # not disposed: the pool (and on DuckDB the file) stays
        second = import_as(db, None, _extract(tmp_path, "b", 31))
        assert db.engine is engine
        assert (report.snapshot_id, second.snapshot_id) == (1, 2)
        # Each import's event names the snapshot it made, chained as the bootstrap.
        assert _events(db) == [
            (BOOTSTRAP_ACTOR, "registry.import", "ok", "1"),
            (BOOTSTRAP_ACTOR, "registry.import", "ok", "2"),
        ]
    finally:
        db.close()
    assert verify(backend_url).ok


def test_no_bootstrap_once_the_chain_has_named_a_user(backend_url: str, tmp_path: Path) -> None:
    db = Database.open(backend_url)
    try:
        import_as(db, None, _extract(tmp_path, "first", 20))  # the bootstrap
        add_user(db, "root", ["admin"])
        with db.engine.begin() as conn:  # every user deleted behind amnesty's back
            conn.execute(sa.text("DELETE FROM users"))
        with db.raw() as raw:
            before = current_snapshot(raw)
        with pytest.raises(PermissionDenied, match="the audit chain records users"):
            import_as(db, None, _extract(tmp_path, "second", 21))
        with db.raw() as raw:
            after = current_snapshot(raw)
        assert before is not None and after == before  # nothing imported
        assert _events(db)[-1][:3] == ("(anonymous)", "registry.import", "refused")
        # A name given without any user to authenticate it does not pass either.
        with pytest.raises(PermissionDenied):
            import_as(db, "root", _extract(tmp_path, "third", 22))
    finally:
        db.close()
