"""A third jurisdiction made only of files, driven only through the CLI.

In an empty folder: the profile of the fictitious republic XA (decrees/profiles/), its
decree using named sets, named predicates, article ranges and an exclusion with an
exception (decrees/xa-2020-decongestion.toml), and a registry of eight persons in CSV
(examples/xa-2020/registry/). Then, as docs/tutorial-jurisdiction.md tells a ministry
lawyer: check the profile, import the registry under it, check the decree, evaluate
and explain. The outcomes were worked out by hand from the decree's text.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from amnesty.cli import run

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "decrees" / "profiles" / "xa-2020.profile.toml"
DECREE = ROOT / "decrees" / "xa-2020-decongestion.toml"
REGISTRY = ROOT / "examples" / "xa-2020" / "registry"

# person -> (outcome, relief, grounds, blocking), on 2020-04-14, worked by hand:
EXPECTED = {
    # 65 years old (frail: Art. 2); 24 months from 2019-06-01, a third served by
    # 2020-01-31 (Art. 3): release ranks above the temporary release.
    "P1": ("eligible", "release", ["XA-G1", "XA-G2"], []),
    # chronically ill (Art. 2) but convicted of homicide (Art. 6), and not 75.
    "P2": ("ineligible", None, ["XA-G1"], ["XA-E1"]),
    # 80 and chronically ill: Art. 6's exception lifts the drug-trafficking bar.
    "P3": ("eligible", "temporary_release", ["XA-G1"], []),
    # sole carer in the overcrowded Central Prison (Art. 4); 48 months is over 3 years.
    "P4": ("eligible", "conditional_release", ["XA-G3"], []),
    # sole carer in the open centre (not overcrowded); a third of 12 months from
    # 2020-01-01 is reached only on 2020-05-02: no ground.
    "P5": ("ineligible", None, [], []),
    # extortion, article 207, inside the range 205..210 of Art. 6.
    "P6": ("ineligible", None, ["XA-G2"], ["XA-E1"]),
    # a disciplinary sanction on 2020-02-01, within six months (Art. 7).
    "P7": ("ineligible", None, ["XA-G2"], ["XA-E2"]),
    # 44, chronic illness not recorded: Art. 2 might hold, so the case is reviewed.
    "P8": ("review", "temporary_release", [], []),
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's folder: a profile, a decree and a registry, nothing else."""
    shutil.copyfile(PROFILE, tmp_path / "xa-2020.profile.toml")
    shutil.copyfile(DECREE, tmp_path / "decongestion.toml")
    shutil.copytree(REGISTRY, tmp_path / "registry")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    monkeypatch.delenv("AMNESTY_PROFILE_PATH", raising=False)
    return tmp_path


def test_a_jurisdiction_from_files_only(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(folder / "xa.duckdb")
    assert run(["profile", "check", "xa-2020.profile.toml"]) == 0
    assert "profile xa-2020 is well-formed" in capsys.readouterr().out
    assert run(["registry", "import", "registry", "--profile", "xa-2020.profile.toml",
                "--db", db]) == 0  # fmt: skip
    assert "(xa-2020)" in capsys.readouterr().out
    # the decree names jurisdiction "xa-2020": found as xa-2020.profile.toml beside it
    assert run(["check", "decongestion.toml", "--db", db]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert run(["evaluate", "decongestion.toml", "--db", db, "--out", "d.jsonl",
                "--format", "json"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    got = {}
    for line in (folder / "d.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        got[r["person_id"]] = (r["outcome"], r["relief"], r["grounds"], r["blocking"])
    assert got == EXPECTED
    # the run is recorded with the profile's content hash, and province = region
    profile_hash = _hash_of("xa-2020.profile.toml", capsys)
    assert summary["profile"] == {"name": "xa-2020", "hash": profile_hash}
    assert summary["by_province"] == {"North Region": {"eligible": 3, "ineligible": 4,
                                                       "review": 1}}  # fmt: skip
    assert run(["run", "list", "--db", db, "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 1
    # explain names the exception's facts, the offence's article and the named parts
    assert run(["explain", "decongestion.toml", "P6", "--db", db, "--format", "json"]) == 0
    e = json.loads(capsys.readouterr().out)
    e1 = next(c for c in e["clauses"] if c["id"] == "XA-E1")
    assert e1["value"] == "true" and e1["facts"]["conviction.article"] == [207]
    assert e1["uses"] == ["barred_offence", "barred_categories"]
    assert e["profile"]["hash"] == profile_hash
    assert run(["explain", "decongestion.toml", "P8", "--db", db, "--format", "json"]) == 0
    e = json.loads(capsys.readouterr().out)
    g1 = next(c for c in e["clauses"] if c["id"] == "XA-G1")
    assert g1["value"] == "unknown" and g1["missing"] == ["person.chronic_illness"]
    assert g1["uses"] == ["frail"]


def _hash_of(path: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(["profile", "show", path, "--format", "json"]) == 0
    return str(json.loads(capsys.readouterr().out)["content_hash"])


def test_bad_rows_under_the_profile_are_refused_with_their_place(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(folder / "xa.duckdb")
    assert run(["registry", "import", "registry", "--profile", "xa-2020.profile.toml",
                "--db", db]) == 0  # fmt: skip
    before = _tables(db)
    facilities = folder / "registry" / "facilities.csv"
    # a core facility type the profile does not list; an attribute that is not boolean
    facilities.write_text(
        facilities.read_text(encoding="utf-8")
        .replace(
            "F2,Centro Abierto,Open Centre,open_prison", "F2,Centro Abierto,Open Centre,colony"
        )
        .replace("D1,true", "D1,often"),
        encoding="utf-8",
    )
    persons = folder / "registry" / "persons.csv"
    persons.write_text(
        persons.read_text(encoding="utf-8").replace("P3,", "p3,", 1), encoding="utf-8"
    )
    capsys.readouterr()
    assert run(["registry", "import", "registry", "--profile", "xa-2020.profile.toml",
                "--db", db]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert run(["registry", "import", "registry", "--profile", "xa-2020.profile.toml", "--db",
                db, "--rejects", "rejects.csv"]) == 1  # fmt: skip
    with (folder / "rejects.csv").open(encoding="utf-8", newline="") as f:
        rejects = {(r["table"], r["row"], r["column"], r["value"]): r["rule"]
                   for r in csv.DictReader(f)}  # fmt: skip
    assert rejects[("facilities", "2", "facility_type", "colony")] == (
        "vocabulary: expected one of prison, remand_centre, open_prison"
    )
    assert rejects[("facilities", "1", "overcrowded", "often")].startswith(
        "type: expected true or false"
    )
    assert rejects[("persons", "3", "person_id", "p3")].startswith("id_case:")
    assert _tables(db) == before  # nothing changed


def _tables(db: str) -> dict[str, list[tuple[object, ...]]]:
    conn = duckdb.connect(db, read_only=True)
    try:
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("facilities", "persons", "convictions", "events")
        }
    finally:
        conn.close()


def test_the_profile_file_travels_with_the_decree_or_is_named(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without its profile beside it (or on AMNESTY_PROFILE_PATH) the decree is refused
    at its jurisdiction line, saying where a profile is looked for."""
    (folder / "xa-2020.profile.toml").unlink()
    assert run(["check", "decongestion.toml"]) == 1
    out = capsys.readouterr()
    text = out.out + out.err
    assert "decongestion.toml:11:" in text and "xa-2020.profile.toml" in text
