"""``amnesty explain DECREE PERSON_ID --run RUN``: today's explanation beside the run's.

On both databases: a person the run decided is explained on the run's as-of date;
the stored determination and today's are shown side by side with whether they
agree, and when the registry changed since the run, which field differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from casework_world import World, build_world, decree_text

from amnesty.cli import run as cli_run
from amnesty.store.engine import dispose_engine


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url)


def _explain(world: World, person: str, *extra: str, decree: Path | None = None) -> int:
    """As a reviewer: the explanations show health facts, which need a reader's role."""
    path = str(decree or world.decree_path)
    return cli_run(["explain", path, person, "--db", world.url.target, "--as", "rev1", *extra])


def _json(world: World, person: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    assert _explain(world, person, "--run", world.run_id, "--format", "json") == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def test_explain_against_the_run_agrees(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert _explain(world, "P03", "--run", world.run_id) == 0
    out = capsys.readouterr().out
    assert "[refer] r-health = true  (S-KP1, source)" in out
    assert f"Run {world.run_id} (as of 2015-10-01) beside today's evaluation" in out
    assert f"Agrees with run {world.run_id}." in out
    assert "registry changed" not in out and "decree file differs" not in out
    doc = _json(world, "P03", capsys)
    assert doc["agrees"] is True and doc["differences"] == []
    assert doc["run_id"] == world.run_id and doc["as_of"] == "2015-10-01"
    stored = doc["stored"]
    assert isinstance(stored, dict) and stored["outcome"] == "review"
    assert stored["referred"] == ["r-health"]


def test_a_changed_registry_names_the_field_that_differs(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.change(
        "persons",
        "UPDATE persons SET custody_authority = 'MSS' WHERE person_id = 'P02'",
        key="P02",
    )
    doc = _json(world, "P02", capsys)
    assert doc["agrees"] is False and doc["registry_changed"] is True
    assert doc["decree_changed"] is False
    differences = doc["differences"]
    assert isinstance(differences, list)
    by_field = {d["field"]: d for d in differences}
    assert by_field["outcome"] == {"field": "outcome", "run": "eligible", "today": "ineligible"}
    assert by_field["blocking"]["today"] == ["x-political"]
    assert _explain(world, "P02", "--run", world.run_id, "--format", "text") == 0
    out = capsys.readouterr().out
    assert f"Differs from run {world.run_id} in outcome (run: eligible; today: ineligible)" in out
    assert "The registry changed since the run" in out


def test_a_changed_decree_file_is_said(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "kp-2015-10.toml"
    edited.write_text(decree_text() + "\n# a comment added after the run\n", encoding="utf-8")
    assert _explain(world, "P01", "--run", world.run_id, decree=edited) == 0
    out = capsys.readouterr().out
    assert "Agrees with run" in out
    assert "The decree file differs from the text the run evaluated" in out


def test_another_decree_or_a_missing_run_is_refused(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(decree_text("other-decree"), encoding="utf-8")
    assert _explain(world, "P01", "--run", world.run_id, decree=other) == 1
    err = capsys.readouterr().err
    assert "Error: " in err and "evaluated decree 'kp-2015-10'" in err
    assert _explain(world, "P01", "--run", "R-nope") == 1
    assert "no run 'R-nope'" in capsys.readouterr().err


def test_the_command_line_is_checked(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert _explain(world, "P01", "--run", world.run_id, "--as-of", "2015-10-02") == 2
    assert "--as-of and --run do not go together" in capsys.readouterr().err
    assert _explain(world, "P01", "--format", "xml") == 2  # csv is a format now (#8)


def test_the_scope_is_shown_as_the_decree_scope(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scoped = tmp_path / "scoped.toml"
    text = decree_text("scoped").replace(
        "\n[[clause]]", '\n[scope]\nfacility_types = ["penitentiary"]\n\n[[clause]]', 1
    )
    scoped.write_text(text, encoding="utf-8")
    dispose_engine(world.url)  # the command opens DuckDB read-only, as its own process would
    assert _explain(world, "P01", decree=scoped) == 0
    out = capsys.readouterr().out
    assert "[require] scope = true  (decree scope: facility.type)" in out
    assert "the facility type is one of penitentiary" in out
    assert "facility.type: penitentiary" in out
    assert "(, source)" not in out
    assert _explain(world, "P01", "--format", "json", decree=scoped) == 0
    clauses = json.loads(capsys.readouterr().out)["clauses"]
    scope = next(c for c in clauses if c["id"] == "scope")
    assert scope["citation"] == "decree scope" and scope["facts"] == {
        "facility.type": "penitentiary"
    }


def test_the_stored_decree_explains_as_its_file_does(world: World) -> None:
    """The server's path: no file on the caller's side, the decree text the store holds
    for the run's decree; the same explanation, and no 'decree changed'."""
    from amnesty.store.database import Database
    from amnesty.workflow.run_explanation import (
        explain_against_run,
        explain_under_stored_decree,
    )

    db = Database.open(world.url.target)
    by_file = explain_against_run(db, world.decree_path, world.run_id, "P03")
    stored = explain_under_stored_decree(db, world.run_id, "P03")
    assert stored.to_dict() == by_file.to_dict()
    assert stored.agrees and not stored.decree_changed
