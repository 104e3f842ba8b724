"""Health facts are shown only to roles that need them, and every read is logged (#9).

Before, ``amnesty explain`` printed a person's health assessment to anyone who
could open the database, and nothing recorded that it had been read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import World, build_world

from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import dispose_engine, get_engine

pytestmark = pytest.mark.slow  # one casework world per database


@pytest.fixture
def world(backend_url: str) -> World:
    built = build_world(backend_url)
    dispose_engine(built.url)
    return built


def _last(world: World) -> tuple[str, str, str, str, str | None]:
    with get_engine(world.url).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT actor, action, entity_id, outcome, after FROM audit_events "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    return (row[0], row[1], row[2], row[3], row[4])


def _explain(world: World, *extra: str) -> int:
    return run(["explain", str(world.decree_path), "P03", "--db", world.url.target, *extra])


def test_explain_shows_health_facts_only_to_a_reader_role_and_logs_the_read(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _last(world)
    assert _explain(world) == 0  # no credential: nothing read, nothing logged
    captured = capsys.readouterr()
    assert "health.severity: (withheld: health facts need a reviewer" in captured.out
    assert "severe" not in captured.out
    assert _last(world) == before

    assert _explain(world, "--as", "drafter") == 0
    captured = capsys.readouterr()
    assert "user 'drafter' lacks the role reviewer or approver or facility_officer or auditor" in (
        captured.err
    )
    assert "severe" not in captured.out and "(withheld" in captured.out
    assert _last(world)[:4] == ("drafter", "health.read", "P03", "refused")

    assert _explain(world, "--as", "off2") == 0  # F2's officer; P03 is held at F1
    captured = capsys.readouterr()
    assert "acts for F2, not for facility F1" in captured.err and "severe" not in captured.out

    assert _explain(world, "--as", "rev1") == 0
    assert "health.severity: severe" in capsys.readouterr().out
    actor, action, entity, outcome, after = _last(world)
    assert (actor, action, entity, outcome) == ("rev1", "health.read", "P03", "ok")
    assert after is not None and '"health.severity"' in after and "severe" not in after

    assert _explain(world, "--as", "off1", "--run", world.run_id, "--format", "json") == 0
    assert '"health.severity": "severe"' in capsys.readouterr().out
    assert _last(world)[:4] == ("off1", "health.read", "P03", "ok")
    assert verify(world.url).ok


def _runs(world: World) -> int:
    with get_engine(world.url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one())


def test_evaluate_out_with_health_clauses_needs_a_health_reader_and_is_logged(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The decree refers the seriously ill to review (``r-health``): a row of its --out
    that names that clause says the person is seriously ill. Counts alone say nothing."""
    args = ["evaluate", str(world.decree_path), "--db", world.url.target]
    out = tmp_path / "determinations.csv"
    before = _runs(world)
    for who in ("drafter", "off1"):  # no health role; an officer of F1 only
        assert run([*args, "--as", who, "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("Error:") and who in err, err
        assert not out.exists()
        assert _runs(world) == before  # refused before anything was evaluated
        actor, action, entity, outcome, _after = _last(world)
        assert (actor, action, entity, outcome) == (who, "health.read", world.decree.id, "refused")
    assert run([*args, "--as", "drafter"]) == 0  # the counts need no role
    capsys.readouterr()
    assert run([*args, "--as", "rev1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert "r-health" in out.read_text(encoding="utf-8")
    actor, action, entity, outcome, after = _last(world)
    assert (actor, action, entity, outcome) == ("rev1", "health.read", world.decree.id, "ok")
    assert after is not None and '"clauses":["r-health"]' in after.replace(" ", "")
    assert verify(world.url).problems == []
    # a decree that reads no health fact: its --out is not gated
    plain = tmp_path / "plain.toml"
    text = world.decree_path.read_text(encoding="utf-8")
    start = text.index('[[clause]]\nid = "r-health"')
    text = text[:start] + text[text.index("[[undertaking]]") :]
    plain.write_text(text.replace('id = "kp-2015-10"', 'id = "kp-2015-10p"', 1), encoding="utf-8")
    other = tmp_path / "plain.csv"
    assert run(["evaluate", str(plain), "--db", world.url.target, "--as", "drafter",
                "--out", str(other)]) == 0  # fmt: skip
    assert other.exists()
