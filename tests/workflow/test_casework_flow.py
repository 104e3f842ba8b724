"""Review, rosters and releases end to end, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from casework_world import IN_WINDOW, World, build_world
from pypdf import PdfReader

from amnesty.audit.verify import verify
from amnesty.cli import run as cli_run
from amnesty.errors import Conflict, IllegalTransition, PermissionDenied, RegistryError
from amnesty.registry.importer import import_registry
from amnesty.registry.snapshot import Snapshot, current_snapshot
from amnesty.store.database import Database
from amnesty.store.engine import dispose_engine, get_engine
from amnesty.store.tables import audit_events, releases, rosters
from amnesty.workflow import review
from amnesty.workflow.batches import check_roster, execute_roster
from amnesty.workflow.certificate_store import print_certificates
from amnesty.workflow.duties import SeparationOfDuties
from amnesty.workflow.releases import execute_release, record_undertaking, revoke_release
from amnesty.workflow.rosters import approve_roster, get_roster, prepare_roster, withdraw_roster


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url)


def _approved(world: World) -> int:
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    return roster.roster_id


def _snapshot(world: World) -> Snapshot:
    with get_engine(world.url).connect() as conn:
        snapshot = current_snapshot(conn)
    assert snapshot is not None
    return snapshot


def _refusals(world: World, action: str) -> list[str]:
    with get_engine(world.url).connect() as conn:
        return list(
            conn.execute(
                sa.select(audit_events.c.reason).where(
                    audit_events.c.action == action, audit_events.c.outcome == "refused"
                )
            ).scalars()
        )


def test_review_decide_reopen_and_conflict(world: World) -> None:
    queue = review.review_queue(world.url, world.run_id)
    assert [c.person_id for c in queue] == ["P03"] and queue[0].state == "open"
    with pytest.raises(IllegalTransition, match="written reason"):
        review.decide(world.url, "rev1", world.run_id, "P03", "eligible", "  ")
    review.decide(world.url, "rev1", world.run_id, "P03", "eligible", "health report seen")
    with pytest.raises(Conflict, match="already decided eligible by rev1"):
        review.decide(world.url, "rev2", world.run_id, "P03", "ineligible", "disagree")
    review.reopen(world.url, "rev2", world.run_id, "P03", "new medical evidence")
    review.decide(world.url, "rev2", world.run_id, "P03", "ineligible", "not terminally ill")
    history = review.case_history(world.url, world.run_id, "P03")
    assert [(r.version, r.kind, r.outcome) for r in history] == [
        (1, "decide", "eligible"),
        (2, "reopen", None),
        (3, "decide", "ineligible"),
    ]
    with pytest.raises(PermissionDenied):
        review.decide(world.url, "off1", world.run_id, "P03", "eligible", "x")
    with pytest.raises(IllegalTransition, match="only review cases"):
        review.decide(world.url, "rev1", world.run_id, "P01", "eligible", "x")
    assert len(_refusals(world, "review.decide")) == 4


def test_roster_four_eyes_and_review_outcomes(world: World) -> None:
    review.decide(world.url, "rev1", world.run_id, "P03", "eligible", "ok")
    roster = prepare_roster(world.url, "appr1", world.run_id, "F1")
    _, entries = get_roster(world.url, roster.roster_id)
    assert [e.person_id for e in entries] == ["P01", "P02", "P03", "P06", "P07"]
    with pytest.raises(SeparationOfDuties, match="four eyes"):
        approve_roster(world.url, "appr1", roster.roster_id)
    with pytest.raises(IllegalTransition, match="already has roster"):
        prepare_roster(world.url, "off1", world.run_id, "F1")
    with pytest.raises(PermissionDenied, match="not for facility F1"):
        prepare_roster(world.url, "off2", world.run_id, "F1")
    approved = approve_roster(world.url, "appr2", roster.roster_id)
    assert approved.status == "approved" and approved.approved_by == "appr2"
    assert _refusals(world, "roster.approve")


def test_release_flow_and_idempotence(world: World) -> None:
    roster_id = _approved(world)
    with pytest.raises(IllegalTransition, match="undertaking pledge not yet recorded"):
        execute_release(world.url, "off1", world.run_id, "P01", release_date=IN_WINDOW)
    record_undertaking(world.url, "off1", world.run_id, "P01", "pledge", refused=True)
    with pytest.raises(IllegalTransition, match="refused"):
        execute_release(world.url, "off1", world.run_id, "P01", release_date=IN_WINDOW)
    record_undertaking(
        world.url, "off1", world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Pak"
    )
    first = execute_release(world.url, "off1", world.run_id, "P01", release_date=IN_WINDOW)
    again = execute_release(world.url, "off1", world.run_id, "P01", release_date=IN_WINDOW)
    assert not first.already and again.already
    assert first.release.certificate_no == again.release.certificate_no == "kp-2015-10/000001"
    rows = world.sql("SELECT event_type, decree_id, run_id FROM events WHERE person_id = 'P01'")
    assert sorted(r[0] for r in rows) == ["admission", "release"]
    report = execute_roster(world.url, "off1", roster_id, release_date=IN_WINDOW)
    assert report.already == ["P01"] and report.released == ["P02", "P06", "P07"]
    numbers = world.sql("SELECT certificate_no FROM releases ORDER BY certificate_no")
    assert [n[0] for n in numbers] == [f"kp-2015-10/00000{i}" for i in range(1, 5)]
    with pytest.raises(IllegalTransition, match="has been executed"):
        withdraw_roster(world.url, "appr2", roster_id, "mistake")


def test_illegal_steps_are_refused_audited_and_change_nothing(world: World) -> None:
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    with pytest.raises(IllegalTransition, match="not approved"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    approve_roster(world.url, "appr2", roster.roster_id)
    with pytest.raises(IllegalTransition, match="outside decree"):
        execute_release(
            world.url, "off1", world.run_id, "P02",
            release_date=dt.date(2015, 11, 1)
        )  # fmt: skip
    with pytest.raises(PermissionDenied, match="not for facility F1"):
        execute_release(world.url, "off2", world.run_id, "P02", release_date=IN_WINDOW)
    with pytest.raises(PermissionDenied, match="lacks the role"):
        execute_release(world.url, "rev1", world.run_id, "P02", release_date=IN_WINDOW)
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 0
    assert len(_refusals(world, "release.execute")) == 4
    late = execute_release(
        world.url, "off1", world.run_id, "P02",
        release_date=dt.date(2015, 11, 1), override_reason="hospital transfer delayed"
    )  # fmt: skip
    assert late.release.override_reason == "hospital transfer delayed"


def test_draft_decree_runs_lead_to_nothing(backend_url: str) -> None:
    world = build_world(backend_url, signed=False)
    with pytest.raises(IllegalTransition, match="is a draft"):
        prepare_roster(world.url, "off1", world.run_id, "F1")
    with get_engine(world.url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rosters)).scalar_one() == 0
    assert _refusals(world, "roster.prepare")


def test_recheck_stops_releases_on_registry_changes(world: World) -> None:
    roster_id = _approved(world)
    world.change(
        "events",
        "INSERT INTO events (event_id, person_id, event_type, event_date) "
        "VALUES ('D1', 'P02', 'death', DATE '2015-10-05')",
        key="D1",
    )
    world.change(
        "persons", "UPDATE persons SET facility_id = 'F2' WHERE person_id = 'P06'", key="P06"
    )
    world.change(
        "convictions",
        "INSERT INTO convictions (conviction_id, person_id, offence_code, offence_date, "
        "sentence_kind, term_months, start_date, aggregate_id) VALUES ('C-new', 'P07', 'T1', "
        "DATE '2015-10-02', 'term', 12, DATE '2015-10-03', NULL)",
        key="C-new",
    )
    # A changed fact that changes the outcome: P01 now held under the Ministry of State
    # Security, so the decree's exclusion blocks them when the engine re-evaluates.
    world.change(
        "persons",
        "UPDATE persons SET custody_authority = 'MSS' WHERE person_id = 'P01'",
        key="P01",
    )
    with pytest.raises(IllegalTransition, match=r"nobody on roster .* is ready") as refused:
        execute_roster(world.url, "off1", roster_id, release_date=IN_WINDOW)
    assert "1 died; 1 new conviction; 1 transferred; 1 undertaking pledge not recorded" in str(
        refused.value
    )
    readiness = check_roster(Database.of(world.url), roster_id, IN_WINDOW)
    stopped = {p: stops[0].text for p, stops in readiness.blocked.items()}
    assert readiness.ready == []
    assert "died on 2015-10-05" in stopped["P02"]
    assert "now held at facility F2" in stopped["P06"]
    assert "new conviction C-new" in stopped["P07"]
    assert "undertaking pledge" in stopped["P01"]
    record_undertaking(
        world.url, "off1", world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Pak"
    )
    with pytest.raises(IllegalTransition, match="is ineligible"):
        execute_release(world.url, "off1", world.run_id, "P01", release_date=IN_WINDOW)
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 0


def test_repealed_offence_code_stops_the_release(world: World) -> None:
    _approved(world)
    world.change(
        "offences",
        "UPDATE offences SET valid_to = DATE '2015-10-05' WHERE offence_code = 'T1'",
        key="T1",
    )
    with pytest.raises(IllegalTransition, match=r"offence code T1 .* repealed"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)


def test_release_advances_the_snapshot_and_the_next_round_sees_it(world: World) -> None:
    imported = _snapshot(world)
    assert imported.kind == "import"
    assert world.first_run.run.snapshot_hash == imported.content_hash
    _approved(world)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    derived = _snapshot(world)
    assert derived.kind == "derived" and derived.parent_id == imported.snapshot_id
    assert derived.content_hash != imported.content_hash
    assert derived.source == f"release run {world.run_id} person P02"
    second = world.evaluate_again()
    assert second.run.snapshot_hash == derived.content_hash
    assert second.run.reproduces_run_id is None  # a new registry: not a reproduction
    population = {r["person_id"] for r in second.evaluation.determinations.to_pylist()}
    assert "P02" not in population and {"P01", "P05", "P06"} <= population
    # The old extract lacks the release event: importing it again is refused.
    dispose_engine(world.url)  # the importer attaches the DuckDB file itself
    with pytest.raises(RegistryError, match="events"):
        import_registry(world.url, world.registry_dir, profile="core")
    assert _snapshot(world).content_hash == derived.content_hash


def test_revocation_returns_the_person_to_custody(world: World) -> None:
    _approved(world)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    released = _snapshot(world)
    revoke_release(
        world.url, "appr1", world.run_id, "P02", reason="wrong person", return_date=IN_WINDOW
    )
    returned = _snapshot(world)
    assert returned.kind == "derived" and returned.parent_id == released.snapshot_id
    assert returned.source == f"return run {world.run_id} person P02"
    with pytest.raises(IllegalTransition, match="already revoked"):
        revoke_release(world.url, "appr1", world.run_id, "P02", reason="x", return_date=IN_WINDOW)
    kinds = world.sql(
        "SELECT event_type FROM events WHERE person_id = 'P02' ORDER BY event_date, event_id"
    )
    assert [k[0] for k in kinds] == ["admission", "return", "release"] or "return" in [
        k[0] for k in kinds
    ]
    with get_engine(world.url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(releases)).scalar_one() == 1


def test_certificates_from_the_store_and_the_cli(world: World, tmp_path: Path) -> None:
    _approved(world)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    paths = print_certificates(world.url, "off1", tmp_path, person_id="P02")
    text = PdfReader(paths[0]).pages[0].extract_text()
    assert "리영호" in text and "kp-2015-10/000001" in text and "Persons convicted" in text
    code = cli_run(
        ["certificate", "--out", str(tmp_path / "batch"), "--facility", "F1", "--as", "off1",
         "--db", world.url.target]
    )  # fmt: skip
    assert code == 0
    assert len(list((tmp_path / "batch").glob("*.pdf"))) == 1
    assert verify(world.url).ok


def test_cli_refusal_prints_error_and_exits_1(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    code = cli_run(
        ["roster", "approve", str(roster.roster_id), "--as", "off1", "--db", world.url.target]
    )
    assert code == 1
    assert "Error: " in capsys.readouterr().err


@pytest.mark.parametrize(
    "start, precision, stopped",
    [
        ("DATE '2015-10-01'", "'month'", True),  # October 2015: may be after 1 October
        ("DATE '2015-01-01'", "'year'", True),  # 2015: may be after 1 October
        ("NULL", "NULL", True),  # not recorded: may be any day
        ("DATE '2015-09-01'", "'month'", False),  # all of September is before the as-of date
    ],
)
def test_a_conviction_whose_start_may_follow_the_run_stops_the_release(
    world: World, start: str, precision: str, stopped: bool
) -> None:
    """A conviction recorded with a partial or unrecorded start may have begun after the
    run's as-of date; its first possible day alone would let the release through."""
    roster_id = _approved(world)
    world.change(
        "convictions",
        "INSERT INTO convictions (conviction_id, person_id, offence_code, offence_date, "
        "sentence_kind, term_months, start_date, start_precision, aggregate_id) VALUES "
        f"('C-vague', 'P07', 'T1', NULL, 'term', 12, {start}, {precision}, NULL)",
        key="C-vague",
    )
    readiness = check_roster(Database.of(world.url), roster_id, IN_WINDOW)
    texts = [s.text for s in readiness.blocked.get("P07", [])]
    assert any("C-vague" in t and "may be after" in t for t in texts) is stopped, texts
