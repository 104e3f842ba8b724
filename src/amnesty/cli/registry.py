"""``amnesty registry ...``: import and show a prison registry (``generate`` lives in
``registry_generate``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from amnesty.cli.app import AsOption, DbOption, FormatOption, group
from amnesty.cli.output import (
    Format,
    console,
    csv_cell,
    emit_document,
    emit_rows,
    private_file,
    progress_bar,
    to_json,
)
from amnesty.cli.session import acting_user, open_store
from amnesty.errors import ConfigError, ImportRejected
from amnesty.registry.importer import SHOWN_REJECTIONS, count_rejections
from amnesty.registry.show import registry_summary

registry_app = group("registry", "Generate, import and inspect a prison registry.")


def default_rejects(path: Path) -> Path:
    """Beside the extract folder, never inside it (it would read as an unknown table)."""
    resolved = path.resolve()
    return resolved.parent / f"{resolved.name}.rejects.csv"


REJECTS_COLUMNS = ("table", "row", "column", "value", "rule")


def check_rejects(path: Path) -> None:
    """Refuse, before the import, a ``--rejects`` path that cannot or must not be written.

    An earlier rejects list is replaced on every import, by design: re-importing after
    fixing the extract is the normal loop, and the list describes the latest import (a
    refusal would teach a reflex of deleting it, or of a flag that forces). Any other
    file is refused: ``--rejects persons.csv`` by a slip of the hand must not destroy the
    extract's own table. An import has no ``--force`` (it would read as forcing the
    import); the user names another file instead."""
    if path.is_dir():
        raise ConfigError(f"--rejects {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"--rejects {path}: folder {path.parent} does not exist; create it first")
    if (path.exists() or path.is_symlink()) and not _earlier_rejects(path):
        raise ConfigError(
            f"--rejects {path}: the file exists and is not an earlier rejects list; "
            "name another file (only a rejects list is replaced)"
        )


def _earlier_rejects(path: Path) -> bool:
    """Whether ``path`` is a rejects list amnesty wrote (its header, or a JSON line of
    its columns), or empty: a file whose replacing loses nothing an import did not make."""
    if path.is_symlink() or not path.is_file():
        return False  # a link may lead anywhere; what it leads to is not ours to replace
    with path.open("rb") as handle:
        first = handle.readline(4096).strip()
    if not first:
        return path.stat().st_size == 0
    if first == ",".join(REJECTS_COLUMNS).encode():
        return True
    try:
        row = json.loads(first)
    except ValueError:
        return False
    return isinstance(row, dict) and tuple(row) == REJECTS_COLUMNS


def neutralise_rejects(path: Path) -> None:
    """Rewrite the rejects CSV so that no cell runs in a spreadsheet.

    A rejected value is the extract's text, as hostile as the extract: a cell
    starting like a formula (``=HYPERLINK(...)``) gets a leading ``'``
    (:func:`amnesty.cli.output.csv_cell`); a cell that reads as a number is left
    alone. The file stays 0600."""
    import csv

    if not path.is_file() or path.suffix.lower() != ".csv":
        return
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with private_file(path, force=True) as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow([cell if _is_number(cell) else csv_cell(cell) for cell in row])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@registry_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="Folder of <table>.parquet|csv|jsonl files.")],
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Profile; default manifest.json's, else core."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows; list the rest in --rejects."),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Where every rejection goes; default <PATH>.rejects.csv."),
    ] = None,
    keep_events: Annotated[
        bool,
        typer.Option(
            "--keep-amnesty-events",
            help="Re-append the events amnesty wrote since the last import (releases...) "
            "on top of this extract.",
        ),
    ] = False,
    discard_events: Annotated[
        bool,
        typer.Option(
            "--discard-amnesty-events",
            help="Drop the events amnesty wrote since the last import.",
        ),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    as_user: AsOption = None,
) -> None:
    """Validate a registry extract and make it the registry, atomically. Once the
    database has users, only an admin imports; every import is audited."""
    if keep_events and discard_events:
        raise typer.BadParameter("give --keep-amnesty-events or --discard-amnesty-events, not both")
    from amnesty.workflow.registry_import import import_as
    from amnesty.workflow.users import list_users

    rejects_path = rejects or default_rejects(path)
    check_rejects(rejects_path)  # before the database is opened or the extract read
    store = open_store(db, create=True)
    actor = acting_user(as_user, store) if list_users(store) else None
    try:
        with progress_bar(fmt, "importing") as progress:
            report = import_as(
                store,
                actor,
                path,
                profile=profile,
                skip_invalid=skip_invalid,
                rejects_path=rejects_path,
                progress=progress,
                keep_amnesty_events=keep_events,
                discard_amnesty_events=discard_events,
            )
    except ImportRejected as exc:
        neutralise_rejects(rejects_path)
        _print_rejections(exc, fmt)
        raise
    finally:
        # The command owns the handle: done with it, release its pooled connections (on
        # DuckDB, the file), so that a later reader in this process may open it read-only.
        store.close()
    if report.rejects_path:
        neutralise_rejects(Path(report.rejects_path))
    doc = {
        "status": report.status,
        "profile": report.profile,
        "source": report.source,
        "snapshot_id": report.snapshot_id,
        "content_hash": report.content_hash,
        "row_counts": report.row_counts,
        "rejected": len(report.rejections),
        "rejects_file": str(report.rejects_path) if report.rejects_path else None,
        "amnesty_rows_kept": len(report.kept),
        "amnesty_rows_already_in_extract": len(report.already_in_extract),
        "amnesty_rows_discarded": [{"table": t, "key": k} for t, k in report.discarded],
    }
    if fmt in (Format.json, Format.jsonl):
        print(to_json(doc))
    else:
        verb = "Unchanged" if report.status == "unchanged" else "Imported"
        console().print(
            f"{verb}: registry snapshot {report.snapshot_id} ({report.profile}), "
            f"hash {report.content_hash}"
        )
        rows = [{"table": t, "rows": n} for t, n in report.row_counts.items()]
        emit_rows(rows, fmt)
    if report.kept or report.already_in_extract:
        print(
            f"Kept {len(report.kept)} row(s) amnesty had added since the last import "
            f"({len(report.already_in_extract)} more were already in the extract)",
            file=sys.stderr,
        )
    if report.discarded:
        print(
            f"Warning: discarded {len(report.discarded)} row(s) amnesty had added since the "
            "last import: "
            + ", ".join(k for _, k in report.discarded[:5])
            + (" ..." if len(report.discarded) > 5 else ""),
            file=sys.stderr,
        )
    if report.rejections:
        print(
            f"Warning: skipped {len(report.rejections)} rejected row(s); "
            f"all are listed in {report.rejects_path}",
            file=sys.stderr,
        )


REGISTRY_TABLES = {
    "snapshot": "The current snapshot",
    "tables": "Rows by table",
    "by_facility": "Persons held by facility type and authority",
    "by_province": "Persons held by province",
}


@registry_app.command("show")
def show_command(
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    table_name: Annotated[
        str | None,
        typer.Option(
            "--table",
            help="Only this table: snapshot, tables, by_facility or by_province. CSV holds "
            "one table: --format csv writes this one (default tables).",
        ),
    ] = None,
) -> None:
    """Counts by table, facility type and authority, province; the current snapshot."""
    if table_name is not None and table_name not in REGISTRY_TABLES:
        raise typer.BadParameter(
            f"{table_name!r}: expected one of {', '.join(REGISTRY_TABLES)}",
            param_hint="--table",
        )
    doc = registry_summary(db)
    if fmt in (Format.json, Format.jsonl):
        print(to_json(doc))
        return
    doc = {**doc, "snapshot": [doc["snapshot"]]}
    if fmt is Format.csv or table_name is not None:
        wanted = table_name or "tables"
        emit_document(doc, fmt, tables=((wanted, REGISTRY_TABLES[wanted]),))
        return
    snap = doc["snapshot"][0]
    console().print(
        f"Registry snapshot {snap['snapshot_id']} (profile {snap['profile']}, profile hash "
        f"{snap['profile_hash']}), "
        f"hash {snap['content_hash']}, imported {snap['imported_at']} from {snap['source']}"
    )
    emit_document(
        doc,
        fmt,
        tables=tuple((k, v) for k, v in REGISTRY_TABLES.items() if k != "snapshot"),
    )


def _print_rejections(exc: ImportRejected, fmt: Format) -> None:
    """The summary on stderr: counts per table and rule, then the first few."""
    err = console(stderr=True)
    counts = count_rejections(exc.rejections)
    if fmt in (Format.json, Format.jsonl):
        print(
            to_json(
                {
                    "status": "rejected",
                    "rejected": len(exc.rejections),
                    "counts": [{"table": t, "rule": r, "count": n} for t, r, n in counts],
                    "first": [vars(r) for r in exc.rejections[:SHOWN_REJECTIONS]],
                }
            )
        )
        return
    err.print("Rejections by table and rule:", markup=False)
    for table, rule, n in counts:
        err.print(f"  {table:<20} {rule:<26} {n}", markup=False)
    err.print(f"First {min(SHOWN_REJECTIONS, len(exc.rejections))}:", markup=False)
    for r in exc.rejections[:SHOWN_REJECTIONS]:
        err.print(f"  {r}", markup=False)
