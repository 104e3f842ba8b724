"""Collect the decree test tables (``decrees/tests/*.yaml``) as pytest items.

Each case of a table is one test named after it, e.g.
``kp-2015-10-party-founding.yaml::theft convict at a penitentiary is released``.
pytest calls ``pytest_collect_file`` for every file of this folder, this
conftest included; that call is where the tables, which live beside the decrees
for the lawyers who edit them, join the suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .tables import (
    LANGUAGE_TABLES,
    TABLES,
    Case,
    Table,
    decide_with_engine,
    decide_with_interpreter,
    mismatches,
    read_table,
)

_DECIDED: dict[tuple[Path, dt.date | None, str], dict[str, dict[str, Any]]] = {}


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.resolve() == Path(__file__).resolve():
        return DecreeTables.from_parent(parent, path=file_path, name="decree-tables")
    return None


class DecreeTables(pytest.File):
    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        for path in [*sorted(TABLES.glob("*.yaml")), *sorted(LANGUAGE_TABLES.glob("*.yaml"))]:
            yield DecreeTable.from_parent(self, name=path.name, table_path=path)


class DecreeTable(pytest.Collector):
    def __init__(self, *, table_path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table_path = table_path

    def collect(self) -> Iterator[pytest.Item]:
        table = read_table(self.table_path)
        for case in table.cases:
            yield DecreeCase.from_parent(self, name=case.name, table=table, case=case)


class DecreeCase(pytest.Item):
    def __init__(self, *, table: Table, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.case = case

    def runtest(self) -> None:
        problems = []
        for engine, decide in (
            ("engine", decide_with_engine),
            ("interpreter", decide_with_interpreter),
        ):
            key = (self.table.path, self.case.as_of, engine)
            if key not in _DECIDED:
                _DECIDED[key] = decide(self.table, self.case.as_of)
            row = _DECIDED[key].get(self.case.person_id)
            problems += [f"{engine}: {m}" for m in mismatches(self.case, row)]
        if problems:
            raise CaseFailed(problems)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            lines = "\n".join(f"  {p}" for p in excinfo.value.problems)
            return f"{self.table.path.name}: {self.name}\n{lines}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.table.path, 0, f"{self.table.decree.id}: {self.name}"


class CaseFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
