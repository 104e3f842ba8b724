"""The outside auditor's procedure in docs/workflow.md works on a real export."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from amnesty.audit.log import export_chain
from amnesty.workflow.users import add_user

DOC = Path(__file__).parents[2] / "docs" / "workflow.md"


def _auditor_snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Export for an outside auditor", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "docs/workflow.md lost its export verification procedure"
    return match.group(1)


def test_documented_procedure_verifies_an_export(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(duck_url, "root", ["admin"])
    add_user(duck_url, "리", ["auditor"], actor="root")  # non-ASCII stays unescaped
    export_chain(duck_url, tmp_path / "chain.jsonl")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(_auditor_snippet(), {})
    finally:
        os.chdir(cwd)
    assert "chain verifies; head 2" in capsys.readouterr().out
