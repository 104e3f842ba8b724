"""A whole roster at once: undertakings from a file, roster check, release in batches.

The crowd of :func:`casework_world.build_world` (persons at F3, each needing the
pledge) makes a roster big enough for several batches. Kills are real SIGKILLs
of a child process (``batch_child.py``) at random moments or at fault points.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from casework_world import IN_WINDOW, World, build_world, check_releases_whole, crowd_ids

from amnesty.audit.verify import verify
from amnesty.errors import IllegalTransition, ImportRejected
from amnesty.store.database import Database
from amnesty.store.engine import dispose_engine
from amnesty.workflow.batches import check_roster, execute_roster
from amnesty.workflow.casework_files import import_review_decisions, import_undertakings
from amnesty.workflow.rosters import approve_roster, prepare_roster

HERE = Path(__file__).parent
HEADER = "person_id,undertaking_id,status,signed_on,witness\n"


def _crowd_roster(url: str, crowd: int) -> tuple[World, Database, int]:
    world = build_world(url, crowd=crowd)
    db = Database.of(world.url)
    roster = prepare_roster(db, "off3", world.run_id, "F3")
    approve_roster(db, "appr1", roster.roster_id)
    return world, db, roster.roster_id


def _pledges(folder: Path, people: list[str], name: str = "pledges.csv") -> Path:
    path = folder / name
    lines = [f"{p},pledge,signed,{IN_WINDOW},Pak Chol\n" for p in people]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _xlsx(path: Path, rows: list[list[str]]) -> Path:
    """A minimal Excel workbook (one sheet of inline strings), as spreadsheets save it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    kinds = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    cells = "".join(
        f'<row r="{i}">'
        + "".join(
            f'<c r="{chr(65 + j)}{i}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            for j, v in enumerate(row)
        )
        + "</row>"
        for i, row in enumerate(rows, start=1)
    )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{kinds}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{kinds}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" '
            f'Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{office}"><sheets>'
            '<sheet name="Pledges" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" '
            f'Type="{office}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{cells}</sheetData></worksheet>'
        ),
    }
    with zipfile.ZipFile(path, "w") as book:
        for name, text in parts.items():
            book.writestr(name, text)
    return path


def _count(world: World, table: str) -> int:
    return int(world.sql(f"SELECT count(*) FROM {table}")[0][0])


def test_a_bad_undertakings_file_is_refused_with_its_rows_named(
    backend_url: str, tmp_path: Path
) -> None:
    world, db, roster_id = _crowd_roster(backend_url, 4)
    b1, b2, b3, _b4 = crowd_ids(4)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + f"{b1},pledge,signed,2015-10-08,Pak\n"  # row 2: fine
        + "NOBODY,pledge,signed,2015-10-08,Pak\n"  # row 3: unknown person
        + "P02,pledge,signed,2015-10-08,Pak\n"  # row 4: on no F3 roster
        + f"{b2},pledge,signed,2016-01-01,Pak\n"  # row 5: after the window
        + f"{b1},pledge,refused,,\n"  # row 6: duplicates row 2
        + f"{b3},pledge,signed,2015-10-08,\n",  # row 7: no witness
        encoding="utf-8",
    )
    events_before = _count(world, "audit_events")
    with pytest.raises(ImportRejected) as refused:
        import_undertakings(db, "off3", roster_id, bad)
    message = str(refused.value)
    assert "5 row(s) refused, nothing recorded" in message
    assert "bad.csv row 3 column person_id: value 'NOBODY': unknown person" in message
    assert "bad.csv row 4 column person_id: value 'P02': person is not on this roster" in message
    assert "bad.csv row 5 column signed_on: value '2016-01-01': date outside the window" in message
    assert "bad.csv row 6 column person_id" in message and "as row 2" in message
    assert "bad.csv row 7 column witness" in message
    assert _count(world, "undertaking_records") == 0
    assert _count(world, "audit_events") == events_before


def test_undertakings_from_an_excel_workbook(duck_url: str, tmp_path: Path) -> None:
    world, db, roster_id = _crowd_roster(duck_url, 3)
    b1, b2, _b3 = crowd_ids(3)
    header = ["person_id", "undertaking_id", "status", "signed_on", "witness"]
    bad = _xlsx(tmp_path / "bad.xlsx", [header, [b1, "pledge", "signed", "2015-10-08", ""]])
    with pytest.raises(ImportRejected, match=r"bad\.xlsx row 2 column witness"):
        import_undertakings(db, "off3", roster_id, bad)
    good = _xlsx(
        tmp_path / "pledges.xlsx",
        [header, [b1, "pledge", "signed", "2015-10-08", "Pak"], [b2, "pledge", "refused", "", ""]],
    )
    assert import_undertakings(db, "off3", roster_id, good).records == 2
    rows = world.sql("SELECT person_id, status FROM undertaking_records ORDER BY person_id")
    assert [tuple(r) for r in rows] == [(b1, "signed"), (b2, "refused")]


def test_a_bad_header_is_refused_before_any_row(backend_url: str, tmp_path: Path) -> None:
    world, db, roster_id = _crowd_roster(backend_url, 2)
    bad = tmp_path / "header.csv"
    bad.write_text("person,undertaking_id,status\nB000001,pledge,signed\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="row 1 column person: unknown column"):
        import_undertakings(db, "off3", roster_id, bad)
    assert _count(world, "undertaking_records") == 0


def test_roster_check_then_batches_release_the_ready_and_refuse_when_none_is(
    backend_url: str, tmp_path: Path
) -> None:
    world, db, roster_id = _crowd_roster(backend_url, 25)
    people = crowd_ids(25)
    # a pardon is history, not a custody status (the engine's view): it blocks nobody
    world.change(
        "events",
        "INSERT INTO events (event_id, person_id, event_type, event_date, decree_id) "
        "VALUES ('PARDON-1', :p, 'pardon', DATE '2015-10-05', 'KP-2012-AMNESTY')",
        key="PARDON-1",
        p=people[0],
    )
    with pytest.raises(IllegalTransition, match=r"nobody on roster .* is ready.*25 undertaking"):
        execute_roster(db, "off3", roster_id, release_date=IN_WINDOW)
    assert _count(world, "releases") == 0
    applied = import_undertakings(db, "off3", roster_id, _pledges(tmp_path, people[:20]))
    assert applied.records == 20
    readiness = check_roster(db, roster_id, IN_WINDOW)
    assert (len(readiness.ready), len(readiness.blocked)) == (20, 5)
    assert readiness.by_reason == [("undertaking pledge not recorded", 5)]
    seen: list[tuple[int, int]] = []
    report = execute_roster(
        db, "off3", roster_id, release_date=IN_WINDOW, batch_size=6,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert sorted(report.released) == people[:20]
    assert sorted(report.waiting) == people[20:]
    assert seen == [(6, 20), (12, 20), (18, 20), (20, 20)]
    check_releases_whole(world)
    assert verify(world.url).ok
    with pytest.raises(IllegalTransition, match="nobody on roster"):
        execute_roster(db, "off3", roster_id, release_date=IN_WINDOW)
    assert _count(world, "releases") == 20


def test_review_decisions_from_a_file(backend_url: str, tmp_path: Path) -> None:
    world, db, _roster = _crowd_roster(backend_url, 1)
    bad = tmp_path / "decisions.csv"
    bad.write_text(
        "person_id,outcome,reason\nP03,maybe,looked\nP02,eligible,fine\n", encoding="utf-8"
    )
    with pytest.raises(ImportRejected) as refused:
        import_review_decisions(db, "rev1", world.run_id, bad)
    assert "row 2 column outcome" in str(refused.value)
    assert "row 3 column person_id: value 'P02': not a review case" in str(refused.value)
    good = tmp_path / "good.csv"
    good.write_text("person_id,outcome,reason\nP03,eligible,doctor's report\n", encoding="utf-8")
    assert import_review_decisions(db, "rev1", world.run_id, good).records == 1
    rows = world.sql("SELECT person_id, outcome, version FROM review_decisions")
    assert [tuple(r) for r in rows] == [("P03", "eligible", 1)]


def _child(
    world: World, roster_id: int, batch: int, fault: str | None = None
) -> subprocess.Popen[str]:
    dispose_engine(world.url)  # on DuckDB the child needs the file lock
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    env.pop("AMNESTY_FAULT", None)
    if fault:
        env["AMNESTY_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, str(HERE / "batch_child.py"), world.url.target, str(roster_id),
         str(batch), "off3"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


# The fault tests' roster: 300 persons in batches of 40 by default, so that a run of the
# suite stays short; AMNESTY_FAULT_CROWD=10000 AMNESTY_FAULT_BATCH=1000 runs them at the
# bench's national scale.
CROWD = int(os.environ.get("AMNESTY_FAULT_CROWD", "300"))
BATCH = int(os.environ.get("AMNESTY_FAULT_BATCH", "40"))


def _signed_crowd(url: str, tmp_path: Path) -> tuple[World, int]:
    world, db, roster_id = _crowd_roster(url, CROWD)
    import_undertakings(db, "off3", roster_id, _pledges(tmp_path, crowd_ids(CROWD)))
    db.close()
    return world, roster_id


def _finish_and_verify(world: World, roster_id: int) -> None:
    """A last, unkilled run releases everyone left; each person once, all whole."""
    done = _child(world, roster_id, BATCH)
    _out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert sorted(check_releases_whole(world)) == crowd_ids(CROWD)
    assert verify(world.url).ok


@pytest.mark.slow
def test_kill_inside_a_batch_loses_that_batch_whole(backend_url: str, tmp_path: Path) -> None:
    world, roster_id = _signed_crowd(backend_url, tmp_path)
    child = _child(world, roster_id, BATCH, "after_release_insert:3")
    child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL
    # batches 1 and 2 committed, the third lost whole
    assert len(check_releases_whole(world)) == min(2 * BATCH, CROWD)
    _finish_and_verify(world, roster_id)


@pytest.mark.slow
def test_kill_at_random_moments_of_a_batch_then_resume(backend_url: str, tmp_path: Path) -> None:
    world, roster_id = _signed_crowd(backend_url, tmp_path)
    rng = random.Random(8)
    for _ in range(3):
        child = _child(world, roster_id, BATCH)
        # moments spread over the run: a few seconds at 300 persons, up to 40 s at 10,000
        time.sleep(rng.uniform(1.0, 4.0) * max(1.0, CROWD / 1000))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        check_releases_whole(world)
    _finish_and_verify(world, roster_id)


@pytest.mark.slow
def test_two_processes_on_one_roster_release_each_person_once(
    backend_url: str, tmp_path: Path
) -> None:
    world, roster_id = _signed_crowd(backend_url, tmp_path)
    first, second = _child(world, roster_id, BATCH), _child(world, roster_id, BATCH)
    results = [p.communicate(timeout=300) for p in (first, second)]
    codes = [first.returncode, second.returncode]
    for code, (_out, err) in zip(codes, results, strict=True):
        # DuckDB lets one process write; the other is told the database is busy
        assert code == 0 or "database busy" in err, err
    assert 0 in codes
    assert sorted(check_releases_whole(world)) == crowd_ids(CROWD)
    assert verify(world.url).ok


def test_an_unknown_facility_is_refused(duck_url: str) -> None:
    world = build_world(duck_url)
    with pytest.raises(IllegalTransition, match="unknown facility 'F9'"):
        prepare_roster(Database.of(world.url), "appr1", world.run_id, "F9")
    assert _count(world, "rosters") == 0
