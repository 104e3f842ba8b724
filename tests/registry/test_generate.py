"""The synthetic registry generator: determinism, schema, integrity, shapes, faults."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from amnesty.cli import run
from amnesty.errors import ConfigError
from amnesty.registry.dirty import FAULT_CLASSES
from amnesty.registry.generate import generate
from amnesty.registry.generators.common import ARROW_TYPES
from amnesty.registry.profiles import get_profile

PERSONS = 2000


def _load(out: Path) -> dict[str, pa.Table]:
    return {p.stem: pq.read_table(p) for p in out.glob("*.parquet")}


@pytest.fixture(scope="module")
def kp(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    out = tmp_path_factory.mktemp("kp")
    generate("kp-2015", PERSONS, 7, out)
    return _load(out)


@pytest.fixture(scope="module")
def ru(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    out = tmp_path_factory.mktemp("ru")
    generate("ru-2015", PERSONS, 7, out)
    return _load(out)


def _bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.parametrize("profile", ["kp-2015", "ru-2015"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, profile: str) -> None:
    generate(profile, 500, 11, tmp_path / "a", dirty_rate=0.1)
    generate(profile, 500, 11, tmp_path / "b", dirty_rate=0.1)
    generate(profile, 500, 12, tmp_path / "c", dirty_rate=0.1)
    a, b, c = _bytes(tmp_path / "a"), _bytes(tmp_path / "b"), _bytes(tmp_path / "c")
    assert a == b
    assert a["persons.parquet"] != c["persons.parquet"]
    assert a["convictions.parquet"] != c["convictions.parquet"]


def test_manifest_lists_arguments_and_row_counts(tmp_path: Path) -> None:
    report = generate("kp-2015", 300, 5, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == {
        "profile": "kp-2015",
        "persons": 300,
        "seed": 5,
        "dirty_rate": 0.0,
        "tables": report.tables,
    }
    for name, rows in manifest["tables"].items():
        assert pq.read_metadata(tmp_path / f"{name}.parquet").num_rows == rows
    assert not (tmp_path / "dirty_manifest.json").exists()


@pytest.mark.parametrize("fixture", ["kp", "ru"])
def test_tables_follow_the_profile_schema(fixture: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(fixture)
    profile = get_profile({"kp": "kp-2015", "ru": "ru-2015"}[fixture])
    assert set(tables) == {t.name for t in profile.tables()}
    for table in profile.tables():
        got = tables[table.name].schema
        assert got.names == list(table.column_names)
        for col in table.columns:
            assert got.field(col.name).type == ARROW_TYPES[col.type], (table.name, col.name)
            values = tables[table.name].column(col.name)
            if not col.nullable:
                assert values.null_count == 0, (table.name, col.name)
            if col.values is not None:
                assert set(pc.unique(values).drop_null().to_pylist()) <= set(col.values)
            if col.min_value is not None and len(values.drop_null()):
                assert pc.min(values).as_py() >= col.min_value


@pytest.mark.parametrize("fixture", ["kp", "ru"])
def test_clean_output_has_unique_keys_and_resolving_references(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    tables = request.getfixturevalue(fixture)
    profile = get_profile({"kp": "kp-2015", "ru": "ru-2015"}[fixture])
    for table in profile.tables():
        keys = tables[table.name].column(table.key)
        assert len(pc.unique(keys)) == len(keys), table.name
        for col in table.columns:
            if col.references is None:
                continue
            target_table, target_col = col.references
            refs = pc.unique(tables[table.name].column(col.name)).drop_null()
            known = tables[target_table].column(target_col)
            assert pc.all(pc.is_in(refs, value_set=known)).as_py(), (table.name, col.name)


def _rows(tables: dict[str, pa.Table], name: str) -> list[dict[str, object]]:
    return tables[name].to_pylist()


def test_kp_2015_shape(kp: dict[str, pa.Table]) -> None:
    facilities = {f["facility_id"]: f for f in _rows(kp, "facilities")}
    types = [f["facility_type"] for f in facilities.values()]
    assert types.count("penitentiary") == 12
    assert {
        f["authority"] for f in facilities.values() if f["facility_type"] == "penitentiary"
    } == {"MPS"}
    camp = facilities["KP-CAMP-14"]
    assert camp["name"] == "개천 제14호 관리소"
    assert camp["name_romanised"] == "Kaechon internment camp No. 14"
    assert camp["facility_type"] == "political_prison_camp" and camp["authority"] == "MSS"
    levels = {d["level"] for d in _rows(kp, "divisions")}
    assert {"country", "province", "special_city", "city", "county"} <= levels

    persons = _rows(kp, "persons")
    offences = {o["offence_code"]: o for o in _rows(kp, "offences")}
    convictions = _rows(kp, "convictions")
    categories: dict[str, set[str]] = {}
    for c in convictions:
        categories.setdefault(c["person_id"], set()).add(offences[c["offence_code"]]["category"])
    at_14 = [p for p in persons if p["facility_id"] == "KP-CAMP-14"]
    assert any(
        p["custody_authority"] == "MSS" and "political" in categories.get(p["person_id"], set())
        for p in at_14
    )
    common = [p for p in at_14 if p["custody_authority"] == "MPS"]
    assert common and all("political" not in categories.get(p["person_id"], set()) for p in common)
    for p in persons:  # authority follows the facility, except No. 14's MPS minority
        camp_type = facilities[p["facility_id"]]["facility_type"] == "political_prison_camp"
        if p["facility_id"] != "KP-CAMP-14":
            assert p["custody_authority"] == ("MSS" if camp_type else "MPS")

    assert any(p["person_id"] not in categories for p in persons), "someone with no conviction"
    assert {p["birth_precision"] for p in persons} >= {"day", "month", "year", None}
    assert {p["citizenship"] for p in persons} >= {"PRK", "CHN"}
    repealed = {code for code, o in offences.items() if o["valid_to"] is not None}
    assert any(c["offence_code"] in repealed for c in convictions)
    assert {offences[c["offence_code"]]["category"] for c in convictions} >= {
        "theft",
        "violent_crime",
        "drug_trafficking",
        "political",
        "illegal_border_crossing",
        "economic",
        "other",
    }
    kinds = {c["sentence_kind"] for c in convictions}
    assert {"term", "life", "death"} <= kinds

    events = _rows(kp, "events")
    assert {e["country"] for e in events if e["event_type"] == "repatriation"} >= {"CHN", "VNM"}
    assert {e["event_type"] for e in events} >= {
        "admission",
        "transfer",
        "repatriation",
        "defection_attempt",
        "death",
        "pardon",
    }
    admitted = {e["person_id"] for e in events if e["event_type"] == "admission"}
    assert admitted == {p["person_id"] for p in persons}

    # Most are under sentence on both round dates; some sentences have already ended.
    def running(c: dict[str, object], on: dt.date) -> bool:
        if c["sentence_kind"] != "term":
            return True
        end = c["start_date"] + dt.timedelta(days=int(c["term_months"] * 30.44))  # type: ignore[operator]
        return c["start_date"] <= on < end  # type: ignore[operator]

    for on in (dt.date(2015, 8, 1), dt.date(2015, 10, 8)):
        held = {c["person_id"] for c in convictions if running(c, on)}
        assert len(held) > 0.85 * len(persons)
    assert any(not running(c, dt.date(2015, 10, 8)) for c in convictions)
    assert all(c["start_date"] < dt.date(2015, 10, 1) for c in convictions)


def test_ru_2015_shape(ru: dict[str, pa.Table]) -> None:
    facilities = {f["facility_id"]: f for f in _rows(ru, "facilities")}
    assert {f["facility_type"] for f in facilities.values()} == {
        "colony",
        "juvenile_colony",
        "pre_trial_detention",
        "probation_inspectorate",
    }
    assert {f["authority"] for f in facilities.values()} == {"FSIN"}
    names = {d["name"] for d in _rows(ru, "divisions")}
    assert {
        "Москва",
        "Чувашская Республика",
        "Республика Татарстан",
        "Кемеровская область",
    } <= names

    persons = _rows(ru, "persons")
    convictions = _rows(ru, "convictions")
    kinds = {c["sentence_kind"] for c in convictions}
    assert {"term", "suspended", "deferred", "non_custodial"} <= kinds
    convicted = {c["person_id"] for c in convictions}
    in_sizo = [
        p for p in persons if facilities[p["facility_id"]]["facility_type"] == "pre_trial_detention"
    ]
    assert any(p["person_id"] not in convicted for p in in_sizo), "pre-trial detainees"
    on_probation = {p["person_id"] for p in persons if p["facility_id"].endswith("-UII")}
    custodial_kinds = {
        c["sentence_kind"]
        for c in convictions
        if c["person_id"] in on_probation and c["start_date"] > dt.date(2011, 1, 1)
    }
    assert "non_custodial" in custodial_kinds
    as_of = dt.date(2015, 4, 24)
    ages = [(as_of - p["birth_date"]).days / 365.25 for p in persons if p["birth_date"]]
    assert any(14 <= a < 18 for a in ages) and any(a > 55 for a in ages)
    for attr in ("veteran", "pregnant", "tuberculosis", "regime_violator"):
        values = {p[attr] for p in persons}
        assert {True, False, None} <= values, attr
    assert {p["disability_group"] for p in persons} >= {0, 2, 3, None}
    offences = {o["offence_code"]: o for o in _rows(ru, "offences")}
    assert {o["gravity"] for o in offences.values()} == {
        "small",
        "medium",
        "grave",
        "especially_grave",
    }
    assert {o["category"] for o in offences.values()} >= {
        "murder",
        "violent_crime",
        "terrorism",
        "extremism",
        "kidnapping",
        "fraud",
        "bribery",
        "crime_against_minors",
        "drug_trafficking",
        "theft",
        "traffic",
        "other",
    }
    assert any(o["intent"] == "negligent" for o in offences.values())


@pytest.mark.parametrize("profile", ["kp-2015", "ru-2015"])
def test_every_fault_class_is_listed_and_really_in_the_files(tmp_path: Path, profile: str) -> None:
    generate(profile, 1000, 3, tmp_path, dirty_rate=0.05)
    faults = json.loads((tmp_path / "dirty_manifest.json").read_text())["faults"]
    assert {f["fault"] for f in faults} == set(FAULT_CLASSES)
    tables = _load(tmp_path)
    seen = set()
    for f in faults:
        cell = (f["table"], f["row"], f["column"])
        assert cell not in seen, "one fault per cell"
        seen.add(cell)
        value = tables[f["table"]].column(f["column"])[f["row"] - 1].as_py()
        if isinstance(value, dt.date):
            value = value.isoformat()
        assert value == f["value"], f

    def rows_of(fault: str) -> list[dict[str, object]]:
        return [f for f in faults if f["fault"] == fault]

    keys = {(f["table"], f["column"]) for f in rows_of("duplicate_key")}
    for table, column in keys:
        values = tables[table].column(column)
        assert len(pc.unique(values)) < len(values)
    offences = tables["offences"].to_pylist()
    valid_to = {o["offence_code"]: o["valid_to"] for o in offences}
    convictions = tables["convictions"].to_pylist()
    for f in rows_of("repealed_code_used"):
        c = convictions[f["row"] - 1]
        assert c["offence_date"] > valid_to[c["offence_code"]]
    for f in rows_of("offence_after_start"):
        c = convictions[f["row"] - 1]
        assert c["offence_date"] > c["start_date"]
    for f in rows_of("invalid_validity_range"):
        o = offences[f["row"] - 1]
        assert o["valid_to"] < o["valid_from"]
    codes = set(valid_to)
    for f in rows_of("unknown_offence_code"):
        assert f["value"] not in codes


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no generator"):
        generate("core", 10, 1, tmp_path)
    with pytest.raises(ConfigError, match="--dirty"):
        generate("kp-2015", 10, 1, tmp_path, dirty_rate=1.0)
    with pytest.raises(ConfigError, match="unknown profile"):
        generate("xx-1999", 10, 1, tmp_path)


def test_cli_writes_the_tables_quietly_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        [
            "registry",
            "generate",
            "--profile",
            "ru-2015",
            "--persons",
            "200",
            "--seed",
            "4",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "persons\t200" in out
    assert (tmp_path / "persons.parquet").exists()
