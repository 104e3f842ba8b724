"""docs/cli.md tells the truth about the command line.

- The reference between the markers is exactly what the code renders; refresh it
  with ``python -m amnesty.cli.reference --write``.
- Every command the introduction's command table names exists in the program.

(Named ``test_cli_docs`` rather than ``test_docs``: ``tests/registry/test_docs.py``
already holds that module name.)
"""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path

import pytest

from amnesty.cli import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
REFRESH = "python3 -m uv run python -m amnesty.cli.reference --write"


def _document() -> str:
    return DOC.read_text(encoding="utf-8")


def introduction_commands(text: str) -> list[str]:
    """The command paths the introduction's table names, alternatives expanded.

    ``amnesty run list|show`` gives ``run list`` and ``run show``; the words of a
    path end at the first option, placeholder or bracket.
    """
    head, _, _ = reference.split_document(text)
    paths: list[str] = []
    for line in head.splitlines():
        if not line.startswith("| `amnesty"):
            continue
        first_cell = re.split(r"(?<!\\)\|", line)[1].strip().strip("`").replace("\\|", "|")
        words: list[list[str]] = []
        for token in first_cell.split()[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", token):
                break
            words.append(token.split("|"))
        paths += [" ".join(combo) for combo in itertools.product(*words)]
    return paths


def test_reference_is_what_the_code_renders() -> None:
    text = _document()
    _, generated, _ = reference.split_document(text)
    wanted = f"\n{reference.render()}\n"
    if generated != wanted:
        diff = "".join(
            itertools.islice(
                difflib.unified_diff(
                    generated.splitlines(keepends=True),
                    wanted.splitlines(keepends=True),
                    "docs/cli.md",
                    "rendered from the code",
                ),
                60,
            )
        )
        pytest.fail(f"docs/cli.md's reference is out of date; run {REFRESH}\n{diff}")


def test_refreshing_keeps_the_introduction() -> None:
    text = _document()
    assert reference.refreshed(text) == text
    head, _, tail = reference.split_document(text)
    assert head.startswith("# The command line\n")
    assert "AMNESTY_DB" in head and "AMNESTY_USER" in head
    assert tail.startswith(reference.END)


def test_the_introduction_table_is_parsed() -> None:
    named = introduction_commands(_document())
    assert "registry generate" in named
    assert {"audit verify", "audit export", "audit checkpoint"} <= set(named)
    assert "certificate" in named
    assert not [p for p in named if p.split()[-1] in ("duckdb", "postgres", "spark")]


def test_every_command_the_introduction_names_exists() -> None:
    named = introduction_commands(_document())
    assert len(named) >= 20, named
    existing = reference.command_paths()
    missing = [p for p in named if p not in existing]
    assert not missing, (
        f"docs/cli.md names commands the program does not have: {', '.join(missing)}"
    )


def test_every_command_has_help() -> None:
    undocumented = [doc.name for doc in reference.walk() if not doc.help]
    assert not undocumented, f"commands without help text: {', '.join(undocumented)}"


def test_every_argument_and_option_has_help() -> None:
    undocumented = [
        f"amnesty {' '.join(doc.path)} {param.name}".replace("  ", " ")
        for doc in reference.walk()
        for param in doc.params
        if not param.help
    ]
    assert not undocumented, f"parameters without help text: {', '.join(undocumented)}"


def test_the_generated_part_names_every_command() -> None:
    _, generated, _ = reference.split_document(_document())
    headings = set(re.findall(r"^#+ `amnesty ?(.*)`$", generated, flags=re.MULTILINE))
    assert headings == reference.command_paths() | {""}


def test_stale_reference_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "cli.md"
    text = _document()
    head, _, tail = reference.split_document(text)
    stale.write_text(f"{head}\n## `amnesty nothing`\n\n{tail}", encoding="utf-8")
    assert reference.main(["--check", "--path", str(stale)]) == 1
    assert "--write" in capsys.readouterr().err
    assert reference.main(["--write", "--path", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == reference.refreshed(text)
    assert reference.main(["--check", "--path", str(stale)]) == 0


def test_a_document_without_markers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "cli.md"
    bare.write_text("# no markers\n", encoding="utf-8")
    assert reference.main(["--write", "--path", str(bare)]) == 1
    assert "expected the markers" in capsys.readouterr().err
    assert bare.read_text(encoding="utf-8") == "# no markers\n"
