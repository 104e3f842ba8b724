"""README.md's "A tour of the CLI" runs as written: every command exits 0.

The commands are taken from the README itself, made small (``--persons 2000``)
and pointed at a temporary database (``--db``, on every command that takes it),
and run in a temporary folder through :func:`amnesty.cli.run`. The person the
README explains must be one the generated registry holds. If this fails, fix the
README (it is the front door), not this test.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from amnesty.cli import reference, run

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SMALL = "2000"


def tour_commands(text: str) -> list[list[str]]:
    """The ``amnesty ...`` lines of the first sh block under "## A tour of the CLI"."""
    section = text.split("\n## A tour of the CLI\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, "README: no ```sh block under 'A tour of the CLI'"
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "amnesty", f"README tour line is not an amnesty command: {line}"
            commands.append(words[1:])
    return commands


def _takes_db() -> set[str]:
    return {
        " ".join(doc.path) for doc in reference.walk() if any(p.name == "--db" for p in doc.params)
    }


def _command_path(argv: list[str], known: set[str]) -> str:
    for n in range(len(argv), 0, -1):
        path = " ".join(argv[:n])
        if path in known:
            return path
    return argv[0]


def _small(argv: list[str]) -> list[str]:
    out = list(argv)
    for i, word in enumerate(out[:-1]):
        if word == "--persons":
            out[i + 1] = SMALL
    return out


def _registry_persons(workdir: Path) -> set[str]:
    import pyarrow.parquet as pq

    persons = workdir / "registry" / "persons.parquet"
    return set(pq.read_table(persons, columns=["person_id"]).column("person_id").to_pylist())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    monkeypatch.delenv("AMNESTY_USER", raising=False)
    shutil.copytree(ROOT / "decrees", tmp_path / "decrees")
    yield tmp_path
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    dispose_engine(str(tmp_path / "tour.duckdb"))
    forget_migrated(str(tmp_path / "tour.duckdb"))


def test_the_readme_tour_is_found() -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    assert [c[:2] for c in commands[:3]] == [
        ["registry", "generate"],
        ["registry", "import"],
        ["registry", "show"],
    ]
    assert {c[0] for c in commands} >= {"registry", "check", "evaluate", "explain"}


def test_the_readme_tour_runs(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(workdir / "tour.duckdb")
    takes_db = _takes_db()
    known = reference.command_paths()
    for argv in tour_commands(README.read_text(encoding="utf-8")):
        argv = _small(argv)
        if argv[0] == "explain":  # amnesty explain DECREE PERSON_ID
            person = argv[2]
            assert person in _registry_persons(workdir), (
                f"README explains {person}, a person id the generated registry does not hold "
                f"(it holds e.g. {min(_registry_persons(workdir))})"
            )
        if _command_path(argv, known) in takes_db:
            argv += ["--db", db]
        code = run(argv)
        captured = capsys.readouterr()
        assert code == 0, (
            f"README command `amnesty {shlex.join(argv)}` exited {code}:\n{captured.err[-2000:]}"
        )
    assert Path(db).is_file()
    assert (workdir / "determinations.parquet").is_file()  # the tour's --out
