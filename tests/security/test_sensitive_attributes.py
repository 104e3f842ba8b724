"""A profile's attributes marked ``sensitive`` are gated and logged like health facts (#10, #9).

ru-2015 marks pregnancy, disability group, tuberculosis and cancer stage
sensitive; its decree's ground RU-G2 reads them (and no ``health.*`` fact). Before,
only ``health.*`` facts were gated, so anyone who could open the database read a
person's tuberculosis in ``amnesty explain``, unlogged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.compile.sql import profile_for
from amnesty.decree import load
from amnesty.decree.facts import sensitive_facts
from amnesty.registry.profiles import get_profile
from amnesty.server.api.common import health_clauses
from amnesty.store.database import Database
from amnesty.store.engine import get_engine
from amnesty.workflow.evaluate import evaluate_and_record
from amnesty.workflow.users import add_user

pytestmark = pytest.mark.slow  # a generated registry per database

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "ru-2015-victory.toml"


def test_the_profile_names_its_sensitive_facts() -> None:
    facts = sensitive_facts(get_profile("ru-2015"))
    assert {"person.pregnant", "person.disability_group", "person.tuberculosis"} <= facts
    assert "health.severity" in facts and "person.age" not in facts
    assert sensitive_facts(profile_for(load(DECREE))) == facts


def _last(url: str) -> tuple[str, str, str, str, str | None]:
    with get_engine(url).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT actor, action, entity_id, outcome, after FROM audit_events "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    return (row[0], row[1], row[2], row[3], row[4])


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
