"""``import_registry``: validate a registry extract, then replace the registry in one
transaction and record its snapshot, or write nothing at all.

Validation always runs in an in-memory DuckDB staging area of the database handle
(:mod:`amnesty.store.staging`; :mod:`sources` loads the files as text,
:mod:`validate` applies every rule as set-based SQL). Only when it passes (or
``skip_invalid`` drops the rejected rows) does anything touch the target, in one
write transaction of the handle: the profile's attribute columns are brought in
line with the profile (the core tables and ``registry_snapshots`` are the store's
migration 0010's), each table is emptied and filled from staging, and the snapshot
is recorded with the profile's content hash and document. docs/registry.md,
"Tables and migrations", says why.

Rows amnesty itself added since the last import (derived snapshots, written by
:func:`amnesty.registry.snapshot.advance_snapshot` when releases are executed) are
not in the extract. Replacing the registry would silently drop them, so the import
is refused unless the caller says what to do: ``keep_amnesty_events`` re-appends
them on top of the new extract (skipping keys the extract already has) and records
a derived snapshot for them; ``discard_amnesty_events`` drops them, and the report
lists them for the workflow to audit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amnesty.errors import ConfigError, ImportRejected, RegistryError, Rejection
from amnesty.registry.profiles import Profile, get_profile
from amnesty.registry.schema import Table
from amnesty.registry.snapshot import (
    SNAPSHOTS,
    ContentHash,
    Derived,
    Snapshot,
    content_hash,
    current_snapshot,
    derived_since_import,
    last_import,
    record_derived,
    record_snapshot,
)
from amnesty.registry.sources import (
    column_rejections,
    find_sources,
    load_source,
    quote_ident,
    quote_literal,
)
from amnesty.registry.validate import (
    REJECTIONS_DDL,
    cascade,
    create_clean,
    typed_expr,
    validate,
)
from amnesty.store.database import Database
from amnesty.store.db import DatabaseURL
from amnesty.store.driver import Sql
from amnesty.store.staging import Staging, staging_area
from amnesty.store.transaction import Transaction, transaction

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as the import moves on."""

Audit = Callable[[Transaction, "ImportReport"], None]
"""``audit(tx, report)``: called inside the write transaction, after the snapshot is
recorded, so that the import and its audit event commit together."""

SHOWN_REJECTIONS = 5


@dataclass
class ImportReport:
    status: str  # "imported" or "unchanged"
    profile: str
    profile_hash: str
    source: str
    content_hash: str
    snapshot_id: int
    row_counts: dict[str, int]
    rejections: list[Rejection] = field(default_factory=list)
    rejects_path: Path | None = None
    # Rows amnesty had added since the previous import: (table, key) pairs.
    kept: list[tuple[str, str]] = field(default_factory=list)  # re-appended
    already_in_extract: list[tuple[str, str]] = field(default_factory=list)  # kept, not re-added
    discarded: list[tuple[str, str]] = field(default_factory=list)  # dropped on request

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
    db: Database | str | DatabaseURL | None,
    path: str | Path,
    profile: str | None = None,
    skip_invalid: bool = False,
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
    keep_amnesty_events: bool = False,
    discard_amnesty_events: bool = False,
    *,
    actor: str = "",
    audit: Audit | None = None,
) -> ImportReport:
    """Validate the extract in ``path`` and make it the registry of ``db``.

    ``db`` is the caller's :class:`Database` handle, left open; given a URL instead, the
    import opens (and migrates) the database itself and closes it at the end.
    ``audit`` writes the import's audit event in its write transaction (as ``actor``).

    Raises :class:`ImportRejected` (after writing ``rejects_path`` when given) if a
    rule is broken and ``skip_invalid`` is false, or if a whole table is unusable.
    Raises :class:`RegistryError` if amnesty added rows since the last import
    (derived snapshots) and neither ``keep_amnesty_events`` nor
    ``discard_amnesty_events`` says what to do with them.
    """
    if keep_amnesty_events and discard_amnesty_events:
        raise ConfigError("--keep-amnesty-events and --discard-amnesty-events exclude each other")
    if isinstance(db, Database):
        return _import(db, path, profile, skip_invalid, rejects_path, progress,
                       keep_amnesty_events, discard_amnesty_events, actor, audit)  # fmt: skip
    handle = Database.open(db)
    try:
        return _import(handle, path, profile, skip_invalid, rejects_path, progress,
                       keep_amnesty_events, discard_amnesty_events, actor, audit)  # fmt: skip
    finally:
        handle.close()  # opened here, so closed here: the file is free for others again


def _import(
    db: Database,
    path: str | Path,
    profile: str | None,
    skip_invalid: bool,
    rejects_path: str | Path | None,
    progress: Progress | None,
    keep_amnesty_events: bool,
    discard_amnesty_events: bool,
    actor: str,
    audit: Audit | None,
) -> ImportReport:
    source = Path(path).resolve()
    prof = profile_for(source, profile)
    tables = prof.tables()
    rejects = Path(rejects_path) if rejects_path is not None else None
    total = 2 * len(tables) + 2
    step = _Stepper(progress, total)

    with staging_area(db) as area, db.connect() as conn:
        staging = area.conn
        pending = derived_since_import(conn)
        base_import = last_import(conn)
        current = current_snapshot(conn)
        conn.rollback()  # end the read; the write below takes its own transaction
        conn.close()
        if pending and not (keep_amnesty_events or discard_amnesty_events):
            raise RegistryError(_pending_message(pending, base_import))
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
        _create_clean(staging, tables)
        digest = content_hash(staging, tables, prof.name, "clean_")
        step("hashing content")
        report = ImportReport(
            "imported",
            prof.name,
            prof.content_hash,
            str(source),
            digest.digest,
            0,
            digest.row_counts,
            rejected,
            rejects if rejected else None,
        )
        base = base_import if pending else current
        same = base is not None and base.content_hash == digest.digest
        if current is not None and same and (not pending or keep_amnesty_events):
            # The same extract again; any rows amnesty added stay as they are.
            report.status = "unchanged"
            report.snapshot_id = current.snapshot_id
            step("unchanged", done=total)
            return report
        kept: list[_Kept] = []
        if pending and keep_amnesty_events:
            kept = _stage_kept(staging, tables, pending)
            report.kept = [(k.table, key) for k in kept for key in k.keys]
            report.already_in_extract = [(k.table, key) for k in kept for key in k.present]
        elif pending:
            report.discarded = [
                (d.table, key) for d in pending for key in _keys(tables, d.table, d.rows)
            ]
            _refuse_discarding_standing_releases(db, report.discarded)
        write = _Write(
            digest,
            prof,
            str(source),
            dt.datetime.now(dt.UTC),
            [d.snapshot_id for d in pending],
            kept,
        )
        entity = ("registry", str(source))
        with transaction(db, actor, action="registry.import", entity=entity) as tx:
            report.snapshot_id = _replace(tx.connection, area, tables, write, current, step)
            if audit is not None:
                audit(tx, report)
        area.analyze([t.name for t in tables])
        return report


def _create_clean(staging: Any, tables: tuple[Table, ...]) -> None:
    """``clean_<table>`` for each table (:func:`validate.create_clean`), except that a
    table none of whose rows was rejected is a plain projection of ``typed_<table>``:
    the anti-join against ``rejections`` would reorder the rows, and in file order
    (usually key order) the content hash needs no sort and the written table keeps
    the order it was extracted in."""
    rejected = {
        str(r[0])
        for r in staging.execute(
            "SELECT DISTINCT tbl FROM rejections WHERE row IS NOT NULL"
        ).fetchall()
    }
    for t in tables:
        if t.name in rejected:
            create_clean(staging, t)
        else:
            cols = ", ".join(quote_ident(c.name) for c in t.columns)
            staging.execute(
                f"CREATE OR REPLACE VIEW clean_{t.name} AS SELECT {cols} FROM typed_{t.name}"
            )


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
            problem = load_source(staging, sources[t.name], t)
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
    """Every rejection, in table and row order: CSV, or JSONL for a ``.jsonl`` name.

    Written to a fresh file created 0600 beside ``path`` and renamed over it: the list
    holds the extract's values (personal data), and an earlier file of the same name,
    whatever its permissions, is replaced whole, never rewritten in place."""
    if not path.parent.exists():
        raise ConfigError(f"--rejects {path}: folder {path.parent} does not exist")
    options = "FORMAT json" if path.suffix == ".jsonl" else "FORMAT csv, HEADER true"
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)  # mkstemp made it 0600; DuckDB writes into it and keeps the mode
    try:
        staging.execute(
            'COPY (SELECT tbl AS "table", row, col AS "column", value, rule FROM rejections) '
            f"TO {quote_literal(name)} ({options})"
        )
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def _replace(
    conn: Any,
    area: Staging,
    tables: tuple[Table, ...],
    write: _Write,
    current: Snapshot | None,
    step: _Stepper,
) -> int:
    """Inside the write transaction: the registry tables' rows replaced by the staged
    ones, then the snapshot(s); the new import snapshot's id."""
    write.begin(conn)
    previous = _recorded_profile(current)
    for t in tables:
        _align_columns(conn, t, previous)
        conn.exec_driver_sql(f"TRUNCATE {t.name}")
        area.load(conn, t.name, t.column_names, f"clean_{t.name}")
        step(f"writing {t.name}")

    def append(k: _Kept) -> None:
        cols = _table_named(tables, k.table).column_names
        area.load(conn, k.table, cols, f"kept_{k.table}", "ORDER BY __order")

    return write.finish(conn, append)


def _recorded_profile(current: Snapshot | None) -> Profile | None:
    """The profile the registry now in the database was imported under, if known."""
    if current is None:
        return None
    try:
        return current.profile_object()
    except ConfigError:  # an old snapshot whose profile file is gone
        return None


def _align_columns(conn: Any, table: Table, previous: Profile | None) -> None:
    """Give ``table`` exactly this profile's columns: the core ones are the migration's;
    an attribute column the profile no longer declares is dropped, one it declares is
    added from its SQLAlchemy type, and one whose type changed (by the profile recorded
    with the current snapshot; any, when that is unknown) is dropped and added again.
    The table is emptied after this, so no value is converted; only an import whose
    profile differs from the last one's changes anything here."""
    from amnesty.registry.schema import CORE_TABLES, sqlalchemy_type

    core = next(t for t in CORE_TABLES if t.name == table.name).column_names
    present = [
        str(r[0])
        for r in conn.exec_driver_sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            f"{quote_literal(table.name)} AND table_schema = current_schema() "
            "AND table_catalog = current_database() ORDER BY ordinal_position"
        )
    ]
    before: dict[str, str] = {}
    if previous is not None:
        try:
            before = {c.name: c.type for c in previous.table(table.name).columns}
        except KeyError:
            before = {}
    wanted = {c.name: c for c in table.columns if c.name not in core}
    for name in present:
        if name in core:
            continue
        if name not in wanted or before.get(name) != wanted[name].type:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} DROP COLUMN {quote_ident(name)}")
    kept = {
        name
        for name in present
        if name in core or (name in wanted and before.get(name) == wanted[name].type)
    }
    for name, column in wanted.items():
        if name not in kept:
            kind = sqlalchemy_type(column.type).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {quote_ident(name)} {kind}")


@dataclass
class _Kept:
    """Rows amnesty added to one table, staged as ``kept_<table>`` for re-appending."""

    table: str
    keys: list[str]  # re-appended, in the order they were first added
    encoded: list[str]  # their canonical encodings, same order
    present: list[str]  # keys the new extract already has: not re-appended


@dataclass
class _Write:
    """What one import writes, besides the registry tables themselves."""

    digest: ContentHash
    profile: Profile
    source: str
    stamp: dt.datetime
    pending: list[int]  # derived snapshot ids seen before the write
    kept: list[_Kept]

    def begin(self, conn: Any) -> None:
        """First thing in the write transaction: lock, and make sure no rows were
        added by amnesty since ``pending`` was read (they would be lost)."""
        Sql(conn).lock(SNAPSHOTS)
        now = [d.snapshot_id for d in derived_since_import(conn)]
        if now != self.pending:
            raise RegistryError(
                "amnesty recorded new registry rows while this import was running "
                f"(derived snapshots {_ids(now)}); nothing was imported: run the import again"
            )

    def finish(self, conn: Any, append: Callable[[_Kept], None]) -> int:
        """After the tables: the import snapshot, then the kept rows and their snapshot."""
        from amnesty.registry.profiles import stored_document

        snapshot_id = record_snapshot(
            conn,
            "",
            self.digest,
            self.profile.name,
            self.source,
            self.stamp,
            self.profile.content_hash,
            stored_document(self.profile),
        )
        for k in self.kept:
            if not k.keys:
                continue
            append(k)
            record_derived(
                Sql(conn),
                "",
                table=k.table,
                encoded=k.encoded,
                source=f"kept by import {snapshot_id}: {len(k.keys)} {k.table} row(s) "
                f"amnesty added in snapshots {_ids(self.pending)}",
                stamp=self.stamp,
            )
        return snapshot_id


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) or "none"


def _keys(tables: tuple[Table, ...], table: str, encoded: list[str]) -> list[str]:
    schema = _table_named(tables, table)
    i = schema.column_names.index(schema.key)
    return [str(json.loads(e)[i]) for e in encoded]


def _table_named(tables: tuple[Table, ...], name: str) -> Table:
    for t in tables:
        if t.name == name:
            return t
    raise RegistryError(f"amnesty added rows to {name}, which this profile has no table for")


def _pending_message(pending: list[Derived], base: Any) -> str:
    """How many rows amnesty wrote since the last import, to which tables, for which runs."""
    counts: dict[str, int] = {}
    runs: list[str] = []
    profile = _recorded_profile(base)
    for d in pending:
        counts[d.table] = counts.get(d.table, 0) + len(d.rows)
        if profile is None:
            continue
        names = profile.table(d.table).column_names
        if "run_id" in names:
            i = names.index("run_id")
            for e in d.rows:
                run = json.loads(e)[i]
                if run is not None and run not in runs:
                    runs.append(run)
    what = ", ".join(f"{n} {t}" for t, n in counts.items())
    since = f" (snapshot {base.snapshot_id})" if base is not None else ""
    return (
        f"amnesty wrote {what} row(s) to the registry since the last import{since}, "
        f"by runs {', '.join(runs) or '(none named)'}, in derived snapshots "
        f"{_ids([d.snapshot_id for d in pending])}; this extract would replace them. "
        "Re-run with --keep-amnesty-events to re-append them on top of the extract, "
        "or --discard-amnesty-events to drop them; nothing was imported"
    )


def _refuse_discarding_standing_releases(db: Database, discarded: list[tuple[str, str]]) -> None:
    """Discarding a release's registry event would put its person back in custody while the
    release stands, so that the same decree could free them again (#9). Only the events of
    releases revoked first (``amnesty release revoke``) may be discarded."""
    with db.connect() as conn:
        standing = {
            f"{run}:{person}"
            for run, person in Sql(conn).rows(
                "SELECT r.run_id, r.person_id FROM releases r "
                "LEFT JOIN release_revocations v ON v.release_id = r.release_id "
                "WHERE v.release_id IS NULL"
            )
        }
    hit = sorted(
        key for table, key in discarded if table == "events" and key.rpartition(":")[0] in standing
    )
    if hit:
        shown = ", ".join(hit[:5]) + (" ..." if len(hit) > 5 else "")
        raise RegistryError(
            f"--discard-amnesty-events would drop the registry events of {len(hit)} standing "
            f"release(s) ({shown}); revoke those releases first (amnesty release revoke) or "
            "import with --keep-amnesty-events; nothing was imported"
        )


def _stage_kept(staging: Any, tables: tuple[Table, ...], pending: list[Derived]) -> list[_Kept]:
    """``kept_<table>``: the rows amnesty added, typed from their canonical text, without
    those the new extract already has by key; their references must resolve in it."""
    import pyarrow as pa

    by_table: dict[str, list[str]] = {}
    for d in pending:
        by_table.setdefault(d.table, []).extend(d.rows)
    out: list[_Kept] = []
    for name, encoded in by_table.items():
        schema = _table_named(tables, name)
        decoded = [json.loads(e) for e in encoded]
        if any(len(v) != len(schema.columns) for v in decoded):
            raise RegistryError(
                f"rows amnesty added to {name} do not have the columns of this profile's "
                f"{name} ({', '.join(schema.column_names)}); nothing was imported"
            )
        text = pa.table(
            {
                **{
                    c.name: pa.array([v[i] for v in decoded], pa.string())
                    for i, c in enumerate(schema.columns)
                },
                "__order": pa.array(range(len(decoded)), pa.int64()),
                "__encoded": pa.array(encoded, pa.string()),
            }
        )
        staging.register("kept_text", text)
        key = quote_ident(schema.key)
        cols = ", ".join(
            f"{typed_expr(c, quote_ident(c.name))} AS {quote_ident(c.name)}" for c in schema.columns
        )
        staging.execute(
            f"CREATE OR REPLACE TABLE kept_all_{name} AS SELECT {cols}, __order, __encoded "
            "FROM kept_text"
        )
        staging.unregister("kept_text")
        staging.execute(
            f"CREATE OR REPLACE TABLE kept_{name} AS SELECT * FROM kept_all_{name} "
            f"WHERE {key} NOT IN (SELECT {key} FROM clean_{name}) ORDER BY __order"
        )
        present = [
            str(r[0])
            for r in staging.execute(
                f"SELECT {key} FROM kept_all_{name} WHERE {key} IN "
                f"(SELECT {key} FROM clean_{name}) ORDER BY __order"
            ).fetchall()
        ]
        _check_kept_references(staging, schema, tables)
        rows = staging.execute(
            f"SELECT {key}, __encoded FROM kept_{name} ORDER BY __order"
        ).fetchall()
        out.append(_Kept(name, [str(r[0]) for r in rows], [r[1] for r in rows], present))
    return out


def _check_kept_references(staging: Any, schema: Table, tables: tuple[Table, ...]) -> None:
    names = {t.name for t in tables}
    for c in schema.columns:
        if c.references is None or c.references[0] not in names:
            continue
        ref_table, ref_col = c.references
        q, rq, key = quote_ident(c.name), quote_ident(ref_col), quote_ident(schema.key)
        dangling = staging.execute(
            f"SELECT {key}, {q} FROM kept_{schema.name} k WHERE {q} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM clean_{ref_table} r WHERE r.{rq} = k.{q}) ORDER BY __order"
        ).fetchall()
        if dangling:
            shown = "; ".join(f"{k} ({c.name} {v!r})" for k, v in dangling[:5])
            more = f" and {len(dangling) - 5} more" if len(dangling) > 5 else ""
            raise RegistryError(
                f"{len(dangling)} {schema.name} row(s) amnesty added refer to {ref_table} the "
                f"new extract does not have: {shown}{more}; nothing was imported. Correct the "
                "extract, or import with --discard-amnesty-events"
            )
