"""Certificates from the store: gather a release's facts, render, record the file.

The certificate number was allocated with the release; printing (again) only
renders the PDF, writes it and records its path and sha256 on the
``certificates`` row with an audit event, so a printed file can be matched to
what was issued.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError
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
    render_batch,
    render_certificate,
    write_pdf,
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
        data = certificates_data(conn, [r[0] for r in chosen])
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
