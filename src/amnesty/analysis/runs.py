"""The one place analysis reads stored runs, releases and the registry.

Everything else in :mod:`amnesty.analysis` works on the plain values these
functions return, so a change in how the store is opened (a URL today, a
database handle tomorrow) is adapted here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from amnesty.backends.base import Backend
from amnesty.decree import Decree, load_text
from amnesty.engine import as_backend
from amnesty.errors import ConfigError
from amnesty.store.database import Database
from amnesty.store.db import DatabaseURL
from amnesty.store.tables import audit_events, release_revocations, releases
from amnesty.workflow.decrees import get_decree
from amnesty.workflow.runs import RunRecord, get_run, load_determinations


def database(db: str | DatabaseURL | Database | None) -> Database:
    """``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb``: an existing database, never a new one."""
    return Database.open(db, create=False)


@contextmanager
def registry(url: Database) -> Iterator[Backend]:
    """A backend over the registry tables of the database (DuckDB file or PostgreSQL)."""
    with url.raw() as connection:
        yield as_backend(connection)


def run(url: Database, run_id: str) -> RunRecord:
    return get_run(url, run_id)


def decree(url: Database, record: RunRecord) -> Decree:
    """The run's decree, compiled from the text stored when it was registered."""
    stored = get_decree(url, record.decree_id)
    if stored is None:
        raise ConfigError(f"run {record.run_id}: decree {record.decree_id!r} is not stored")
    return load_text(stored.source_text, f"<decree {record.decree_id}>")


def determinations(url: Database, run_id: str) -> pa.Table:
    return load_determinations(url, run_id)


@dataclass(frozen=True)
class Execution:
    """What was executed of a run so far."""

    released: list[dict[str, Any]]  # person_id, facility_id, relief, release_date
    revoked: set[str]  # person ids whose release was revoked
    stopped: list[dict[str, Any]]  # person_id, reason: the latest refusal, never released


def execution(url: Database, run_id: str) -> Execution:
    with url.connect() as conn:
        rows = conn.execute(
            sa.select(
                releases.c.release_id,
                releases.c.person_id,
                releases.c.facility_id,
                releases.c.relief,
                releases.c.release_date,
            )
            .where(releases.c.run_id == run_id)
            .order_by(releases.c.person_id)
        ).mappings()
        released = [dict(r) for r in rows]
        revoked_ids = set(
            conn.execute(
                sa.select(releases.c.person_id)
                .join(
                    release_revocations, release_revocations.c.release_id == releases.c.release_id
                )
                .where(releases.c.run_id == run_id)
            ).scalars()
        )
        refusals = conn.execute(
            sa.select(audit_events.c.entity_id, audit_events.c.reason)
            .where(
                audit_events.c.action == "release.execute",
                audit_events.c.outcome == "refused",
                audit_events.c.entity_kind == "release",
                audit_events.c.entity_id.like(f"{run_id}:%"),
            )
            .order_by(audit_events.c.seq)
        ).all()
    done = {r["person_id"] for r in released}
    latest: dict[str, str] = {}
    for entity_id, reason in refusals:
        person = entity_id.split(":", 1)[1]
        if person not in done:
            latest[person] = reason or ""
    stopped = [{"person_id": p, "reason": latest[p]} for p in sorted(latest)]
    return Execution(released, revoked_ids, stopped)
