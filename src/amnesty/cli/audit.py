"""``amnesty audit verify|export|checkpoint``: the tamper-evident chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amnesty.audit.checkpoint import (
    DEFAULT_KEY_FILE,
    check_writable,
    read_checkpoint_file,
    read_public_key,
)
from amnesty.audit.log import create_checkpoint, export_chain
from amnesty.audit.verify import verify
from amnesty.cli.app import AsOption, DbOption, ForceOption, FormatOption, group
from amnesty.cli.output import Format, check_out, console, emit_rows, private_file, to_json
from amnesty.cli.session import acting_user, open_store
from amnesty.errors import AuditError, PermissionDenied

audit_app = group("audit", "Verify, export and checkpoint the audit chain.")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint file held outside the database."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="Trusted Ed25519 public key (hex or key file)."),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Recompute the chain; check determinations, releases and checkpoints against it."""
    url = open_store(db).url
    held = [read_checkpoint_file(p) for p in checkpoint or []]
    trusted = read_public_key(public_key) if public_key else None
    report = verify(url, checkpoints=held, trusted_key=trusted)
    if fmt in (Format.json, Format.jsonl):
        print(to_json(report.as_dict()))
    elif report.problems:
        emit_rows([{"where": p.where, "problem": p.what} for p in report.problems], fmt)
    if report.problems:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise AuditError(f"audit chain does not verify: {report.problems[0]}{more}")
    console(stderr=True).print(
        f"audit chain verifies: {report.events} events (head {report.head_seq} "
        f"{report.head_hash[:16]}…), {report.runs} runs, {report.releases} releases, "
        f"{report.checkpoints} checkpoints"
    )


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
    force: ForceOption = False,
    db: DbOption = None,
) -> None:
    """Write the chain as JSON Lines for an outside auditor (docs/workflow.md)."""
    check_out(out, force=force)
    store = open_store(db)
    with private_file(out, force=force):  # created 0600 (O_EXCL unless --force) before reading
        pass
    count = export_chain(store, out)
    console(stderr=True).print(f"wrote {count} events to {out}")


@audit_app.command("checkpoint")
def audit_checkpoint(
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help=f"Ed25519 key (PEM), created 0600 if absent; default {DEFAULT_KEY_FILE}."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the checkpoint file for the auditor."),
    ] = None,
    force: ForceOption = False,
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Sign the chain head (auditor or admin); keep the file and the public key apart."""
    url = open_store(db)
    actor = acting_user(as_user, url)
    if actor is None:
        raise PermissionDenied(
            "audit checkpoint needs an auditor or admin: amnesty login --as USER first"
        )
    key_path = key or Path(DEFAULT_KEY_FILE)
    if not key_path.exists():
        check_writable(key_path, "--key")
    from amnesty.audit.log import chain_head

    # the default name carries the head's number: known (and checked) before signing
    expected = out or Path(f"audit-checkpoint-{chain_head(url)[0]}.json")
    check_writable(expected, "--out")
    check_out(expected, force=force)
    cp = create_checkpoint(url, actor, key_path)
    target = out or Path(f"audit-checkpoint-{cp.seq}.json")
    with private_file(target, force=force) as handle:
        handle.write(to_json(cp.as_json()) + "\n")
    console(stderr=True).print(
        f"checkpoint at event {cp.seq} ({cp.hash[:16]}…) written to {target}; "
        f"public key {cp.public_key.hex()}"
    )
