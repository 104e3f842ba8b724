"""Certificates from the store: gather a release's facts, render, record the file.

The certificate number was allocated with the release; printing (again) only
renders the PDF, writes it and records its path and sha256 on the
``certificates`` row with an audit event, so a printed file can be matched to
what was issued.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import certificates, release_revocations, releases
from amnesty.store.transaction import transaction
from amnesty.workflow.casefiles import (
    clause_text,
    decree_for_run,
    determination,
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
    render_batch,
    render_certificate,
    write_pdf,
)
from amnesty.workflow.releases import undertaking_state
from amnesty.workflow.users import Role, require

PRINTERS = (Role.facility_officer, Role.approver, Role.admin)


def certificate_data(conn: Connection, release_id: int) -> CertificateData:
    """Everything the certificate of one release prints, read from the store and registry."""
    row = (
        conn.execute(sa.select(releases).where(releases.c.release_id == release_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ConfigError(f"no release {release_id}")
    run = run_info(conn, row["run_id"])
    decree = decree_for_run(conn, run)
    person_id, facility_id = row["person_id"], row["facility_id"]
    person = conn.execute(
        sa.text("SELECT name, name_romanised, birth_date FROM persons WHERE person_id = :p"),
        {"p": person_id},
    ).first()
    facility = conn.execute(
        sa.text("SELECT name, name_romanised FROM facilities WHERE facility_id = :f"),
        {"f": facility_id},
    ).first()
    new_end = conn.execute(
        sa.text(
            "SELECT new_end_date FROM events WHERE run_id = :r AND person_id = :p "
            "AND event_type = 'commutation'"
        ),
        {"r": run.run_id, "p": person_id},
    ).scalar()
    stored = determination(conn, run.run_id, person_id)
    signed = undertaking_state(conn, run.run_id, person_id)
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
            name=person[0] if person else person_id,
            name_romanised=person[1] if person else "",
            birth_date=_iso(person[2]) if person else None,
        ),
        facility=FacilityPart(
            facility_id, facility[0] if facility else facility_id, facility[1] if facility else ""
        ),
        relief=row["relief"],
        release_date=row["release_date"].isoformat(),
        run_id=run.run_id,
        executed_by=row["executed_by"],
        issued_on=row["executed_at"].date().isoformat(),
        grounds=tuple(Ground(g, clause_text(decree, g)) for g in stored.grounds),
        undertakings=tuple(
            SignedUndertaking(
                u,
                undertaking_text(decree, u),
                _iso(signed[u]["signed_on"]) or "",
                signed[u]["witness"] or "",
            )
            for u in stored.undertakings
            if u in signed and signed[u]["status"] == "signed"
        ),
        return_date=_iso(row["return_date"]),
        new_end_date=_iso(new_end),
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
) -> list[Path]:
    """Write one PDF per release (``--person``) or one batch per facility (``--facility``,
    or ``--roster``: the roster's releases in one batch).

    Revoked releases are not printed.
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
        data = {r[0]: certificate_data(conn, r[0]) for r in chosen}
    facilities = sorted({r[1] for r in chosen})
    for fac in facilities:
        require(
            db, actor, PRINTERS, facility=fac, action="certificate.print", entity=("facility", fac)
        )
    written: list[Path] = []
    printed: list[tuple[int, str, Path, str]] = []
    if person_id or not (facility_id or roster_id is not None):
        for release_id, cert in data.items():
            path, digest = write_pdf(render_certificate(cert), out_dir, cert.number)
            printed.append((release_id, cert.number, path, digest))
            written.append(path)
    else:
        suffix = f"roster-{roster_id}" if roster_id is not None else "batch"
        for fac in facilities:
            certs = [c for c in data.values() if c.facility.id == fac]
            pdf = render_batch(certs[0].facility, certs)
            path, digest = write_pdf(pdf, out_dir, f"{certs[0].decree.id}-{fac}-{suffix}")
            for release_id, cert in data.items():
                if cert.facility.id == fac:
                    printed.append((release_id, cert.number, path, digest))
            written.append(path)
    _record(db, actor, printed)
    return written


def _record(db: Database, actor: str, printed: list[tuple[int, str, Path, str]]) -> None:
    """Store where each certificate was printed: one transaction, one audit event each."""
    with transaction(db, actor, action="certificate.print", entity=("certificate", "")) as tx:
        conn = tx.connection
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
        conn.execute(
            certificates.update()
            .where(certificates.c.certificate_no == sa.bindparam("number"))
            .values(path=sa.bindparam("new_path"), sha256=sa.bindparam("digest")),
            [{"number": n, "new_path": str(p), "digest": d} for _r, n, p, d in printed],
        )
        audits = []
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


def _iso(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
