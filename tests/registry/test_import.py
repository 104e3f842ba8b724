"""``amnesty registry import``: every rule gives its precise rejection and leaves the
database exactly as it was; --skip-invalid imports the rest; snapshots by content."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from import_fixtures import D, registry, write

from amnesty.cli import run
from amnesty.errors import ImportRejected, Rejection
from amnesty.registry.importer import import_registry
from amnesty.registry.schema import TABLE_NAMES
from amnesty.registry.snapshot import current_snapshot

Data = dict[str, list[dict[str, Any]]]


def db_state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every registry table and the snapshot list, in full."""
    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {
            n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in sorted(names)
        }
    finally:
        con.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database already holding the valid fixture registry."""
    path = tmp_path / "reg.duckdb"
    import_registry(str(path), write(registry(), tmp_path / "base"))
    return path


def rejected(db: Path, tmp_path: Path, data: Data, fmt: str = "parquet") -> list[Rejection]:
    """Import ``data``, expect refusal, and check nothing changed."""
    before = db_state(db)
    src = write(data, tmp_path / f"bad-{fmt}", fmt)
    with pytest.raises(ImportRejected) as info:
        import_registry(str(db), src, rejects_path=tmp_path / "rejects.csv")
    assert db_state(db) == before
    return info.value.rejections


def one(rejections: list[Rejection]) -> Rejection:
    assert len(rejections) == 1, rejections
    return rejections[0]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_bad_type_is_rejected_with_row_column_and_value(db: Path, tmp_path: Path, fmt: str) -> None:
    data = registry()
    data["convictions"][2]["term_months"] = "2 years"
    r = one(rejected(db, tmp_path, data, fmt))
    assert (r.table, r.row, r.column, r.value) == ("convictions", 3, "term_months", "2 years")
    assert r.rule.startswith("type: expected a whole number")


def test_fraction_is_not_a_whole_number(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["convictions"][0]["term_months"] = "1.5"
    r = one(rejected(db, tmp_path, data, "csv"))
    assert (r.row, r.column, r.value) == (1, "term_months", "1.5")


def test_bad_date(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["events"][1]["event_date"] = "2015-02-30"
    r = one(rejected(db, tmp_path, data))
    assert (r.table, r.row, r.column, r.value) == ("events", 2, "event_date", "2015-02-30")
    assert "expected a date" in r.rule


def test_missing_required_value(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["persons"][1]["name"] = None
    r = one(rejected(db, tmp_path, data, "csv"))
    assert (r.table, r.row, r.column, r.value) == ("persons", 2, "name", None)
    assert r.rule.startswith("not_null")


def test_closed_vocabulary(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["facilities"][0]["facility_type"] = "gulag"
    data["facilities"][1]["authority"] = "KGB"  # the profile's authorities
    rs = rejected(db, tmp_path, data)
    assert [(r.table, r.row, r.column, r.value) for r in rs] == [
        ("facilities", 1, "facility_type", "gulag"),
        ("facilities", 2, "authority", "KGB"),
    ]
    assert rs[0].rule.startswith("vocabulary: expected one of penitentiary,")
    assert rs[1].rule == "vocabulary: expected one of MPS, MSS"


def test_min_value(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["convictions"][3]["term_months"] = 0
    r = one(rejected(db, tmp_path, data))
    assert (r.row, r.column, r.value, r.rule) == (
        4,
        "term_months",
        "0",
        "min_value: expected at least 1",
    )


def test_every_duplicate_key_row_is_reported(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["persons"][3]["person_id"] = "P001"
    rs = [r for r in rejected(db, tmp_path, data) if r.table == "persons"]
    assert [(r.table, r.row, r.column, r.value) for r in rs] == [
        ("persons", 1, "person_id", "P001"),
        ("persons", 4, "person_id", "P001"),
    ]
    assert rs[0].rule == "primary_key: person_id 'P001' occurs in rows 1, 4"


def test_dangling_reference(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["persons"][2]["facility_id"] = "F99"
    r = one(rejected(db, tmp_path, data))
    assert (r.table, r.row, r.column, r.value) == ("persons", 3, "facility_id", "F99")
    assert r.rule == "foreign_key: no facilities row has facility_id 'F99'"


def test_unknown_offence_code(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["convictions"][1]["offence_code"] = "ZZ"
    r = one(rejected(db, tmp_path, data))
    assert (r.table, r.row, r.column, r.value) == ("convictions", 2, "offence_code", "ZZ")
    assert r.rule == "unknown_offence: offence code 'ZZ' is not in the offence catalogue"


def test_offence_code_repealed_before_offence_date(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["convictions"][1]["offence_date"] = D(2006, 1, 1)
    data["convictions"][1]["start_date"] = D(2006, 6, 1)
    r = one(rejected(db, tmp_path, data))
    assert (r.table, r.row, r.column, r.value) == ("convictions", 2, "offence_code", "X9")
    assert r.rule == (
        "offence_in_force: offence code 'X9' was repealed on 2004-12-31, before the offence date"
    )


def test_table_check(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["offences"][1]["valid_to"] = D(1980, 1, 1)
    rs = rejected(db, tmp_path, data)
    check = [r for r in rs if r.rule.startswith("check valid_range")]
    assert [(r.table, r.row, r.column, r.value) for r in check] == [
        ("offences", 2, "valid_to", "1980-01-01")
    ]
    assert "valid_from=1990-01-01" in check[0].rule


def test_birth_after_first_event_and_event_before_birth(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["persons"][2]["birth_date"] = D(2014, 1, 1)
    data["persons"][2]["birth_precision"] = "day"
    rs = rejected(db, tmp_path, data)
    assert [(r.table, r.row, r.column, r.value) for r in rs] == [
        ("persons", 3, "birth_date", "2014-01-01"),
        ("events", 3, "event_date", "2013-01-01"),
    ]
    assert rs[0].rule == (
        "birth_after_first_event: birth date 2014-01-01 is after the person's first "
        "event on 2013-01-01"
    )
    assert rs[1].rule.startswith("before_birth: event_date 2013-01-01 is before")


def test_missing_and_unknown_columns_are_table_level(db: Path, tmp_path: Path) -> None:
    data = registry()
    for row in data["health_assessments"]:
        del row["severity"]
        row["blood_type"] = "A"
    rs = rejected(db, tmp_path, data, "csv")
    assert [(r.table, r.row, r.column) for r in rs] == [
        ("health_assessments", None, "blood_type"),
        ("health_assessments", None, "severity"),
    ]
    assert rs[0].rule.startswith("unknown_column: health_assessments.csv has column blood_type")
    assert rs[1].rule == "missing_column: health_assessments.csv has no column severity"


def test_missing_table_file(db: Path, tmp_path: Path) -> None:
    src = write(registry(), tmp_path / "partial")
    (src / "events.parquet").unlink()
    before = db_state(db)
    with pytest.raises(ImportRejected) as info:
        import_registry(str(db), src)
    assert db_state(db) == before
    assert one(info.value.rejections).rule.startswith("missing_table: no events.parquet")


def test_row_numbers_follow_the_file_across_many_chunks(tmp_path: Path) -> None:
    """Row numbers stay right in files long enough to be read by several threads."""
    data = registry()
    template = data["divisions"][3]
    data["divisions"] += [
        {**template, "division_id": f"X{i}", "level": "county"} for i in range(60_000)
    ]
    bad = [7, 23_456, 59_999]
    for i in bad:
        data["divisions"][4 + i]["level"] = "hamlet"
    for fmt in ("csv", "jsonl", "parquet"):
        src = write(data, tmp_path / fmt, fmt)
        with pytest.raises(ImportRejected) as info:
            import_registry(str(tmp_path / "x.duckdb"), src)
        assert [r.row for r in info.value.rejections] == [5 + i for i in bad], fmt


def test_rejects_file_lists_everything(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["persons"][0]["sex"] = "X"
    data["events"][0]["event_type"] = "escape"
    rejected(db, tmp_path, data)
    with open(tmp_path / "rejects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["table"], r["row"], r["column"], r["value"]) for r in rows] == [
        ("persons", "1", "sex", "X"),
        ("events", "1", "event_type", "escape"),
    ]


def test_skip_invalid_imports_the_rest_and_rejects_dependents(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    data = registry()
    data["persons"][0]["sex"] = "X"  # P001: its convictions and events depend on it
    rejects = tmp_path / "rejects.csv"
    report = import_registry(str(db), write(data, tmp_path / "src"), None, True, rejects)
    assert report.status == "imported"
    assert report.row_counts["persons"] == 3
    assert report.row_counts["convictions"] == 2
    assert report.row_counts["events"] == 3
    deps = [r for r in report.rejections if r.rule.startswith("depends_on_rejected")]
    assert {(r.table, r.row) for r in deps} == {
        ("convictions", 1),
        ("convictions", 2),
        ("events", 1),
    }
    assert deps[0].rule == "depends_on_rejected: persons row 1 (person_id 'P001') was rejected"
    with rejects.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 4
    con = duckdb.connect(str(db), read_only=True)
    ids = {r[0] for r in con.execute("SELECT person_id FROM persons").fetchall()}
    con.close()
    assert ids == {"P002", "P003", "P004"}


def test_skip_invalid_cascades_down_the_division_tree(tmp_path: Path) -> None:
    data = registry()
    data["divisions"][1]["level"] = "oblast"  # P1: C1 below it, F1, F2 and their persons
    report = import_registry(str(tmp_path / "t.duckdb"), write(data, tmp_path / "s"), None, True)
    assert report.row_counts["divisions"] == 2
    assert report.row_counts["facilities"] == 1
    assert report.row_counts["persons"] == 1  # P003, held at F3 in the special city


def test_reimport_is_unchanged_and_records_no_snapshot(db: Path, tmp_path: Path) -> None:
    before = db_state(db)
    report = import_registry(str(db), write(registry(), tmp_path / "again", "csv"))
    assert report.status == "unchanged"
    assert db_state(db) == before


def test_new_content_replaces_registry_and_moves_current_snapshot(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["events"].pop()
    report = import_registry(str(db), write(data, tmp_path / "new"))
    assert (report.status, report.snapshot_id) == ("imported", 2)
    con = duckdb.connect(str(db), read_only=True)
    snap = current_snapshot(con)
    flags = con.execute("SELECT snapshot_id, is_current FROM registry_snapshots").fetchall()
    events = con.execute("SELECT count(*) FROM events").fetchall()
    con.close()
    assert snap is not None and snap.content_hash == report.content_hash
    assert sorted(flags) == [(1, False), (2, True)]
    assert events == [(3,)]


def test_same_hash_from_parquet_csv_jsonl_and_a_mix(tmp_path: Path) -> None:
    hashes = set()
    mixes: list[dict[str, str]] = [{}, {}, {}, {"persons": "csv", "events": "jsonl"}]
    for fmt, mix in zip(["parquet", "csv", "jsonl", "parquet"], mixes, strict=True):
        src = write(registry(), tmp_path / f"{fmt}{len(mix)}", fmt, formats=mix)
        report = import_registry(str(tmp_path / f"{fmt}{len(mix)}.duckdb"), src)
        hashes.add(report.content_hash)
    assert len(hashes) == 1


def test_hash_tells_null_from_empty_string_and_sees_every_value(tmp_path: Path) -> None:
    def digest(data: Data, name: str) -> str:
        src = write(data, tmp_path / name, "csv")
        return import_registry(str(tmp_path / f"{name}.duckdb"), src).content_hash

    base = digest(registry(), "base")
    nulled = registry()
    nulled["events"][3]["note"] = None  # was ""
    moved = registry()
    moved["persons"][0]["birth_date"] = D(1970, 5, 2)
    assert len({base, digest(nulled, "nulled"), digest(moved, "moved")}) == 3


def test_cli_exit_codes_and_error_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = registry()
    data["persons"][0]["sex"] = "X"
    src = write(data, tmp_path / "cli")
    assert run(["registry", "import", str(src), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "persons              vocabulary" in err
    assert "persons row 1 column sex: value 'X': vocabulary: expected one of M, F" in err
    default = tmp_path / "cli.rejects.csv"
    assert (
        f"Error: 1 rejection(s) in {src}; nothing was imported; all are listed in {default}" in err
    )
    assert default.exists()
    rejects = tmp_path / "r.csv"
    argv = ["registry", "import", str(src), "--db", str(db), "--skip-invalid", "--rejects"]
    assert run([*argv, str(rejects), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert '"status": "imported"' in captured.out
    assert "Warning: skipped 4 rejected row(s)" in captured.err
    assert run(["registry", "import", "--db", str(db)]) == 2
    assert run(["registry", "import", str(tmp_path / "nowhere"), "--db", str(db)]) == 1
    assert "Error: " in capsys.readouterr().err


def test_unknown_profile_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(registry(), tmp_path / "p")
    argv = ["registry", "import", str(src), "--db", str(tmp_path / "d.duckdb")]
    assert run([*argv, "--profile", "xx-1999"]) == 1
    assert "Error: unknown profile 'xx-1999'" in capsys.readouterr().err


def test_progress_callback_reaches_the_end(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    src = write(registry(), tmp_path / "p")
    import_registry(str(tmp_path / "d.duckdb"), src, progress=lambda *a: seen.append(a))
    assert seen[-1][1] == seen[-1][2]
    assert [s[0] for s in seen][:2] == ["reading divisions", "reading facilities"]


def test_every_table_is_written(db: Path) -> None:
    state = db_state(db)
    # The store's migrations made the database: its other tables are there too, empty.
    assert set(TABLE_NAMES) | {"registry_snapshots", "alembic_version"} <= set(state)
    assert all(state[name] for name in TABLE_NAMES)
    assert isinstance(state["offences"][0][6], dt.date)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_a_sentence_whose_start_or_term_was_not_recorded_is_imported(
    tmp_path: Path, fmt: str
) -> None:
    data = registry()
    data["convictions"][0]["start_date"] = None  # its offence_date is still given
    data["convictions"][1]["term_months"] = None  # a term sentence
    db = tmp_path / "reg.duckdb"
    import_registry(str(db), write(data, tmp_path / "src", fmt))
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            "SELECT conviction_id, sentence_kind, start_date, term_months FROM convictions "
            "WHERE start_date IS NULL OR term_months IS NULL ORDER BY conviction_id"
        ).fetchall()
    finally:
        con.close()
    first, second = data["convictions"][0], data["convictions"][1]
    assert got == [
        (first["conviction_id"], first["sentence_kind"], None, first["term_months"]),
        (second["conviction_id"], second["sentence_kind"], second["start_date"], None),
    ]


def test_a_bad_date_precision_or_one_without_its_date_is_refused(db: Path, tmp_path: Path) -> None:
    data = registry()
    data["convictions"][0]["start_precision"] = "week"
    data["convictions"][2]["start_date"] = None
    data["convictions"][2]["start_precision"] = "month"
    data["convictions"][3]["offence_date_precision"] = "year"  # C004 has no offence date
    rs = rejected(db, tmp_path, data)
    assert sorted((r.table, r.row, r.column, r.value) for r in rs) == [
        ("convictions", 1, "start_precision", "week"),
        ("convictions", 3, "start_precision", "month"),
        ("convictions", 4, "offence_date_precision", "year"),
    ]
    rules = {r.column: r.rule for r in rs if r.row != 1}
    assert rules["start_precision"].startswith("check start_precision_with_date")
    assert rules["offence_date_precision"].startswith("check offence_precision_with_date")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_a_partial_start_or_offence_date_is_imported(tmp_path: Path, fmt: str) -> None:
    data = registry()
    # Offence on 15 March, sentence known to start "in March": the offence may still
    # come first, so offence_before_start does not refuse it.
    data["convictions"][0]["offence_date"] = D(2010, 3, 15)
    data["convictions"][0]["start_date"] = D(2010, 3, 1)
    data["convictions"][0]["start_precision"] = "month"
    data["convictions"][1]["offence_date"] = D(2003, 1, 1)
    data["convictions"][1]["offence_date_precision"] = "year"
    data["convictions"][2]["start_precision"] = "day"
    db = tmp_path / "reg.duckdb"
    import_registry(str(db), write(data, tmp_path / "src", fmt))
    con = duckdb.connect(str(db), read_only=True)
    try:
        got = con.execute(
            "SELECT conviction_id, offence_date_precision, start_precision FROM convictions "
            "ORDER BY conviction_id"
        ).fetchall()
    finally:
        con.close()
    assert got == [
        ("C001", None, "month"),
        ("C002", "year", None),
        ("C003", None, "day"),
        ("C004", None, None),
    ]


@pytest.mark.parametrize("precision", ["day", None])
def test_a_day_start_before_the_offence_day_is_still_refused(
    db: Path, tmp_path: Path, precision: str | None
) -> None:
    data = registry()
    data["convictions"][0]["offence_date"] = D(2010, 3, 15)
    data["convictions"][0]["start_date"] = D(2010, 3, 1)
    data["convictions"][0]["start_precision"] = precision  # null: a day
    rs = rejected(db, tmp_path, data)
    assert [(r.table, r.row, r.column) for r in rs] == [("convictions", 1, "offence_date")]
    assert rs[0].rule.startswith("check offence_before_start")
