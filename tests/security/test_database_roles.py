"""On PostgreSQL the database itself refuses what a login may not do (issue #9, item 2).

A real PostgreSQL: a non-superuser owner role owns the database and runs the
migrations and the registry import; ``amnesty db roles`` (the real CLI) sets up
the groups and three logins: the application's, a reviewer's and a facility
officer's. Then, connected as those logins:

- the application login cannot UPDATE, DELETE or TRUNCATE the audit chain, the
  releases, their certificates or roster entries, even after a careless ``GRANT
  ALL`` (the triggers), and a signed decree or an approved roster cannot be
  changed through the columns it may update;
- the whole case-work flow (roster, approval, undertaking, execution, revocation,
  a second evaluation, a re-import by the owner, ``audit verify``) works as the
  application login;
- a reviewer's login decides a review but cannot insert a release nor execute a
  roster, and nothing is half-written;
- a facility officer's login (mapped to amnesty user off1, officer of F1) writes
  only off1's rows of F1: releasing F2's roster through it, or inserting rows of
  another facility or in another user's name, is refused by row-level security;
- the admin's, approver's, drafter's and auditor's logins each do their role's
  steps (add and confirm users, draft and sign a decree, approve a roster and
  revoke a release, sign a checkpoint);
- a login that does not own the tables never migrates: a database behind head
  is refused with what to do.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import psycopg
import pytest
from released_world import IN_WINDOW, RELEASED, World, build_world

from acting import TEST_PASSWORD
from amnesty.audit.log import create_checkpoint
from amnesty.audit.verify import verify
from amnesty.cli import run as cli_run
from amnesty.errors import ConfigError
from amnesty.store.database import Database
from amnesty.store.db import resolve_db
from amnesty.store.engine import dispose_engine
from amnesty.store.migrate import forget_migrated
from amnesty.workflow.batches import execute_roster
from amnesty.workflow.decrees import sign_decree
from amnesty.workflow.evaluate import evaluate_and_record
from amnesty.workflow.registry_import import import_as
from amnesty.workflow.releases import record_undertaking, revoke_release
from amnesty.workflow.review import decide
from amnesty.workflow.rosters import approve_roster, prepare_roster
from amnesty.workflow.users import add_user, confirm_user
from owned_database import OwnedDatabase

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # a casework world per test


@dataclass
class Deployed:
    world: World
    owned: OwnedDatabase
    owner: str
    app: str
    reviewer: str
    officer: str
    names: list[str]  # the owner's and the three logins' role names


def _as_login(url: str, login: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{login}@{rest.split('@', 1)[1]}"


def _forget(url: str) -> None:
    dispose_engine(url)
    forget_migrated(url)
    Database(resolve_db(url)).close()


@pytest.fixture
def deployed(owned_database: OwnedDatabase) -> Deployed:
    owned = owned_database
    world = build_world(owned.owner_url)
    (app, app_url), (rev, rev_url), (off, off_url) = (
        owned.login(role) for role in ("app", "reviewer", "facility_officer")
    )
    code = cli_run(
        ["db", "roles", "--db", owned.owner_url, "--login", f"{app}=app",
         "--login", f"{rev}=reviewer", "--login", f"{off}=facility_officer:off1"]
    )  # fmt: skip
    assert code == 0
    return Deployed(
        world, owned, owned.owner_url, app_url, rev_url, off_url, [owned.owner, app, rev, off]
    )


def _refused(url: str, statement: str) -> str:
    """Run ``statement`` as ``url``'s login; the database must refuse it."""
    with psycopg.connect(url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
            conn.execute(statement)
        conn.rollback()
    return str(caught.value)


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def _released_by_app(d: Deployed) -> int:
    app = Database.open(d.app)
    roster = prepare_roster(app, "off1", d.world.run_id, "F1")
    approve_roster(app, "appr1", roster.roster_id)
    record_undertaking(
        app, "off1", d.world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Kim"
    )
    report = execute_roster(app, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == RELEASED, report
    return roster.roster_id


HISTORY = [
    "UPDATE audit_events SET actor = 'nobody'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "UPDATE releases SET relief = 'release', release_date = release_date - 1",
    "DELETE FROM releases",
    "DELETE FROM certificates",
    "UPDATE certificates SET release_id = release_id",
    "DELETE FROM roster_entries",
    "UPDATE roster_entries SET relief = 'release'",
    "UPDATE determinations SET outcome = 'eligible'",
    "DELETE FROM release_revocations",
    "UPDATE runs SET decree_hash = 'x'",
    "DELETE FROM events",
    "UPDATE users SET roles = '[\"admin\"]'",
    "DELETE FROM users",
    "UPDATE audit_checkpoints SET hash = 'x'",
]


def test_the_app_login_cannot_rewrite_history(deployed: Deployed) -> None:
    _released_by_app(deployed)
    before = {t: _count(deployed.app, t) for t in ("audit_events", "releases", "certificates")}
    for statement in HISTORY:
        message = _refused(deployed.app, statement)
        assert "permission denied" in message, (statement, message)
    after = {t: _count(deployed.app, t) for t in before}
    assert after == before
    assert verify(Database.open(deployed.app).url).problems == []


def test_a_careless_grant_all_still_leaves_history_append_only(deployed: Deployed) -> None:
    roster_id = _released_by_app(deployed)
    with psycopg.connect(deployed.owner, autocommit=True) as conn:
        conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO amnesty_app")
    try:
        for statement in (
            "UPDATE audit_events SET actor = 'nobody'",
            "DELETE FROM releases",
            "TRUNCATE audit_events CASCADE",
            "UPDATE releases SET relief = 'x'",
        ):
            message = _refused(deployed.app, statement)
            assert "append-only" in message, (statement, message)
        # the columns the app may change are one-way
        message = _refused(
            deployed.app, f"UPDATE rosters SET approved_by = 'appr2' WHERE roster_id = {roster_id}"
        )
        assert "may not go from approved to approved" in message
        message = _refused(deployed.app, "UPDATE decrees SET source_text = 'grant everyone'")
        assert "a signed decree never changes" in message
    finally:
        with psycopg.connect(deployed.owner, autocommit=True) as conn:
            conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM amnesty_app")
        assert cli_run(["db", "roles", "--db", deployed.owner]) == 0
    # the owner is not bound by the triggers (an intruder holding it is audit verify's)
    with psycopg.connect(deployed.owner) as conn:
        conn.execute("UPDATE audit_events SET actor = actor WHERE seq = 1")


def test_the_whole_flow_works_as_the_app_login(deployed: Deployed, capsys) -> None:  # type: ignore[no-untyped-def]
    _released_by_app(deployed)
    app = Database.open(deployed.app)
    revoked = revoke_release(
        app, "appr1", deployed.world.run_id, "P02", reason="released in error",
        return_date=IN_WINDOW,
    )  # fmt: skip
    assert revoked
    again = evaluate_and_record(app, deployed.world.decree_path, actor="drafter", as_of=IN_WINDOW)
    assert again.run.run_id != deployed.world.run_id
    decide(app, "rev1", deployed.world.run_id, "P03", "eligible", "ill, but fit to travel")
    # the owner re-imports the registry (its tables are dropped and recreated); the
    # application can still read them and append its registry events afterwards
    import_as(
        Database.open(deployed.owner), "admin", deployed.world.registry_dir, profile="core",
        keep_amnesty_events=True,
    )  # fmt: skip
    _forget(deployed.app)
    app = Database.open(deployed.app)
    roster = prepare_roster(app, "off2", deployed.world.run_id, "F2")
    approve_roster(app, "appr1", roster.roster_id)
    report = execute_roster(app, "off2", roster.roster_id, release_date=IN_WINDOW)
    assert report.released == ["P05"], report
    assert verify(app.url).problems == []
    capsys.readouterr()
    assert cli_run(["audit", "verify", "--db", deployed.app]) == 0
    assert "audit chain verifies" in capsys.readouterr().err


def test_a_reviewers_login_cannot_release(deployed: Deployed) -> None:
    reviewer = Database.open(deployed.reviewer)
    decide(reviewer, "rev1", deployed.world.run_id, "P03", "eligible", "fit to travel")
    message = _refused(
        deployed.reviewer,
        "INSERT INTO releases (release_id, run_id, person_id, roster_id, facility_id, relief, "
        f"release_date, executed_by, executed_at) VALUES (999, '{deployed.world.run_id}', "
        "'P03', 1, 'F1', 'release', '2015-10-08', 'rev1', now())",
    )
    assert "permission denied for table releases" in message
    _refused(deployed.reviewer, "INSERT INTO roster_entries VALUES (1, 'P03', 'release')")
    # the officer prepares a roster through the app; the reviewer's login cannot execute it
    app = Database.open(deployed.app)
    roster = prepare_roster(app, "off1", deployed.world.run_id, "F1")
    approve_roster(app, "appr1", roster.roster_id)
    before = _count(deployed.owner, "audit_events")
    with pytest.raises(Exception, match="permission denied"):
        execute_roster(reviewer, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert _count(deployed.owner, "releases") == 0
    assert _count(deployed.owner, "audit_events") == before
    # the officer's own login can
    officer = Database.open(deployed.officer)
    report = execute_roster(officer, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert "P02" in report.released, report
    assert verify(officer.url).problems == []


def test_an_officers_login_writes_only_its_users_rows_of_its_facilities(
    deployed: Deployed,
) -> None:
    app = Database.open(deployed.app)
    run_id = deployed.world.run_id
    roster = prepare_roster(app, "off2", run_id, "F2")
    approve_roster(app, "appr1", roster.roster_id)
    officer = Database.open(deployed.officer)  # acts as off1, an officer of F1 only
    before = {t: _count(deployed.owner, t) for t in ("audit_events", "releases", "events")}
    # Claiming to be off2 (whose facility it is) does not help: the login is off1's.
    with pytest.raises(Exception, match="row-level security"):
        execute_roster(officer, "off2", roster.roster_id, release_date=IN_WINDOW)
    assert {t: _count(deployed.owner, t) for t in before} == before
    forged = {
        "a release at F2": "INSERT INTO releases (release_id, run_id, person_id, roster_id, "
        f"facility_id, relief, release_date, executed_by, executed_at) VALUES (999, '{run_id}', "
        f"'P05', {roster.roster_id}, 'F2', 'release', '2015-10-08', 'off1', now())",
        "a roster of F2": "INSERT INTO rosters (roster_id, run_id, facility_id, generation, "
        f"status, prepared_by, prepared_at) VALUES (998, '{run_id}', 'F2', 9, 'prepared', "
        "'off1', now())",
        "a roster of F1 in off3's name": "INSERT INTO rosters (roster_id, run_id, facility_id, "
        f"generation, status, prepared_by, prepared_at) VALUES (997, '{run_id}', 'F1', 9, "
        "'prepared', 'off3', now())",
        "an entry of F2's roster": "INSERT INTO roster_entries VALUES "
        f"({roster.roster_id}, 'P04', 'release')",
        "a registry event at F2": "INSERT INTO events (event_id, person_id, event_type, "
        "event_date, facility_id) VALUES ('forged', 'P05', 'release', '2015-10-08', 'F2')",
        "an undertaking of an F2 person": "INSERT INTO undertaking_records (record_id, run_id, "
        "person_id, undertaking_id, status, signed_on, recorded_by, recorded_at) VALUES "
        f"(996, '{run_id}', 'P05', 'pledge', 'signed', '2015-10-08', 'off1', now())",
    }
    for what, statement in forged.items():
        message = _refused(deployed.officer, statement)
        assert "row-level security" in message, (what, message)
    # Its own facility, in its own name, it may write; and everyone reads every facility.
    own = prepare_roster(officer, "off1", run_id, "F1")
    approve_roster(app, "appr1", own.roster_id)
    record_undertaking(officer, "off1", run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Kim")
    report = execute_roster(officer, "off1", own.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == RELEASED, report
    assert _count(deployed.officer, "rosters") == _count(deployed.owner, "rosters")
    assert verify(officer.url).problems == []


def test_every_roles_login_does_that_roles_steps(deployed: Deployed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each group holds every privilege its role's steps need, through a login of its own."""
    roles = ("admin", "approver", "drafter", "auditor")
    logins = {role: deployed.owned.login(role) for role in roles}
    code = cli_run(
        ["db", "roles", "--db", deployed.owner,
         *(a for role, (name, _url) in logins.items() for a in ("--login", f"{name}={role}"))]
    )  # fmt: skip
    assert code == 0
    db = {role: Database.open(url) for role, (_name, url) in logins.items()}
    admin = db["admin"]
    add_user(admin, "aud1", ["auditor"], actor="admin", password=TEST_PASSWORD)
    add_user(admin, "appr3", ["approver"], actor="admin", password=TEST_PASSWORD)
    confirm_user(admin, "appr3", actor="admin2")
    second = deployed.world.decree_path.with_name("kp-2015-11.toml")
    second.write_text(
        deployed.world.decree_path.read_text(encoding="utf-8").replace("kp-2015-10", "kp-2015-11"),
        encoding="utf-8",
    )
    drafted = evaluate_and_record(db["drafter"], second, actor="drafter", as_of=IN_WINDOW)
    sign_decree(db["drafter"], drafted.decree.id, "drafter")
    officer = Database.open(deployed.officer)
    roster = prepare_roster(officer, "off1", drafted.run.run_id, "F1")
    approve_roster(db["approver"], "appr3", roster.roster_id)
    record_undertaking(
        officer, "off1", drafted.run.run_id, "P01", "pledge", signed_on=IN_WINDOW,
        witness="Kim",
    )  # fmt: skip
    report = execute_roster(officer, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == RELEASED, report
    revoke_release(
        db["approver"], "appr3", drafted.run.run_id, "P02", reason="released in error",
        return_date=IN_WINDOW,
    )  # fmt: skip
    create_checkpoint(db["auditor"], "aud1", tmp_path / "audit.key")
    assert verify(db["auditor"].url).problems == []


def test_an_officers_login_must_name_its_user(deployed: Deployed, capsys) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    code = cli_run(["db", "roles", "--db", deployed.owner, "--login", "kim=facility_officer"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "names the amnesty user it acts as" in err
    with psycopg.connect(deployed.owner) as conn:  # nothing was created
        found = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'kim'")
        assert found.fetchone() == (0,)


def test_a_login_that_does_not_own_the_tables_never_migrates(deployed: Deployed, pg_server) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    dbname = f"amnesty_empty_{tag}"
    owner_name = deployed.names[0]
    pg_server._admin(f"CREATE DATABASE {dbname} OWNER {owner_name} TEMPLATE template0")
    app_url = _as_login(deployed.owner.rsplit("/", 1)[0] + "/" + dbname, deployed.names[1])
    try:
        with pytest.raises(ConfigError, match="does not own its tables; upgrade it as the owner"):
            Database.open(app_url)
        with psycopg.connect(app_url) as conn:  # nothing was created
            found = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert found.fetchone() == (0,)
    finally:
        _forget(app_url)
        pg_server._admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_db_roles_is_idempotent_and_refuses_bad_input(
    deployed: Deployed, capsys, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    login = deployed.names[1]
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-Pass'word\n"))
    assert cli_run(["db", "roles", "--db", deployed.owner, "--dry-run", "--login",
                    f"{login}=app", "--password-stdin"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert f"ALTER ROLE \"{login}\" LOGIN PASSWORD '***'" in printed
    assert "s3cret" not in printed
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli_run(["db", "roles", "--db", deployed.owner, "--dry-run", "--login",
                    f"{login}=app", "--password-stdin"]) == 1  # fmt: skip
    assert "1 --login given, 0 passwords read" in capsys.readouterr().err
    code = cli_run(["db", "roles", "--db", deployed.owner, "--login", "bad name=app"])
    assert code == 1
    assert "expected a PostgreSQL role name" in capsys.readouterr().err
    assert cli_run(["db", "roles", "--db", deployed.owner, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert 'GRANT INSERT ON "public"."releases" TO "amnesty_facility_officer"' in printed
    assert 'GRANT INSERT ON "public"."releases" TO "amnesty_reviewer"' not in printed
    assert "UPDATE" not in "\n".join(
        line for line in printed.splitlines() if '"audit_events"' in line and "GRANT" in line
    )
    # twice more, as the deployment script would: the app keeps working
    assert cli_run(["db", "roles", "--db", deployed.owner]) == 0
    assert cli_run(["db", "roles", "--db", deployed.owner]) == 0
    _released_by_app(deployed)
    assert cli_run(["db", "roles", "--db", str(tmp_path / "local.duckdb")]) == 1
    assert "database roles are a PostgreSQL feature" in capsys.readouterr().err
