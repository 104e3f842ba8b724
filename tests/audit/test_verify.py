"""audit verify names what was changed, deleted, inserted or reordered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from amnesty.audit.chain import event_hash
from amnesty.audit.checkpoint import read_checkpoint_file
from amnesty.audit.log import create_checkpoint, export_chain, verify_export
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import get_engine
from amnesty.store.tables import audit_events
from amnesty.workflow.decrees import ensure_decree
from amnesty.workflow.runs import record_run
from amnesty.workflow.users import add_user
from determination_factory import make_determinations  # the suite's shared factory

T0 = dt.datetime(2015, 10, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def url(backend_url: str) -> str:
    """A database with six events (four users, a decree, a run) and its determinations.

    Releases are attacked in tests/security, on a world where the workflow wrote them.
    """
    add_user(backend_url, "root", ["admin"])
    add_user(backend_url, "dora", ["drafter"], actor="root")
    add_user(backend_url, "aud", ["auditor"], actor="root")
    add_user(backend_url, "olga", ["facility_officer"], ["F1"], actor="root")
    ensure_decree(backend_url, "kp-2015-10", "h1", "Party founding", "source")
    record_run(
        backend_url,
        decree_id="kp-2015-10",
        decree_hash="h1",
        snapshot_hash="s1",
        engine="duckdb",
        engine_version="0.1.0",
        as_of=dt.date(2015, 10, 8),
        started_at=T0,
        finished_at=T0,
        determinations=make_determinations(persons=6),
        counts={},
        actor="dora",
    )
    assert verify(backend_url).ok
    return backend_url


def _events(url: str) -> list[dict[str, Any]]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(sa.select(audit_events).order_by(audit_events.c.seq))
        return [dict(r) for r in rows.mappings()]


def _replace_events(url: str, events: list[dict[str, Any]]) -> None:
    """What someone with write access to the database could do."""
    with get_engine(url).begin() as connection:
        connection.execute(audit_events.delete())
        connection.execute(audit_events.insert(), events)


def _problems(url: str) -> list[str]:
    return [str(p) for p in verify(url).problems]


def test_edited_event_is_named(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(
            audit_events.update().where(audit_events.c.seq == 3).values(actor="mallory")
        )
    assert _problems(url)[0] == "event 3: changed after it was written: its hash does not match"


def test_edited_and_rehashed_event_is_named_by_its_successor(url: str) -> None:
    events = _events(url)
    events[2]["actor"] = "mallory"
    events[2]["hash"] = event_hash(events[2])
    _replace_events(url, events)
    assert _problems(url)[0].startswith("event 4: does not follow event 3: event 3 was changed")


def test_deleted_event_is_named(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(audit_events.delete().where(audit_events.c.seq == 3))
    assert _problems(url) == [
        "event 3: missing: deleted from the chain",
        # the row event 3 wrote is now unexplained by the chain
        "users aud: no audit event wrote this row: it was added behind amnesty",
    ]


def test_inserted_event_is_named(url: str) -> None:
    events = _events(url)
    forged = {**events[1], "seq": 3, "actor": "mallory", "prev_hash": events[1]["hash"]}
    forged["hash"] = event_hash(forged)
    shifted = [{**e, "seq": e["seq"] + 1} for e in events[2:]]
    _replace_events(url, [*events[:2], forged, *shifted])
    problems = _problems(url)
    assert problems[0] == (
        "event 4: written as event 3 but stored as event 4; event(s) 3 inserted before it"
    )


def test_reordered_pair_is_named(url: str) -> None:
    events = _events(url)
    events[2]["seq"], events[3]["seq"] = 4, 3
    _replace_events(url, events)
    problems = _problems(url)
    assert problems[0].startswith("event 3: written as event 4 but stored as event 3")
    assert "reordered" in problems[0]


def test_edited_determination_names_run_and_person(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(
            sa.text("UPDATE determinations SET outcome = 'eligible' WHERE person_id = 'P0003'")
        )
        run_id = connection.execute(sa.text("SELECT run_id FROM runs")).scalar_one()
    assert _problems(url) == [f"run {run_id} person P0003: determination changed after the run"]


def test_deleted_determination_is_caught(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(sa.text("DELETE FROM determinations WHERE person_id = 'P0002'"))
    assert "rows added or deleted" in _problems(url)[0]


def test_rewritten_chain_is_caught_against_a_checkpoint(url: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    checkpoint = create_checkpoint(url, "aud", key)
    assert key.stat().st_mode & 0o777 == 0o600
    held = tmp_path / "cp.json"
    held.write_text(json.dumps(checkpoint.as_json()))
    # Rewrite everything from event 2 on, consistently, and drop the checkpoint with the
    # event that recorded it: the database alone verifies again.
    events = _events(url)[:-1]
    events[1]["actor"] = "mallory"
    for i in range(1, len(events)):
        events[i]["prev_hash"] = events[i - 1]["hash"]
        events[i]["hash"] = event_hash(events[i])
    _replace_events(url, events)
    with get_engine(url).begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_checkpoints"))
    assert verify(url).ok  # without a checkpoint, a rewrite is invisible
    problems = [str(p) for p in verify(url, checkpoints=[read_checkpoint_file(held)]).problems]
    assert problems[0].startswith(f"checkpoint at event {checkpoint.seq}: the chain's event")
    assert problems[0].endswith("the chain was rewritten")


def test_stored_checkpoint_must_be_signed_by_the_trusted_key(url: str, tmp_path: Path) -> None:
    create_checkpoint(url, "aud", tmp_path / "a.key")
    create_checkpoint(url, "aud", tmp_path / "b.key")
    trusted = bytes.fromhex(read_checkpoint_file_key(url, 0))
    problems = [str(p) for p in verify(url, trusted_key=trusted).problems]
    assert len(problems) == 1 and "key other than the trusted" in problems[0]


def read_checkpoint_file_key(url: str, index: int) -> str:
    with get_engine(url).connect() as connection:
        keys = connection.execute(
            sa.text("SELECT public_key FROM audit_checkpoints ORDER BY checkpoint_id")
        ).scalars()
        return list(keys)[index]


def test_export_verifies_from_the_file_alone(url: str, tmp_path: Path) -> None:
    out = tmp_path / "chain.jsonl"
    assert export_chain(url, out) == len(_events(url))
    assert verify_export(out) == []
    lines = out.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[4])
    edited["reason"] = "nothing to see"
    lines[4] = json.dumps(edited)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [str(p) for p in verify_export(out)] == [
        "event 5: changed after it was written: its hash does not match"
    ]


def test_cli_verify_exits_1_naming_the_problem(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["audit", "verify", "--db", url]) == 0
    with get_engine(url).begin() as connection:
        connection.execute(audit_events.delete().where(audit_events.c.seq == 2))
    assert run(["audit", "verify", "--db", url, "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert "Error: audit chain does not verify: event 2: missing" in captured.err
    assert json.loads(captured.out.splitlines()[-1])["ok"] is False


def test_many_rows_added_behind_amnesty_are_listed_then_counted(url: str) -> None:
    with get_engine(url).begin() as connection:
        for i in range(25):
            connection.execute(
                sa.text(
                    "INSERT INTO users (user_id, name, roles, facilities, active, created_at) "
                    """VALUES (:i, :n, '["approver"]', '[]', true, :at)"""
                ),
                {"i": 100 + i, "n": f"ghost{i:02d}", "at": dt.datetime(2015, 10, 8, 9, 0)},
            )
    problems = _problems(url)
    assert len(problems) == 21
    assert (
        problems[0] == "users ghost00: no audit event wrote this row: it was added behind amnesty"
    )
    assert problems[-1] == "table users: and 5 more rows that differ"
