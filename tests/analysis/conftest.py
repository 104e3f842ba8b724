"""A small founding-case world for analysis tests: the demo's two 2015 rounds
with case work and releases, on a real DuckDB file (built once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from amnesty.demo import run_demo
from amnesty.store.engine import dispose_engine


@dataclass(frozen=True)
class World:
    db: str
    runs: tuple[str, str]  # August round, October round
    registry: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("analysis") / "demo"
    report = run_demo(workdir, persons=1500, seed=2015, say=lambda _: None)
    yield World(
        report.db, (report.runs[0].run.run_id, report.runs[1].run.run_id), workdir / "registry"
    )
    dispose_engine(report.db)
