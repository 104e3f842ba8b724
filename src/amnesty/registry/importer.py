"""``import_registry``: validate a registry extract, then replace the registry in one
transaction and record its snapshot, or write nothing at all.

Validation always runs in a private in-memory DuckDB (:mod:`sources` loads the files
as text, :mod:`validate` applies every rule as set-based SQL). Only when it passes
(or ``skip_invalid`` drops the rejected rows) does anything touch the target: a
DuckDB file is attached and written in one transaction; PostgreSQL receives the
validated tables by COPY in one transaction (:mod:`amnesty.registry.postgres`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amnesty.errors import ConfigError, ImportRejected, Rejection
from amnesty.registry.profiles import Profile, get_profile
from amnesty.registry.schema import Table
from amnesty.registry.snapshot import (
    ContentHash,
    content_hash,
    current_snapshot,
    record_snapshot,
    table_ddl,
)
from amnesty.registry.sources import (
    column_rejections,
    find_sources,
    load_source,
    quote_literal,
)
from amnesty.registry.validate import REJECTIONS_DDL, cascade, create_clean, validate
from amnesty.store.db import DatabaseURL, resolve_db

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as the import moves on."""

SHOWN_REJECTIONS = 5


@dataclass
class ImportReport:
    status: str  # "imported" or "unchanged"
    profile: str
    source: str
    content_hash: str
    snapshot_id: int
    row_counts: dict[str, int]
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: Path | None = None

    def rejection_counts(self) -> list[tuple[str, str, int]]:
        return count_rejections(self.rejections)


def count_rejections(rejections: list[Rejection]) -> list[tuple[str, str, int]]:
    """(table, rule name, count), in first-seen order: the on-screen summary."""
    counts: dict[tuple[str, str], int] = {}
    for r in rejections:
        key = (r.table, r.rule.split(":", 1)[0])
        counts[key] = counts.get(key, 0) + 1
    return [(t, rule, n) for (t, rule), n in counts.items()]


def profile_for(path: Path, profile: str | None) -> Profile:
    """``--profile`` wins, then ``manifest.json``'s "profile", then core."""
    if profile:
        return get_profile(profile)
    manifest = path / "manifest.json"
    if manifest.is_file():
        try:
            named = json.loads(manifest.read_text(encoding="utf-8")).get("profile")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ConfigError(f"{manifest}: not a JSON object with a profile: {exc}") from exc
        if named:
            return get_profile(str(named))
    return get_profile("core")


def import_registry(
    db_url: str | DatabaseURL | None,
    path: str | Path,
    profile: str | None = None,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the extract in ``path`` and make it the registry of ``db_url``.

    Raises :class:`ImportRejected` (after writing ``rejects_path`` when given) if a
    rule is broken and ``skip_invalid`` is false, or if a whole table is unusable.
    """
    import duckdb

    url = db_url if isinstance(db_url, DatabaseURL) else resolve_db(db_url)
    source = Path(path).resolve()
    prof = profile_for(source, profile)
    tables = prof.tables()
    rejects = Path(rejects_path) if rejects_path is not None else None
    total = 2 * len(tables) + 2
    step = _Stepper(progress, total)

    staging = duckdb.connect(":memory:")
    target: _Target | None = None
    try:
        target = _Target.open(url, staging)
        rejected = _stage_and_validate(staging, source, prof, tables, skip_invalid, step)
        fatal = any(r.row is None for r in rejected) or (rejected and not skip_invalid)
        if rejected and rejects is not None:
            _write_rejects(staging, rejects)
        if fatal:
            raise ImportRejected(
                rejected,
                f"{len(rejected)} rejection(s) in {source}; nothing was imported"
                + (f"; all are listed in {rejects}" if rejects else ""),
            )
        for t in tables:
            create_clean(staging, t)
        digest = content_hash(staging, tables, prof.name, "clean_")
        step("hashing content")
        report = ImportReport(
            "imported",
            prof.name,
            str(source),
            digest.digest,
            0,
            digest.row_counts,
            rejected,
            rejects if rejected else None,
        )
        current = target.current()
        if current is not None and current.content_hash == digest.digest:
            report.status = "unchanged"
            report.snapshot_id = current.snapshot_id
            step("unchanged", done=total)
            return report
        report.snapshot_id = target.replace(tables, digest, prof.name, str(source), step)
        return report
    finally:
        if target is not None:
            target.close()
        staging.close()


class _Stepper:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, what: str, done: int | None = None) -> None:
        self.done = done if done is not None else self.done + 1
        if self.progress is not None:
            self.progress(what, self.done, self.total)


def _stage_and_validate(
    staging: Any,
    source: Path,
    profile: Profile,
    tables: tuple[Table, ...],
    skip_invalid: bool,
    step: _Stepper,
) -> list[Rejection]:
    """Load and check every table; return every rejection (also left in ``rejections``)."""
    sources, table_level = find_sources(source, tables)
    loaded: list[str] = []
    for t in tables:
        if t.name in sources:
            problem = load_source(staging, sources[t.name])
            problems = [problem] if problem else column_rejections(staging, t, sources[t.name])
            table_level += problems
            if not problems:
                loaded.append(t.name)
        step(f"reading {t.name}")
    staging.execute(REJECTIONS_DDL)
    validate(staging, tables, profile, loaded)
    if skip_invalid and not table_level:
        cascade(staging, tables, loaded)
    if table_level:
        staging.executemany(
            "INSERT INTO rejections VALUES (?, ?, ?, ?, ?)",
            [(r.table, r.row, r.column, r.value, r.rule) for r in table_level],
        )
    step("validating")
    order = ", ".join(f"({quote_literal(t.name)}, {i})" for i, t in enumerate(tables))
    staging.execute(
        "CREATE OR REPLACE TABLE rejections AS SELECT DISTINCT r.* FROM rejections r "
        f"LEFT JOIN (VALUES {order}) o(tbl, n) USING (tbl) "
        "ORDER BY o.n NULLS LAST, r.tbl, r.row NULLS FIRST, r.col, r.rule"
    )
    rows = staging.execute("SELECT tbl, row, col, value, rule FROM rejections").fetchall()
    return [Rejection(t, None if r is None else int(r), c, v, rule) for t, r, c, v, rule in rows]


def _write_rejects(staging: Any, path: Path) -> None:
    """Every rejection, in table and row order: CSV, or JSONL for a ``.jsonl`` name."""
    if not path.parent.exists():
        raise ConfigError(f"--rejects {path}: folder {path.parent} does not exist")
    options = "FORMAT json" if path.suffix == ".jsonl" else "FORMAT csv, HEADER true"
    staging.execute(
        'COPY (SELECT tbl AS "table", row, col AS "column", value, rule FROM rejections) '
        f"TO {quote_literal(str(path))} ({options})"
    )


class _Target:
    """Where the registry goes: an attached DuckDB file or a PostgreSQL database."""

    def __init__(self, url: DatabaseURL, staging: Any, pg: Any = None) -> None:
        self.url, self.staging, self.pg = url, staging, pg

    @classmethod
    def open(cls, url: DatabaseURL, staging: Any) -> _Target:
        if not url.is_duckdb:
            from amnesty.registry.postgres import connect

            return cls(url, staging, connect(url))
        attach_duckdb(staging, url, "target")
        return cls(url, staging)

    def close(self) -> None:
        if self.pg is not None and not self.pg.closed:
            self.pg.close()

    def current(self) -> Any:
        if self.pg is not None:
            return current_snapshot(self.pg)
        return current_snapshot(self.staging, "target.")

    def replace(
        self,
        tables: tuple[Table, ...],
        digest: ContentHash,
        profile: str,
        source: str,
        step: _Stepper,
    ) -> int:
        stamp = dt.datetime.now(dt.UTC)
        if self.pg is not None:
            from amnesty.registry.postgres import replace_registry

            return replace_registry(
                self.pg, self.staging, tables, digest, profile, source, stamp, step
            )
        return _replace_duckdb(self.staging, tables, digest, profile, source, stamp, step)


def attach_duckdb(conn: Any, url: DatabaseURL, alias: str) -> None:
    """ATTACH the target DuckDB file, with a clear message when another process holds it."""
    import duckdb

    if url.target != ":memory:":
        parent = Path(url.target).parent
        if not parent.exists():
            raise ConfigError(f"--db {url.target}: folder {parent} does not exist")
    try:
        conn.execute(f"ATTACH {quote_literal(url.target)} AS {alias}")
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise ConfigError(
                f"database busy: {url.target} is open for writing in another process; "
                "wait for it to finish or use PostgreSQL for several users"
            ) from exc
        raise ConfigError(f"cannot open {url.target}: {exc}") from exc


def _replace_duckdb(
    staging: Any,
    tables: tuple[Table, ...],
    digest: ContentHash,
    profile: str,
    source: str,
    stamp: dt.datetime,
    step: _Stepper,
) -> int:
    """One transaction on the attached file: new registry tables plus the snapshot row."""
    staging.execute("BEGIN TRANSACTION")
    try:
        for t in tables:
            # Dropped and created anew: a different profile may bring other columns.
            staging.execute(f"DROP TABLE IF EXISTS target.{t.name}")
            staging.execute(table_ddl(t, "duckdb", "target."))
            staging.execute(f"INSERT INTO target.{t.name} SELECT * FROM clean_{t.name}")
            step(f"writing {t.name}")
        snapshot_id = record_snapshot(staging, "target.", digest, profile, source, stamp)
        staging.execute("COMMIT")
    except BaseException:
        staging.execute("ROLLBACK")
        raise
    return snapshot_id
