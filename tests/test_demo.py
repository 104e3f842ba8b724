"""``amnesty demo``'s library half, small: both rounds release people, round 2 leaves
out whom round 1 released, certificates are printed and the audit chain verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from amnesty.audit.verify import verify
from amnesty.demo import DemoReport, run_demo


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoReport]:
    workdir = tmp_path_factory.mktemp("demo")
    said: list[str] = []
    yield run_demo(workdir, persons=2000, say=said.append)
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    dispose_engine(str(workdir / "amnesty.duckdb"))
    forget_migrated(str(workdir / "amnesty.duckdb"))


def test_both_rounds_release_people(report: DemoReport) -> None:
    first, second = report.runs
    assert first.decree.id == "kp-2015-08-liberation"
    assert second.decree.id == "kp-2015-10-party-founding"
    assert report.released[first.run.run_id] > 0
    assert report.released[second.run.run_id] > 0


def test_round_two_leaves_out_exactly_whom_round_one_released(report: DemoReport) -> None:
    first, second = report.runs
    left_out = second.evaluation.left_out.by_decree
    assert left_out.get(first.decree.id, 0) == report.released[first.run.run_id]
    decided = set(second.evaluation.determinations["person_id"].to_pylist())
    released_in_august = _released_persons(report, first.run.run_id)
    assert released_in_august and not released_in_august & decided


def test_certificates_are_written(report: DemoReport) -> None:
    assert report.certificates
    for pdf in report.certificates:
        assert pdf.is_file()
        assert pdf.read_bytes()[:5] == b"%PDF-"
        assert pdf.parent == Path(report.workdir) / "certificates"


def test_the_audit_chain_verifies(report: DemoReport) -> None:
    result = verify(report.db)
    assert result.ok, result.problems[:3]
    assert result.events == report.audit_events > 0
    assert result.releases == sum(report.released.values())
    assert result.runs == 2


def _released_persons(report: DemoReport, run_id: str) -> set[str]:
    import sqlalchemy as sa

    from amnesty.store.engine import get_engine
    from amnesty.store.tables import releases

    query = sa.select(releases.c.person_id).where(releases.c.run_id == run_id)
    with get_engine(report.db).connect() as connection:
        return {str(p) for p in connection.execute(query).scalars()}


def test_the_try_next_lines_run_as_printed(
    report: DemoReport, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    from amnesty.cli import run
    from amnesty.demo import try_next

    for line in try_next(report):
        words = shlex.split(line)
        assert words[0] == "amnesty"
        assert run(words[1:]) == 0, f"{line}: {capsys.readouterr().err}"


def test_demo_users_log_in_with_their_own_passwords(
    report: DemoReport, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed login line works with the password the demo wrote (0600) and no other."""
    import shlex
    import stat

    from amnesty.cli import run
    from amnesty.demo import login_line

    assert report.passwords is not None
    assert stat.S_IMODE(report.passwords.stat().st_mode) == 0o600
    passwords = dict(
        line.split("\t") for line in report.passwords.read_text(encoding="utf-8").splitlines()
    )
    assert {"admin", "drafter", "approver-pak", "officer-kaechon"} <= passwords.keys()
    assert len(set(passwords.values())) == len(passwords)  # each a password of its own
    words = shlex.split(login_line(report))
    monkeypatch.setenv("AMNESTY_PASSWORD", passwords["drafter"])  # someone else's
    assert run(words[1:]) == 1
    assert "wrong password for 'approver-pak'" in capsys.readouterr().err
    monkeypatch.setenv("AMNESTY_PASSWORD", passwords["approver-pak"])
    assert run(words[1:]) == 0, capsys.readouterr().err
