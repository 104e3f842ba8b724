"""``amnesty registry show``: counts by table, facility type and authority, province."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from import_fixtures import registry, write

from amnesty.cli import run
from amnesty.registry.importer import import_registry
from amnesty.registry.show import registry_summary


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "show.duckdb"
    import_registry(str(path), write(registry(), tmp_path / "src"))
    return path


def test_json_document(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["registry", "show", "--db", str(db), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"snapshot", "tables", "by_facility", "by_province"}
    assert doc["snapshot"]["profile"] == "kp-2015"
    assert len(doc["snapshot"]["content_hash"]) == 64
    assert {"table": "persons", "rows": 4} in doc["tables"]
    assert doc["by_facility"] == [
        {
            "facility_type": "labour_training_centre",
            "authority": "MPS",
            "facilities": 1,
            "persons": 1,
        },
        {"facility_type": "penitentiary", "authority": "MPS", "facilities": 1, "persons": 2},
        {
            "facility_type": "political_prison_camp",
            "authority": "MSS",
            "facilities": 1,
            "persons": 1,
        },
    ]
    # F1 lies in county C1 under province P1, F2 in P1 itself, F3 in the special city.
    assert doc["by_province"] == [
        {"province_id": "P1", "province": "Name P1", "level": "province", "persons": 3},
        {"province_id": "SC", "province": "Name SC", "level": "special_city", "persons": 1},
    ]


def test_table_output(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["registry", "show", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Persons held by province" in out
    assert "political_prison_camp" in out
    assert registry_summary(str(db))["snapshot"]["content_hash"] in out


def test_show_before_any_import_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["registry", "show", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "Error: --db" in capsys.readouterr().err


def test_only_persons_in_custody_are_counted(tmp_path: Path) -> None:
    """P001 released and P002 dead: counted in the persons table, not as held anywhere."""
    data = registry()
    data["events"] += [
        {**data["events"][0], "event_id": "E9", "event_type": "release",
         "event_date": dt.date(2015, 1, 1)},
        {**data["events"][1], "event_id": "E8", "event_type": "death",
         "event_date": dt.date(2015, 2, 1)},
        # a pardon is history, not custody: P003 is still held
        {**data["events"][2], "event_id": "E7", "event_type": "pardon",
         "event_date": dt.date(2015, 3, 1)},
    ]  # fmt: skip
    path = tmp_path / "held.duckdb"
    import_registry(str(path), write(data, tmp_path / "src"))
    doc = registry_summary(str(path))
    assert {"table": "persons", "rows": 4} in doc["tables"]
    assert sum(r["persons"] for r in doc["by_facility"]) == 2
    assert sum(r["persons"] for r in doc["by_province"]) == 2


def test_registry_show_csv_is_one_table_per_table_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io
    import json

    from amnesty.cli import run
    from amnesty.registry.generate import generate
    from amnesty.registry.importer import import_registry

    generate("kp-2015", 120, 2, tmp_path / "reg")
    db = str(tmp_path / "a.duckdb")
    import_registry(db, tmp_path / "reg")
    capsys.readouterr()
    assert run(["registry", "show", "--db", db, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert run(["registry", "show", "--db", db, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [{"table": t["table"], "rows": str(t["rows"])} for t in doc["tables"]]
    assert run(["registry", "show", "--db", db, "--format", "csv", "--table", "snapshot"]) == 0
    (snap,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert snap["content_hash"] == doc["snapshot"]["content_hash"]
    assert run(["registry", "show", "--db", db, "--format", "csv", "--table", "by_province"]) == 0
    provinces = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(provinces) == len(doc["by_province"]) and provinces
    assert run(["registry", "show", "--db", db, "--table", "nonsense"]) == 2
