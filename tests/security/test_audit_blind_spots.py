"""Someone with write access to the database edits what a release depends on.

Each test is one attack of issue #9 against ``audit verify``: before the
verifier replayed the chain into the expected rows, every one of them passed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from released_world import IN_WINDOW, SECOND_ROUND, Released, key_file, released_world

from amnesty.audit.checkpoint import read_checkpoint_file
from amnesty.audit.log import create_checkpoint
from amnesty.audit.verify import verify
from amnesty.cli import run as cli_run
from amnesty.errors import IllegalTransition
from amnesty.store.engine import get_engine
from amnesty.workflow.credentials import issue_token, revoke_token
from amnesty.workflow.releases import execute_release, get_release
from amnesty.workflow.rosters import approve_roster, prepare_roster

# Each attack builds and executes a small world (a few seconds each, on both databases).
pytestmark = pytest.mark.slow


@pytest.fixture
def done(backend_url: str) -> Released:
    world = released_world(backend_url)
    assert verify(world.url).ok
    return world


def _sql(done: Released, statement: str, **params: object) -> None:
    with get_engine(done.url).begin() as conn:
        conn.execute(sa.text(statement), params)


def _problems(done: Released) -> list[str]:
    return [str(p) for p in verify(done.url).problems]


def test_deleted_release_with_its_certificate_and_event_is_found(done: Released) -> None:
    run_id = done.world.run_id
    release = get_release(done.url, run_id, "P07")  # the latest certificate number
    assert release is not None
    number = release.certificate_no
    _sql(done, "DELETE FROM certificates WHERE release_id = :r", r=release.release_id)
    _sql(done, "DELETE FROM releases WHERE release_id = :r", r=release.release_id)
    _sql(done, "DELETE FROM events WHERE event_id = :e", e=f"{run_id}:P07:release")
    problems = _problems(done)
    assert problems == [
        f"releases {release.release_id}: missing: written by audit event "
        + problems[0].rsplit("audit event ", 1)[1],
        f"certificates {number}: missing" + problems[1].split("missing", 1)[1],
        f"events {run_id}:P07:release: missing" + problems[2].split("missing", 1)[1],
    ]
    # As far as the tables go the person is in custody again: released a second time,
    # under the count-based certificate number of the deleted release.
    again = execute_release(done.url, "off1", run_id, "P07", release_date=IN_WINDOW)
    assert not again.already and again.release.certificate_no == number
    problems = _problems(done)
    assert any(p.startswith(f"releases {release.release_id}: missing") for p in problems)
    assert any(f"certificate {number} issued again (first issued in event" in p for p in problems)


def test_edited_user_roles_are_found(done: Released) -> None:
    _sql(
        done, """UPDATE users SET roles = '["facility_officer", "approver"]' WHERE name = 'off1'"""
    )
    (problem,) = _problems(done)
    assert problem.startswith("users off1: roles is ['facility_officer', 'approver'] in table")


def test_user_added_behind_amnesty_is_found(done: Released) -> None:
    _sql(
        done,
        "INSERT INTO users (user_id, name, roles, facilities, active, created_at, created_by) "
        """VALUES (99, 'mallory', '["approver"]', '[]', true, :at, 'admin')""",
        at=dt.datetime(2015, 10, 8, 9, 0),
    )
    assert _problems(done) == [
        "users mallory: no audit event wrote this row: it was added behind amnesty"
    ]


def test_edited_decree_is_found(done: Released) -> None:
    decree_id = done.world.decree.id
    _sql(done, "UPDATE decrees SET signed_by = 'admin' WHERE decree_id = :d", d=decree_id)
    assert _problems(done)[0].startswith(f"decrees {decree_id}: signed_by is 'admin' in table")


def test_edited_decree_text_is_found(done: Released) -> None:
    decree_id = done.world.decree.id
    _sql(
        done,
        "UPDATE decrees SET source_text = replace(source_text, 'MSS', 'KPA') WHERE decree_id = :d",
        d=decree_id,
    )
    (problem,) = _problems(done)
    assert problem.startswith(f"decrees {decree_id}: source_text does not hash to the content_hash")


def test_edited_run_is_found(done: Released) -> None:
    run_id = done.world.run_id
    _sql(done, "UPDATE runs SET as_of = :d WHERE run_id = :r", d=dt.date(2015, 12, 1), r=run_id)
    (problem,) = _problems(done)
    assert problem == (
        f"runs {run_id}: as_of is '2015-12-01' in table runs but '2015-10-01' in audit event "
        + problem.rsplit("audit event ", 1)[1]
    )


def test_edited_and_deleted_undertakings_are_found(done: Released) -> None:
    run_id = done.world.run_id
    _sql(done, "UPDATE undertaking_records SET witness = 'nobody'")
    assert _problems(done)[0].startswith(
        f"undertaking_records {run_id}/P01/pledge/1: witness is 'nobody' in table"
    )
    _sql(done, "DELETE FROM undertaking_records")
    assert _problems(done)[0].startswith(f"undertaking_records {run_id}/P01/pledge/1: missing")


def test_roster_entry_inserted_for_an_ineligible_person_is_found(done: Released) -> None:
    _sql(
        done,
        "INSERT INTO roster_entries (roster_id, person_id, relief) VALUES (:r, 'P04', 'release')",
        r=done.roster_id,
    )
    (problem,) = _problems(done)
    assert problem.startswith(f"roster {done.roster_id}: entries changed after audit event")
    assert "5 stored" in problem and "4 recorded" in problem


def test_forged_release_of_an_ineligible_person_is_found(done: Released) -> None:
    """The rows a release writes, all of them, written by hand for the MSS prisoner P04."""
    run_id = done.world.run_id
    _sql(
        done,
        "INSERT INTO roster_entries (roster_id, person_id, relief) VALUES (:r, 'P04', 'release')",
        r=done.roster_id,
    )
    _sql(
        done,
        "INSERT INTO releases (release_id, run_id, person_id, roster_id, facility_id, relief, "
        "release_date, certificate_no, executed_by, executed_at) VALUES (77, :run, 'P04', :r, "
        "'F1', 'release', :d, 'X/1', 'off1', :at)",
        run=run_id,
        r=done.roster_id,
        d=IN_WINDOW,
        at=dt.datetime(2015, 10, 8, 9, 0),
    )
    problems = _problems(done)
    assert "releases 77: no audit event wrote this row: it was added behind amnesty" in problems
    assert (
        f"release 77 (run {run_id} person P04): the run decided ineligible for this person: "
        "released wrongly"
    ) in problems


def test_release_event_dropped_from_the_registry_is_found(done: Released) -> None:
    """What ``registry import --discard-amnesty-events`` does: the released are back in custody."""
    run_id = done.world.run_id
    _sql(done, "DELETE FROM events WHERE run_id IS NOT NULL")
    problems = _problems(done)
    assert len(problems) == 4
    assert all(p.startswith(f"events {run_id}:P0") and ": missing" in p for p in problems)


def test_truncated_chain_without_its_checkpoints_fails_with_the_public_key(
    done: Released, tmp_path: Path
) -> None:
    key = key_file(tmp_path)
    checkpoint = create_checkpoint(done.url, "admin", key)
    held = tmp_path / "held.json"
    held.write_text(json.dumps(checkpoint.as_json()))
    public = checkpoint.public_key
    assert verify(done.url, trusted_key=public).ok
    # Cut the chain back to before the releases, and everything written after the cut.
    with get_engine(done.url).connect() as conn:
        cut = conn.execute(
            sa.text("SELECT min(seq) FROM audit_events WHERE action = 'roster.prepare'")
        ).scalar_one()
    for table in ("certificates", "releases", "undertaking_records", "roster_entries", "rosters"):
        _sql(done, f"DELETE FROM {table}")
    _sql(done, "DELETE FROM events WHERE run_id IS NOT NULL")
    _sql(done, "DELETE FROM audit_checkpoints")
    _sql(done, "DELETE FROM audit_events WHERE seq >= :s", s=cut)
    problems = [str(p) for p in verify(done.url, trusted_key=public).problems]
    assert problems == [
        "checkpoints: none signed by the trusted public key holds: nothing anchors the chain's "
        "head, so a truncated or rebuilt chain cannot be ruled out; give the checkpoint files "
        "you hold (--checkpoint)"
    ]
    with_file = verify(done.url, checkpoints=[read_checkpoint_file(held)], trusted_key=public)
    assert str(with_file.problems[0]) == (
        f"checkpoint at event {checkpoint.seq}: the chain has no such event: it was truncated "
        "or rewritten"
    )


def test_public_key_with_no_checkpoint_fails_on_the_command_line(
    done: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = create_checkpoint(done.url, "admin", key_file(tmp_path))
    _sql(done, "DELETE FROM audit_checkpoints")
    _sql(done, "DELETE FROM audit_events WHERE seq = :s", s=checkpoint.seq + 1)
    args = ["audit", "verify", "--db", str(done.url.target), "--public-key"]
    assert cli_run([*args, checkpoint.public_key.hex()]) == 1
    assert "none signed by the trusted public key holds" in capsys.readouterr().err


def test_deleted_stored_checkpoint_is_found(done: Released, tmp_path: Path) -> None:
    checkpoint = create_checkpoint(done.url, "admin", key_file(tmp_path))
    _sql(done, "DELETE FROM audit_checkpoints")
    (problem,) = _problems(done)
    assert problem.startswith(f"audit_checkpoints {checkpoint.seq}/")
    assert problem.endswith(
        "missing: written by audit event " + str(checkpoint.seq + 1) + ", no longer stored"
    )


def test_edited_release_names_the_release(done: Released) -> None:
    release = get_release(done.url, done.world.run_id, "P01")
    assert release is not None
    _sql(
        done,
        "UPDATE releases SET relief = 'commutation' WHERE release_id = :r",
        r=release.release_id,
    )
    problems = _problems(done)
    assert problems[0].startswith(
        f"releases {release.release_id}: relief is 'commutation' in table releases but 'release'"
    )
    assert (
        f"release {release.release_id} (run {done.world.run_id} person P01): relief commutation "
        "but the run decided release"
    ) in problems


def test_checkpoint_into_a_missing_folder_signs_and_stores_nothing(
    done: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def chain_and_checkpoints() -> tuple[int, int]:
        with get_engine(done.url).connect() as conn:
            events = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
            stored = conn.execute(sa.text("SELECT count(*) FROM audit_checkpoints")).scalar_one()
        return events, stored

    before = chain_and_checkpoints()
    key = key_file(tmp_path)
    out = tmp_path / "no-such-folder" / "cp.json"
    db = ["--db", str(done.url.target), "--as", "admin"]
    assert cli_run(["audit", "checkpoint", *db, "--key", str(key), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"Error: --out {out}: folder {out.parent} does not exist" in err
    assert chain_and_checkpoints() == before and not key.exists()
    out.parent.mkdir()
    assert cli_run(["audit", "checkpoint", *db, "--key", str(key), "--out", str(out)]) == 0
    assert read_checkpoint_file(out).seq == before[0]
    assert chain_and_checkpoints() == (before[0] + 1, before[1] + 1)


def test_person_freed_again_after_their_release_event_vanished_is_found(done: Released) -> None:
    """Drop P02's release event (what a discarding re-import did): a second run of the same
    decree finds P02 in custody, but a second release in the same custody episode is an
    audited refusal naming the first release (#8's unique key stands behind it), nothing
    of the second is written, and verify reports the vanished event."""
    world = done.world
    first = get_release(world.url, world.run_id, "P02")
    assert first is not None
    _sql(done, "DELETE FROM events WHERE event_id = :e", e=f"{world.run_id}:P02:release")
    second = world.evaluate_again()
    roster = prepare_roster(world.url, "off1", second.run.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    counts = _release_counts(done)
    with pytest.raises(IllegalTransition) as refused:
        execute_release(
            world.url,
            "off1",
            second.run.run_id,
            "P02",
            release_date=SECOND_ROUND,
            override_reason="second round",
        )
    message = str(refused.value)
    assert message.startswith(
        f"release of P02 stopped: P02 was already released in this custody episode by "
        f"release {first.release_id} (run {world.run_id}, certificate {first.certificate_no}"
    )
    assert "\n" not in message
    assert _release_counts(done) == counts  # no event, release, certificate half-written
    assert get_release(world.url, second.run.run_id, "P02") is None
    assert get_release(world.url, world.run_id, "P02") is not None
    with get_engine(done.url).connect() as conn:
        last = conn.execute(
            sa.text(
                "SELECT actor, action, entity_id, outcome, reason FROM audit_events "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    assert tuple(last) == (
        "off1", "release.execute", f"{second.run.run_id}:P02", "refused", message
    )  # fmt: skip
    assert _problems(done)  # the vanished release event is still found


def _release_counts(done: Released) -> tuple[int, ...]:
    with get_engine(done.url).connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("releases", "certificates", "events")
        )


def test_edited_return_date_of_a_revocation_is_found(done: Released) -> None:
    """The return event a revocation writes is dated by the revocation's return date,
    which the ``release.revoke`` event now carries (``returned_on``)."""
    from amnesty.workflow.releases import revoke_release

    run_id = done.world.run_id
    revoke_release(
        done.url, "appr1", run_id, "P06", reason="released in error", return_date=SECOND_ROUND
    )
    assert verify(done.url).ok
    _sql(
        done,
        "UPDATE events SET event_date = :d WHERE event_id = :e",
        d=dt.date(2015, 12, 1),
        e=f"{run_id}:P06:return",
    )
    (problem,) = _problems(done)
    assert problem.startswith(f"events {run_id}:P06:return: event_date is '2015-12-01'")
    assert f"but '{SECOND_ROUND.isoformat()}' in audit event" in problem


def test_credential_inserted_behind_amnesty_is_found(done: Released) -> None:
    # A token of the intruder's own for an approver: the hash of a secret they know.
    _sql(
        done,
        "INSERT INTO credentials (credential_id, user_name, kind, secret_hash, created_at, "
        "created_by) VALUES ('tok-mallory', 'appr1', 'token', :hash, :at, 'admin')",
        hash="0" * 64,
        at=dt.datetime(2015, 10, 8, 9, 0),
    )
    assert _problems(done) == [
        "credentials tok-mallory: no audit event wrote this row: it was added behind amnesty"
    ]


def test_password_hash_swapped_is_found(done: Released) -> None:
    # An intruder puts the hash of a password they know (off1's) on an approver's account.
    _sql(
        done,
        "UPDATE credentials SET secret_hash = (SELECT secret_hash FROM credentials "
        "WHERE user_name = 'off1' AND kind = 'password') "
        "WHERE user_name = 'appr1' AND kind = 'password'",
    )
    (problem,) = _problems(done)
    assert problem.startswith("credentials pw-") and ": secret_digest is " in problem


def test_revoked_token_made_to_work_again_is_found(done: Released) -> None:
    token = issue_token(done.url, "appr1", actor="appr1", label="laptop")
    revoke_token(done.url, token.credential_id, actor="appr1")
    assert verify(done.url).ok
    _sql(
        done,
        "UPDATE credentials SET revoked_at = NULL, revoked_by = NULL WHERE credential_id = :c",
        c=token.credential_id,
    )
    problems = _problems(done)
    assert [p.split(" is ", 1)[0] for p in problems] == [
        f"credentials {token.credential_id}: revoked_at",
        f"credentials {token.credential_id}: revoked_by",
    ], problems
