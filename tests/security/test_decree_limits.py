"""A decree file past the documented limits is refused with file:line, never a traceback (#9).

Before: a 1,000-deep `not` chain and a TOML nesting bomb ended in a RecursionError,
and a 50 MB file was read whole.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from amnesty.cli import run
from amnesty.decree.parse import MAX_DECREE_BYTES, MAX_PREDICATE_NESTING, MAX_TOML_NESTING

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"


def _with_predicate(tmp_path: Path, predicate: str) -> tuple[Path, int]:
    base = DECREE.read_text(encoding="utf-8")
    first = re.search(r"^predicate = .*$", base, re.M)
    assert first is not None
    line = base[: first.start()].count("\n") + 1
    path = tmp_path / "deep.toml"
    path.write_text(base.replace(first.group(0), f"predicate = '{predicate}'", 1), "utf-8")
    return path, line


def _check(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return captured.out + captured.err


def test_a_thousand_deep_not_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = _with_predicate(tmp_path, "not " * 1000 + 'authority = "MSS"')
    out = _check(path, capsys)
    assert f"{path}:{line}:13: error: the predicate nests 1000 levels" in out
    assert f"a predicate nests at most {MAX_PREDICATE_NESTING}" in out


def test_a_thousand_deep_parentheses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, line = _with_predicate(tmp_path, "(" * 1000 + 'authority = "MSS"' + ")" * 1000)
    assert f"{path}:{line}:13: error: the predicate nests 1000 levels" in _check(path, capsys)


def test_nesting_just_inside_the_limit_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    depth = MAX_PREDICATE_NESTING // 2
    path, _line = _with_predicate(tmp_path, "(" * depth + 'authority = "MSS"' + ")" * depth)
    assert run(["check", str(path)]) == 0, capsys.readouterr()


def test_a_toml_nesting_bomb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n" + DECREE.read_text("utf-8"))
    out = _check(path, capsys)
    column = 4 + MAX_TOML_NESTING + 1
    assert f"{path}:1:{column}: error: arrays or inline tables nested more than 32 deep" in out


def test_brackets_inside_strings_and_comments_do_not_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DECREE.read_text("utf-8")
    path = tmp_path / "strings.toml"
    path.write_text(f"# {'[' * 100}\nnote = \"{'{' * 100}\"\nmore = '''\n{'[' * 100}\n'''\n{text}")
    report = run(["check", str(path)])
    out = capsys.readouterr()
    assert report in (0, 1)  # whatever else it finds, not a nesting error:
    assert "nested more than" not in out.out + out.err
    assert "Traceback" not in out.err


def test_a_huge_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.toml"
    text = DECREE.read_text("utf-8")
    filler = ("# " + "x" * 98 + "\n") * (MAX_DECREE_BYTES // 100 + 10)
    path.write_text(text + filler, "utf-8")
    line = (text + filler).encode()[:MAX_DECREE_BYTES].count(b"\n") + 1
    out = _check(path, capsys)
    assert f"{path}:{line}:1: error: the decree file is " in out
    assert f"holds at most {MAX_DECREE_BYTES:,} bytes" in out
