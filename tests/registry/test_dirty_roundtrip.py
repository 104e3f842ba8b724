"""Generator and importer agree: every fault ``--dirty`` injects is reported by the
import at the same table, row and column, under the rule of its class; the import
is refused and changes nothing; ``--skip-invalid`` imports exactly the rest."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from registry_state import assert_refused_leaving_registry_as_it_was, duckdb_state

from amnesty.cli import run
from amnesty.registry.dirty import FAULT_CLASSES
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry

PERSONS = 1000
RATE = 0.02

# The rule (its name, the start of the rejection's text) each fault class breaks.
RULE_OF_CLASS = {
    "missing_required": "not_null:",
    "not_in_vocabulary": "vocabulary:",
    "below_minimum": "min_value:",
    "dangling_reference": "foreign_key:",
    "unknown_offence_code": "unknown_offence:",
    "duplicate_key": "primary_key:",
    "offence_after_start": "check offence_before_start:",
    "precision_without_date": "check precision_with_date:",
    "invalid_validity_range": "check valid_range:",
    "repealed_code_used": "offence_in_force:",
    "birth_after_admission": "birth_after_first_event:",
}


def test_every_fault_class_has_its_rule() -> None:
    assert set(RULE_OF_CLASS) == set(FAULT_CLASSES)


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(("profile", "seed"), [("kp-2015", 5), ("ru-2015", 7)])
def test_dirty_registry_roundtrip(
    tmp_path: Path, profile: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = tmp_path / "clean"
    dirty = tmp_path / "dirty"
    generate(profile, PERSONS, seed, clean)
    generate(profile, PERSONS, seed, dirty, dirty_rate=RATE)
    faults: list[dict[str, Any]] = json.loads((dirty / "dirty_manifest.json").read_text())["faults"]
    assert {f["fault"] for f in faults} == set(FAULT_CLASSES)

    # A database that already holds the clean registry.
    db = tmp_path / "reg.duckdb"
    assert import_registry(str(db), clean).status == "imported"
    before = duckdb_state(db)
    assert before["registry_snapshots"]

    # The dirty import is refused with exit 1 and touches nothing.
    rejects = tmp_path / "rejects.csv"
    argv = ["registry", "import", str(dirty), "--db", str(db), "--rejects", str(rejects)]
    assert run(argv) == 1
    assert "Error: " in capsys.readouterr().err
    assert_refused_leaving_registry_as_it_was(str(db), before)

    # Every fault is among the rejections: same table, row, column; its class's rule.
    found: dict[tuple[str, int, str], list[str]] = {}
    for r in _rejects(rejects):
        found.setdefault((r["table"], int(r["row"]), r["column"]), []).append(r["rule"])
    missing = []
    for f in faults:
        rules = found.get((f["table"], f["row"], f["column"]), [])
        if not any(rule.startswith(RULE_OF_CLASS[f["fault"]]) for rule in rules):
            missing.append((f, rules))
    assert not missing, missing

    # --skip-invalid imports the rest: total - rejected - dependants, per table.
    skip_rejects = tmp_path / "skip.csv"
    report = import_registry(str(db), dirty, skip_invalid=True, rejects_path=skip_rejects)
    assert report.status == "imported"
    assert report.rejects_path == skip_rejects
    listed = _rejects(skip_rejects)
    assert len(listed) == len(report.rejections)
    direct = {(r.table, r.row) for r in report.rejections if not r.rule.startswith("depends_on")}
    dependants = {(r.table, r.row) for r in report.rejections if r.rule.startswith("depends_on")}
    assert dependants.isdisjoint(direct)
    assert {(f["table"], f["row"]) for f in faults} <= direct
    totals = json.loads((dirty / "manifest.json").read_text())["tables"]
    dropped = Counter(t for t, _ in direct | dependants)
    for table, total in totals.items():
        assert report.row_counts[table] == total - dropped[table], table
    after = duckdb_state(db)
    for table, n in report.row_counts.items():
        assert len(after[table]) == n, table
