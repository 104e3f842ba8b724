"""``amnesty decree sign|list``: who may sign, idempotence, a changed file refused, audited."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from acting import TEST_PASSWORD
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import get_engine
from amnesty.workflow.decrees import get_decree
from amnesty.workflow.evaluate import decree_source
from amnesty.workflow.users import add_user

DECREES = Path(__file__).resolve().parents[2] / "decrees"
DECREE_ID = "kp-2015-08-liberation"


@pytest.fixture
def decree_file(tmp_path: Path) -> Path:
    """A copy, so that a test may change it."""
    target = tmp_path / f"{DECREE_ID}.toml"
    shutil.copyfile(DECREES / f"{DECREE_ID}.toml", target)
    return target


@pytest.fixture
def store(duck_url: str) -> str:
    add_user(duck_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(duck_url, "dora", ["drafter"], actor="root", password=TEST_PASSWORD)
    add_user(duck_url, "rhee", ["reviewer"], actor="root", password=TEST_PASSWORD)
    return duck_url


def _audit_events(url: str) -> list[dict[str, object]]:
    import sqlalchemy as sa

    from amnesty.store.tables import audit_events

    with get_engine(url).connect() as connection:
        rows = connection.execute(sa.select(audit_events).order_by(audit_events.c.seq))
        return [dict(r) for r in rows.mappings()]


@pytest.mark.parametrize("signer", ["dora", "root"])
def test_a_drafter_or_an_admin_signs_and_the_hash_is_frozen(
    store: str, decree_file: Path, signer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decree", "sign", str(decree_file), "--as", signer, "--db", store]) == 0
    record = get_decree(store, DECREE_ID)
    assert record is not None
    assert record.status == "signed"
    assert record.signed_by == signer
    assert record.content_hash == decree_source(decree_file)[1]
    assert record.source_text == decree_file.read_text(encoding="utf-8")
    assert f"signed decree {DECREE_ID}" in capsys.readouterr().err
    actions = [(e["action"], e["outcome"], e["actor"]) for e in _audit_events(store)]
    assert actions[-2:] == [("decree.register", "ok", signer), ("decree.sign", "ok", signer)]
    assert verify(store).ok


def test_signing_needs_a_drafter_or_admin_and_a_refusal_leaves_no_draft(
    store: str, decree_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decree", "sign", str(decree_file), "--as", "rhee", "--db", store]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: user 'rhee' lacks the role drafter or admin")
    assert get_decree(store, DECREE_ID) is None
    last = _audit_events(store)[-1]
    assert (last["action"], last["outcome"], last["actor"]) == ("decree.sign", "refused", "rhee")
    assert verify(store).ok


def test_signing_without_a_user_is_refused(
    store: str,
    decree_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AMNESTY_USER", raising=False)
    assert run(["decree", "sign", str(decree_file), "--db", store]) == 1
    assert "needs an authenticated user: amnesty login --as USER" in capsys.readouterr().err
    assert get_decree(store, DECREE_ID) is None
    assert verify(store).ok


def test_amnesty_user_names_the_signer(
    store: str, decree_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMNESTY_USER", "dora")
    assert run(["decree", "sign", str(decree_file), "--db", store]) == 0
    record = get_decree(store, DECREE_ID)
    assert record is not None and record.signed_by == "dora"


def test_signing_the_same_content_again_changes_nothing(
    store: str, decree_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decree", "sign", str(decree_file), "--as", "dora", "--db", store]) == 0
    first = get_decree(store, DECREE_ID)
    events = len(_audit_events(store))
    capsys.readouterr()
    assert run(["decree", "sign", str(decree_file), "--as", "root", "--db", store]) == 0
    assert "already signed with this content" in capsys.readouterr().err
    assert get_decree(store, DECREE_ID) == first  # still signed by dora, at the same time
    assert len(_audit_events(store)) == events
    assert verify(store).ok


def test_a_changed_file_after_signing_is_refused(
    store: str, decree_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decree", "sign", str(decree_file), "--as", "dora", "--db", store]) == 0
    signed = get_decree(store, DECREE_ID)
    assert signed is not None
    with decree_file.open("a", encoding="utf-8") as f:
        f.write("\n# an amendment after signing\n")
    capsys.readouterr()
    assert run(["decree", "sign", str(decree_file), "--as", "dora", "--db", store]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: decree '{DECREE_ID}' was signed with content")
    assert "a signed decree cannot change" in err
    assert "register the change under a new decree id" in err
    assert get_decree(store, DECREE_ID) == signed  # the signed text stays
    last = _audit_events(store)[-1]
    assert (last["action"], last["outcome"]) == ("decree.update", "refused")
    assert verify(store).ok


def test_a_draft_changed_before_signing_is_signed_as_it_now_reads(
    store: str, decree_file: Path
) -> None:
    from amnesty.decree import load
    from amnesty.workflow.decrees import ensure_decree

    text, content_hash = decree_source(decree_file)
    ensure_decree(store, DECREE_ID, content_hash, load(decree_file).title, text, actor="dora")
    with decree_file.open("a", encoding="utf-8") as f:
        f.write("\n# a last correction before signing\n")
    assert run(["decree", "sign", str(decree_file), "--as", "dora", "--db", store]) == 0
    record = get_decree(store, DECREE_ID)
    assert record is not None and record.status == "signed"
    assert record.content_hash == decree_source(decree_file)[1] != content_hash
    assert verify(store).ok


def test_a_decree_with_errors_is_not_signed(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[decree]\nid = "x"\n', encoding="utf-8")
    assert run(["decree", "sign", str(broken), "--as", "dora", "--db", store]) == 1
    assert capsys.readouterr().err.startswith("Error: ")
    assert get_decree(store, "x") is None


def test_a_missing_file_is_an_error(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"
    assert run(["decree", "sign", str(missing), "--as", "dora", "--db", store]) == 1
    assert capsys.readouterr().err == f"Error: {missing}: no such decree file\n"


def test_decree_list_shows_status_hash_and_signer(
    store: str, decree_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["decree", "list", "--db", store]) == 0
    assert "no decrees yet" in capsys.readouterr().err
    assert run(["decree", "sign", str(decree_file), "--as", "dora", "--db", store]) == 0
    capsys.readouterr()
    assert run(["decree", "list", "--db", store, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["decree_id"] == DECREE_ID
    assert row["status"] == "signed"
    assert row["content_hash"] == decree_source(decree_file)[1]
    assert row["signed_by"] == "dora"
    assert row["signed_at"]
    assert run(["decree", "list", "--db", store, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "decree_id,title,status,content_hash,signed_by,signed_at"
    assert lines[1].startswith(f"{DECREE_ID},")
