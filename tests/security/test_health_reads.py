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

from acting import TEST_PASSWORD
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.compile.sql import profile_for
from amnesty.decree import load
from amnesty.decree.facts import sensitive_facts
from amnesty.registry.profiles import get_profile
from amnesty.server.api.common import health_clauses
from amnesty.store.database import Database
from amnesty.store.engine import dispose_engine, get_engine
from amnesty.workflow.evaluate import evaluate_and_record
from amnesty.workflow.users import add_user

pytestmark = pytest.mark.slow  # one casework world per database


@pytest.fixture
def world(backend_url: str) -> World:
    built = build_world(backend_url)
    dispose_engine(built.url)
    return built


def _last(url: object) -> tuple[str, str, str, str, str | None]:
    with get_engine(url).connect() as conn:  # type: ignore[arg-type]
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
    before = _last(world.url)
    assert _explain(world) == 0  # no credential: nothing read, nothing logged
    captured = capsys.readouterr()
    assert "health.severity: (withheld: health facts need a reviewer" in captured.out
    assert "severe" not in captured.out
    assert _last(world.url) == before

    assert _explain(world, "--as", "drafter") == 0
    captured = capsys.readouterr()
    assert "user 'drafter' lacks the role reviewer or approver or facility_officer or auditor" in (
        captured.err
    )
    assert "severe" not in captured.out and "(withheld" in captured.out
    assert _last(world.url)[:4] == ("drafter", "health.read", "P03", "refused")

    assert _explain(world, "--as", "off2") == 0  # F2's officer; P03 is held at F1
    captured = capsys.readouterr()
    assert "acts for F2, not for facility F1" in captured.err and "severe" not in captured.out

    assert _explain(world, "--as", "rev1") == 0
    assert "health.severity: severe" in capsys.readouterr().out
    actor, action, entity, outcome, after = _last(world.url)
    assert (actor, action, entity, outcome) == ("rev1", "health.read", "P03", "ok")
    assert after is not None and '"health.severity"' in after and "severe" not in after

    assert _explain(world, "--as", "off1", "--run", world.run_id, "--format", "json") == 0
    assert '"health.severity": "severe"' in capsys.readouterr().out
    assert _last(world.url)[:4] == ("off1", "health.read", "P03", "ok")
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
        actor, action, entity, outcome, _after = _last(world.url)
        assert (actor, action, entity, outcome) == (who, "health.read", world.decree.id, "refused")
    assert run([*args, "--as", "drafter"]) == 0  # the counts need no role
    capsys.readouterr()
    assert run([*args, "--as", "rev1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert "r-health" in out.read_text(encoding="utf-8")
    actor, action, entity, outcome, after = _last(world.url)
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


# A profile's attributes marked ``sensitive`` are gated and logged like health facts:
# ru-2015 marks pregnancy, disability group, tuberculosis and cancer stage sensitive,
# and its ground RU-G2 reads them (and no ``health.*`` fact).
DECREE = Path(__file__).resolve().parents[2] / "decrees" / "ru-2015-victory.toml"


def test_the_profile_names_its_sensitive_facts() -> None:
    facts = sensitive_facts(get_profile("ru-2015"))
    assert {"person.pregnant", "person.disability_group", "person.tuberculosis"} <= facts
    assert "health.severity" in facts and "person.age" not in facts
    assert sensitive_facts(profile_for(load(DECREE))) == facts


def test_explain_withholds_sensitive_attributes_and_logs_their_read(
    backend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = tmp_path / "registry"
    generated = ["registry", "generate", "--profile", "ru-2015", "--persons", "200"]
    assert run([*generated, "--seed", "7", "--out", str(registry)]) == 0
    assert run(["registry", "import", str(registry), "--db", backend_url]) == 0
    db = Database.open(backend_url)
    add_user(db, "admin", ["admin"], password=TEST_PASSWORD)
    add_user(db, "drafter", ["drafter"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "rev1", ["reviewer"], actor="admin", password=TEST_PASSWORD)
    recorded = evaluate_and_record(db, DECREE, actor="drafter")
    person = str(recorded.evaluation.determinations.to_pylist()[0]["person_id"])
    capsys.readouterr()

    explain = ["explain", str(DECREE), person, "--db", backend_url, "--format", "json"]
    assert run([*explain, "--as", "drafter"]) == 0
    captured = capsys.readouterr()
    assert '"person.tuberculosis": "(withheld: health facts need a reviewer' in captured.out
    assert '"person.age": ' in captured.out and '"person.age": "(withheld' not in captured.out
    assert _last(backend_url)[:4] == ("drafter", "health.read", person, "refused")

    assert run([*explain, "--as", "rev1"]) == 0
    shown = capsys.readouterr().out
    assert '"person.tuberculosis": ' in shown and "(withheld" not in shown
    actor, action, entity, outcome, after = _last(backend_url)
    assert (actor, action, entity, outcome) == ("rev1", "health.read", person, "ok")
    assert after is not None and '"person.tuberculosis"' in after

    # The server redacts the ground that reads them in lists for those who may not read it.
    assert "RU-G2" in health_clauses(db, recorded.run.run_id)
    assert "RU-G3" not in health_clauses(db, recorded.run.run_id)

    # A whole-registry export decided by that ground needs a health reader too.
    out = tmp_path / "all.parquet"
    evaluate = ["evaluate", str(DECREE), "--db", backend_url, "--out", str(out)]
    assert run([*evaluate, "--as", "drafter"]) == 1
    assert "lacks the role reviewer" in capsys.readouterr().err and not out.exists()
