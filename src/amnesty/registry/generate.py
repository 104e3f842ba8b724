"""Synthetic registries: ``amnesty registry generate``.

:func:`generate` writes one Parquet file per table of the profile (columns in the
schema's order, Arrow types matching the logical ones) and ``manifest.json``.
Everything follows from ``seed``: the same arguments give byte-identical files,
so a registry can be named by its arguments in bug reports and benchmarks.

With ``dirty_rate > 0`` the tables are damaged on purpose before writing
(:mod:`amnesty.registry.dirty`) and ``dirty_manifest.json`` lists every fault, for
testing the importer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from amnesty.errors import ConfigError
from amnesty.registry.dirty import Fault, inject
from amnesty.registry.generators import builders
from amnesty.registry.profiles import get_profile

MANIFEST = "manifest.json"
DIRTY_MANIFEST = "dirty_manifest.json"

# Fixed writer settings so that equal tables give equal bytes: one compression codec
# and level, a fixed row-group size, and no wall-clock anywhere (Parquet stores none;
# created_by names the writer version only).
ROW_GROUP_ROWS = 262_144
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "row_group_size": ROW_GROUP_ROWS,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
}

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` after each step; the library prints nothing."""


@dataclass(frozen=True)
class GenerateReport:
    profile: str
    persons: int
    seed: int
    dirty_rate: float
    out_dir: Path
    tables: dict[str, int]  # rows per table, as written
    faults: int  # faults injected (0 for a clean registry)
    seconds: float
    files: tuple[Path, ...] = field(default=())

    def manifest(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "persons": self.persons,
            "seed": self.seed,
            "dirty_rate": self.dirty_rate,
            "tables": dict(self.tables),
        }


def generate(
    profile: str,
    persons: int,
    seed: int,
    out_dir: str | Path,
    dirty_rate: float = 0.0,
    progress: Progress | None = None,
) -> GenerateReport:
    """Generate a registry of ``persons`` persons for ``profile`` into ``out_dir``."""
    started = time.perf_counter()
    prof = get_profile(profile)
    build = builders().get(prof.name)
    if build is None:
        known = ", ".join(sorted(builders()))
        raise ConfigError(f"no generator for profile {prof.name!r}; generators exist for {known}")
    if persons < 1:
        raise ConfigError(f"--persons must be at least 1, got {persons}")
    if not 0.0 <= dirty_rate < 1.0:
        raise ConfigError(f"--dirty must be a rate between 0 and 1 (exclusive), got {dirty_rate}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory to write the tables into")
    out.mkdir(parents=True, exist_ok=True)

    table_names = [t.name for t in prof.tables()]
    total = len(table_names) + 1 + (1 if dirty_rate > 0 else 0)
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(name, done, total)

    tables = build(prof, persons, seed)
    step("build tables")
    faults: list[Fault] = []
    if dirty_rate > 0:
        tables, faults = inject(prof, tables, dirty_rate, seed)
        step("inject faults")

    files = []
    for name in table_names:
        path = out / f"{name}.parquet"
        write_parquet(tables[name], path)
        files.append(path)
        step(f"write {name}")

    report = GenerateReport(
        profile=prof.name,
        persons=persons,
        seed=seed,
        dirty_rate=dirty_rate,
        out_dir=out,
        tables={name: tables[name].num_rows for name in table_names},
        faults=len(faults),
        seconds=time.perf_counter() - started,
        files=tuple(files),
    )
    _write_json(out / MANIFEST, report.manifest())
    dirty_path = out / DIRTY_MANIFEST
    if faults:
        _write_json(dirty_path, {"faults": [f.as_json() for f in faults]})
    elif dirty_path.exists():
        dirty_path.unlink()  # a clean run must not leave an older run's fault list behind
    return report


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **PARQUET_OPTIONS)


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
