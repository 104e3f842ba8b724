"""A facility's roster from the command line: check, a file of pledges, the batch, PDFs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import IN_WINDOW, build_world, crowd_ids

from amnesty.cli import run
from amnesty.store.database import Database
from amnesty.workflow.rosters import approve_roster, prepare_roster


def test_a_roster_from_check_to_certificates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(str(tmp_path / "amnesty.duckdb"), crowd=12)
    db = Database.of(world.url)
    roster = prepare_roster(db, "off3", world.run_id, "F3").roster_id
    approve_roster(db, "appr1", roster)
    target = ["--db", world.url.target]
    day = str(IN_WINDOW)

    assert run(["release", "execute", "--roster", str(roster), "--date", day, "--as", "off3",
                *target]) == 1  # fmt: skip
    assert "nobody on roster" in capsys.readouterr().err

    pledges = tmp_path / "pledges.csv"
    pledges.write_text(
        "person_id,undertaking_id,status,signed_on,witness\n"
        + "".join(f"{p},pledge,signed,{day},Pak\n" for p in crowd_ids(10)),
        encoding="utf-8",
    )
    assert run(["release", "import-undertakings", str(pledges), "--roster", str(roster),
                "--as", "off3", *target]) == 0  # fmt: skip
    assert "10 undertaking(s) recorded" in capsys.readouterr().out

    assert run(["roster", "check", str(roster), "--date", day, *target]) == 0
    out = capsys.readouterr().out
    assert "12 persons, 10 ready, 0 already released, 2 blocked" in out
    assert "undertaking pledge not recorded" in out and "2" in out

    assert run(["release", "execute", "--roster", str(roster), "--date", day, "--as", "off3",
                "--batch-size", "4", *target]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "10 released, 0 already, 0 stopped by the re-check, 2 not ready" in out

    assert run(["roster", "show", str(roster), "--format", "csv", *target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "person_id,name,name_romanised,relief,undertakings,certificate_no"
    assert lines[1].startswith("B000001,군중,Crowd B000001,release,pledge signed,kp-2015-10/")
    assert lines[-1] == "B000012,군중,Crowd B000012,release,pledge not recorded,"

    out_dir = tmp_path / "certs"
    assert run(["certificate", "--roster", str(roster), "--out", str(out_dir), "--as", "off3",
                *target]) == 0  # fmt: skip
    printed = capsys.readouterr().out.split()
    assert [Path(p).name for p in printed] == ["kp-2015-10-F3-roster-1.pdf"]
    assert run(["audit", "verify", *target]) == 0


def test_a_roster_takes_no_new_end_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # refused before anything is opened: the database file is never created
    target = tmp_path / "amnesty.duckdb"
    code = run(["release", "execute", "--roster", "1", "--date", str(IN_WINDOW),
                "--new-end-date", "2016-06-16", "--db", str(target)])  # fmt: skip
    assert code != 0
    assert "--new-end-date is for one person" in capsys.readouterr().err
    assert not target.exists()
