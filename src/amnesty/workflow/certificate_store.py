"""Certificates from the store: gather a release's facts, render, record the file.

The certificate number was allocated with the release; printing (again) only
renders the PDF, writes it and records its path and sha256 on the
``certificates`` row with an audit event, so a printed file can be matched to
what was issued. A file already there is replaced only when asked (``--force``),
and then its record follows it: the file written is the file whose hash is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError, WorkflowError
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import certificates, determinations, release_revocations, releases
from amnesty.store.transaction import transaction
from amnesty.workflow.casefiles import (
    clause_text,
    decree_for_run,
    determinations_where,
    run_info,
    undertaking_text,
)
from amnesty.workflow.certificates import (
    CertificateData,
    DecreePart,
    FacilityPart,
    Ground,
    PersonPart,
    SignedUndertaking,
    pdf_name,
    render_batch,
    render_certificate,
)
from amnesty.workflow.execution import undertakings_of
from amnesty.workflow.users import Role, require

PRINTERS = (Role.facility_officer, Role.approver, Role.admin)


def certificate_data(conn: Connection, release_id: int) -> CertificateData:
    """Everything the certificate of one release prints, read from the store and registry."""
    return certificates_data(conn, [release_id])[release_id]


def certificates_data(conn: Connection, release_ids: list[int]) -> dict[int, CertificateData]:
    """:func:`certificate_data` for many releases, with a few queries per 5,000 of them."""
    found: dict[int, CertificateData] = {}
    for start in range(0, len(release_ids), 5000):
        found.update(_certificates_data(conn, release_ids[start : start + 5000]))
    missing = [r for r in release_ids if r not in found]
    if missing:
        raise ConfigError(f"no release {missing[0]}")
    return found


def _certificates_data(conn: Connection, ids: list[int]) -> dict[int, CertificateData]:
    rows = conn.execute(sa.select(releases).where(releases.c.release_id.in_(ids))).mappings().all()
    people = sorted({r["person_id"] for r in rows})
    places = sorted({r["facility_id"] for r in rows})
    persons = _by_key(
        conn,
        "SELECT person_id, name, name_romanised, birth_date FROM persons WHERE person_id IN :keys",
        people,
    )
    facilities = _by_key(
        conn,
        "SELECT facility_id, name, name_romanised FROM facilities WHERE facility_id IN :keys",
        places,
    )
    ends = {
        (r[0], r[1]): r[2]
        for r in conn.execute(
            sa.text(
                "SELECT run_id, person_id, new_end_date FROM events WHERE person_id IN :keys "
                "AND event_type = 'commutation'"
            ).bindparams(sa.bindparam("keys", expanding=True)),
            {"keys": people},
        ).all()
    }
    found: dict[int, CertificateData] = {}
    for run_id in sorted({r["run_id"] for r in rows}):
        run = run_info(conn, run_id)
        decree = decree_for_run(conn, run)
        mine = [r for r in rows if r["run_id"] == run_id]
        stored = {
            d.person_id: d
            for d in determinations_where(
                conn, run_id, determinations.c.person_id.in_([r["person_id"] for r in mine])
            )
        }
        signed_by = undertakings_of(conn, run_id, [r["person_id"] for r in mine])
        for row in mine:
            found[row["release_id"]] = _certificate(
                row, run, decree, persons, facilities, ends, stored, signed_by
            )
    return found


def _by_key(conn: Connection, query: str, keys: list[str]) -> dict[str, Any]:
    statement = sa.text(query).bindparams(sa.bindparam("keys", expanding=True))
    return {r[0]: r for r in conn.execute(statement, {"keys": keys}).all()} if keys else {}


def _certificate(
    row: Any,
    run: Any,
    decree: Any,
    persons: dict[str, Any],
    facilities: dict[str, Any],
    ends: dict[tuple[str, str], Any],
    stored: dict[str, Any],
    signed_by: dict[str, dict[str, dict[str, Any]]],
) -> CertificateData:
    person_id, facility_id = row["person_id"], row["facility_id"]
    person, facility = persons.get(person_id), facilities.get(facility_id)
    determination = stored[person_id]
    signed = signed_by.get(person_id, {})
    return CertificateData(
        number=row["certificate_no"],
        decree=DecreePart(
            id=decree.id,
            title=decree.title,
            content_hash=run.decree_hash,
            authority=decree.authority,
            signed=decree.signed.isoformat() if decree.signed else None,
        ),
        person=PersonPart(
            id=person_id,
            name=person[1] if person else person_id,
            name_romanised=person[2] if person else "",
            birth_date=_iso(person[3]) if person else None,
        ),
        facility=FacilityPart(
            facility_id, facility[1] if facility else facility_id, facility[2] if facility else ""
        ),
        relief=row["relief"],
        release_date=row["release_date"].isoformat(),
        run_id=run.run_id,
        executed_by=row["executed_by"],
        issued_on=row["executed_at"].date().isoformat(),
        grounds=tuple(Ground(g, clause_text(decree, g)) for g in determination.grounds),
        undertakings=tuple(
            SignedUndertaking(
                u,
                undertaking_text(decree, u),
                _iso(signed[u]["signed_on"]) or "",
                signed[u]["witness"] or "",
            )
            for u in determination.undertakings
            if u in signed and signed[u]["status"] == "signed"
        ),
        return_date=_iso(row["return_date"]),
        new_end_date=_iso(ends.get((run.run_id, person_id))),
        override_reason=row["override_reason"],
    )


def print_certificates(
    url: Database,
    actor: str,
    out_dir: Path,
    *,
    run_id: str | None = None,
    person_id: str | None = None,
    facility_id: str | None = None,
    roster_id: int | None = None,
    replace: bool = False,
) -> list[Path]:
    """Write one PDF per release (``--person``) or one batch per facility (``--facility``,
    or ``--roster``: the roster's releases in one batch).

    Revoked releases are not printed. A PDF already in ``out_dir`` under a name this
    print would write is refused, before anything is rendered, unless ``replace``
    (``--force``); ``out_dir`` is created (0700) if missing, its parent must exist.
    The files are written 0600 and put in place inside the transaction that records
    their path and sha256, so the record and the files change together or not at all.
    """
    db = as_database(url)
    query = (
        sa.select(releases.c.release_id, releases.c.facility_id, releases.c.person_id)
        .outerjoin(release_revocations, release_revocations.c.release_id == releases.c.release_id)
        .where(release_revocations.c.release_id.is_(None))
        .order_by(releases.c.certificate_no)
    )
    if run_id:
        query = query.where(releases.c.run_id == run_id)
    if person_id:
        query = query.where(releases.c.person_id == person_id)
    if facility_id:
        query = query.where(releases.c.facility_id == facility_id)
    if roster_id is not None:
        query = query.where(releases.c.roster_id == roster_id)
    with get_engine(db).connect() as conn:
        chosen = conn.execute(query).all()
        if not chosen:
            raise ConfigError("no (unrevoked) release matches; nothing to print")
        data = certificates_data(conn, [r[0] for r in chosen])
    facilities = sorted({r[1] for r in chosen})
    for fac in facilities:
        require(
            db, actor, PRINTERS, facility=fac, action="certificate.print", entity=("facility", fac)
        )
    # Which file holds which certificates is known before anything is rendered.
    planned: list[tuple[Path, list[tuple[int, CertificateData]]]] = []
    one_each = bool(person_id) or not (facility_id or roster_id is not None)
    if one_each:
        for release_id, cert in data.items():
            planned.append((out_dir / pdf_name(cert.number), [(release_id, cert)]))
    else:
        suffix = f"roster-{roster_id}" if roster_id is not None else "batch"
        for fac in facilities:
            members = [(r, c) for r, c in data.items() if c.facility.id == fac]
            name = f"{members[0][1].decree.id}-{fac}-{suffix}"
            planned.append((out_dir / pdf_name(name), members))
    check_targets(out_dir, [path for path, _m in planned], replace=replace)
    rendered: list[tuple[Path, bytes, list[tuple[int, CertificateData]]]] = []
    for path, members in planned:
        certs = [c for _r, c in members]
        pdf = render_certificate(certs[0]) if one_each else render_batch(certs[0].facility, certs)
        rendered.append((path, pdf, members))
    out_dir.mkdir(mode=0o700, exist_ok=True)
    _record(db, actor, rendered, replace=replace)
    return [path for path, _pdf, _m in rendered]


def check_targets(out_dir: Path, paths: list[Path], *, replace: bool) -> None:
    """Refuse, before any rendering, a print that would silently replace a file: an
    existing PDF of the same name (unless ``replace``), a folder in its place, a file
    in the folder's place, a missing parent folder (a typo is not created)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: is a file; give a folder")
    if not out_dir.exists() and not out_dir.parent.is_dir():
        raise ConfigError(
            f"--out {out_dir}: folder {out_dir.parent} does not exist; create it first"
        )
    if len(set(paths)) != len(paths):
        raise WorkflowError(f"--out {out_dir}: two certificates would have the same file name")
    folders = [p for p in paths if p.is_dir()]
    if folders:
        raise ConfigError(f"--out {folders[0]}: is a folder; a certificate PDF goes there")
    existing = [p for p in paths if p.exists() or p.is_symlink()]
    if existing and not replace:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ConfigError(
            f"--out {existing[0]}: the certificate file exists{more}; give --force to replace it"
        )


def _record(
    db: Database,
    actor: str,
    rendered: list[tuple[Path, bytes, list[tuple[int, CertificateData]]]],
    *,
    replace: bool,
) -> None:
    """Store where each certificate was printed, one audit event each, and put the files
    in place in the same transaction: the record and the files change together.

    A replaced file may have held other certificates than this print's (a facility's
    batch printed again for another run, a release revoked since): their record would
    name a file that no longer holds them, so it is cleared, with an event each."""
    with (
        _Placing(rendered, replace=replace) as placing,
        transaction(db, actor, action="certificate.print", entity=("certificate", "")) as tx,
    ):
        conn = tx.connection
        printed = [
            (release_id, cert.number, path, digest)
            for path, digest, members in placing.digests
            for release_id, cert in members
        ]
        numbers = [number for _r, number, _p, _d in printed]
        before = {
            row[0]: row
            for start in range(0, len(numbers), 5000)
            for row in conn.execute(
                sa.select(
                    certificates.c.certificate_no, certificates.c.path, certificates.c.sha256
                ).where(certificates.c.certificate_no.in_(numbers[start : start + 5000]))
            ).all()
        }
        audits = _clear_replaced(conn, placing.replaced, set(numbers))
        by_file: dict[tuple[str, str], list[str]] = {}
        for _r, number, path, digest in printed:
            by_file.setdefault((str(path), digest), []).append(number)
        for (path_text, digest), same in by_file.items():  # a batch PDF: one UPDATE
            for start in range(0, len(same), 5000):
                conn.execute(
                    certificates.update()
                    .where(certificates.c.certificate_no.in_(same[start : start + 5000]))
                    .values(path=path_text, sha256=digest)
                )
        for release_id, number, path, digest in printed:
            old = before.get(number)
            audits.append(
                {
                    "entity": ("certificate", number),
                    "before": None if old is None else {"path": old[1], "sha256": old[2]},
                    "after": {"release_id": release_id, "path": str(path), "sha256": digest},
                }
            )
        tx.audit_many(audits)
        placing.place()  # last: a file that appeared meanwhile rolls the record back


def _clear_replaced(conn: Connection, replaced: list[Path], printing: set[str]) -> list[Any]:
    """Clear the record of certificates (not in this print) whose recorded file is one
    about to be replaced; the audit entries of the clearing."""
    audits: list[Any] = []
    for target in replaced:
        rows = conn.execute(
            sa.select(
                certificates.c.certificate_no,
                certificates.c.release_id,
                certificates.c.path,
                certificates.c.sha256,
            ).where(certificates.c.path.endswith(target.name, autoescape=True))
        ).all()
        stale = [
            r for r in rows if r[0] not in printing and Path(r[2]).resolve() == target.resolve()
        ]
        numbers = [r[0] for r in stale]
        for start in range(0, len(stale), 5000):
            conn.execute(
                certificates.update()
                .where(certificates.c.certificate_no.in_(numbers[start : start + 5000]))
                .values(path=None, sha256=None)
            )
        audits.extend(
            {
                "entity": ("certificate", number),
                "before": {"path": path, "sha256": digest},
                "after": {"release_id": release_id, "path": None, "sha256": None},
                "reason": f"its file {target} was replaced by another print",
            }
            for number, release_id, path, digest in stale
        )
    return audits


class _Placing:
    """The rendered PDFs, staged as hidden 0600 files beside their targets, then moved
    into place by :meth:`place`; on any failure the targets are as they were before.

    Without ``replace`` a target is linked, never renamed over: a file that appeared
    since :func:`check_targets` makes it fail (the ``O_EXCL`` of a rename). With it the
    old file is kept as a hidden link until the transaction has committed."""

    def __init__(
        self,
        rendered: list[tuple[Path, bytes, list[tuple[int, CertificateData]]]],
        *,
        replace: bool,
    ) -> None:
        self.rendered = rendered
        self.replace = replace
        self.digests: list[tuple[Path, str, list[tuple[int, CertificateData]]]] = []
        self.replaced = [p for p, _pdf, _m in rendered if replace and p.exists()]
        self._staged: list[tuple[Path, Path]] = []
        self._kept: list[tuple[Path, Path]] = []  # (target, its previous file)
        self._created: list[Path] = []

    def __enter__(self) -> _Placing:
        try:
            for path, pdf, members in self.rendered:
                self._staged.append((self._write(path, pdf), path))
                self.digests.append((path, hashlib.sha256(pdf).hexdigest(), members))
        except BaseException:
            self._cleanup()
            raise
        return self

    @staticmethod
    def _write(path: Path, pdf: bytes) -> Path:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates it 0600, whatever the umask
            handle.write(pdf)
        return Path(name)

    def place(self) -> None:
        for staged, target in self._staged:
            if self.replace and (target.exists() or target.is_symlink()):
                kept = self._hidden(target, ".old")
                os.link(target, kept, follow_symlinks=False)
                self._kept.append((target, kept))
                os.replace(staged, target)
                continue
            try:
                os.link(staged, target)
            except FileExistsError:
                raise ConfigError(
                    f"--out {target}: a file appeared there while printing; "
                    "give --force to replace it"
                ) from None
            self._created.append(target)
            staged.unlink()

    @staticmethod
    def _hidden(target: Path, suffix: str) -> Path:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
        os.close(fd)
        os.unlink(name)  # only the name is wanted: os.link will not write over a file
        return Path(name)

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None:  # the record was not committed: the folder as it was
            for target in self._created:
                target.unlink(missing_ok=True)
            for target, kept in self._kept:
                os.replace(kept, target)
            self._kept = []
        self._cleanup()

    def _cleanup(self) -> None:
        for staged, _target in self._staged:
            staged.unlink(missing_ok=True)
        for _target, kept in self._kept:
            kept.unlink(missing_ok=True)


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
