"""Stored runs: what was decided, from which inputs, and whether it was decided before.

A run is identified by its inputs (decree content hash, registry snapshot
hash, as-of date) and pinned by its output (the determinations digest, see
:mod:`amnesty.store.determinations`). The audit event of a run carries that
digest, so ``audit verify`` catches a determination edited afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amnesty.errors import ConfigError
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import runs
from amnesty.store.transaction import transaction, utcnow
from amnesty.workflow.decrees import UNNAMED_ACTOR, get_decree, refuse_if_changed

if TYPE_CHECKING:  # Arrow is for recording and loading determinations: `run list` needs none
    import pyarrow as pa

ENGINES = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    decree_id: str
    decree_hash: str
    snapshot_hash: str
    engine: str
    engine_version: str
    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    counts: dict[str, Any]
    row_count: int
    determinations_digest: str
    reproduces_run_id: str | None
    recorded_by: str
    recorded_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def profile(self) -> tuple[str, str] | None:
        """(name, content hash) of the registry profile the run was evaluated under.

        The engine's summary carries it in ``counts`` (so the run's audit event holds it);
        runs recorded before profiles were hashed have none.
        """
        found = self.counts.get("profile") if isinstance(self.counts, dict) else None
        if not isinstance(found, dict) or not found.get("hash"):
            return None
        return str(found.get("name", "")), str(found["hash"])


def new_run_id(started_at: dt.datetime) -> str:
    """Short enough to type, sortable by day, random enough never to collide."""
    return f"R{started_at:%Y%m%d}-{secrets.token_hex(3)}"


def record_run(
    url: Database,
    *,
    decree_id: str,
    decree_hash: str,
    snapshot_hash: str,
    engine: str,
    engine_version: str,
    as_of: dt.date,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    determinations: pa.Table,
    counts: dict[str, Any],
    actor: str | None = None,
    run_id: str | None = None,
) -> RunRecord:
    """Store a run and its determinations, with the audit event carrying their digest.

    The decree must be registered (``amnesty.workflow.decrees.ensure_decree``);
    a signed decree must still have the content hash it was signed with.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    db = as_database(url)
    decree = get_decree(db, decree_id)
    if decree is None:
        raise ConfigError(
            f"decree {decree_id!r} is not registered; call ensure_decree before record_run"
        )
    from amnesty.store.determinations import insert_stored, stored_and_digest

    stored, digest = stored_and_digest(determinations)
    run_id = run_id or new_run_id(started_at)
    acting = actor or UNNAMED_ACTOR
    with transaction(db, acting, action="run.record", entity=("run", run_id)) as tx:
        refuse_if_changed(decree, decree_hash)
        earlier = tx.connection.execute(
            sa.select(runs.c.run_id)
            .where(
                runs.c.decree_hash == decree_hash,
                runs.c.snapshot_hash == snapshot_hash,
                runs.c.as_of == as_of,
                runs.c.determinations_digest == digest,
            )
            .order_by(runs.c.recorded_at, runs.c.run_id)
            .limit(1)
        ).scalar()
        row = {
            "run_id": run_id,
            "decree_id": decree_id,
            "decree_hash": decree_hash,
            "snapshot_hash": snapshot_hash,
            "engine": engine,
            "engine_version": engine_version,
            "as_of": as_of,
            "started_at": started_at,
            "finished_at": finished_at,
            "counts": json.dumps(counts, sort_keys=True),
            "row_count": stored.num_rows,
            "determinations_digest": digest,
            "reproduces_run_id": earlier,
            "recorded_by": acting,
            "recorded_at": utcnow(),
        }
        tx.connection.execute(runs.insert().values(**row))
        insert_stored(tx.connection, db, run_id, stored)
        record = _record(row)
        tx.audit(after=run_event(record))
    return record


def run_event(record: RunRecord) -> dict[str, Any]:
    """What a run's audit event holds (``after``); ``audit verify`` reads the digest here."""
    event = record.as_dict()
    del event["recorded_at"]
    return event


def list_runs(url: Database) -> list[RunRecord]:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        rows = connection.execute(sa.select(runs).order_by(runs.c.recorded_at)).mappings().all()
    return [_record(dict(row)) for row in rows]


def get_run(url: Database, run_id: str) -> RunRecord:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        row = connection.execute(sa.select(runs).where(runs.c.run_id == run_id)).mappings().first()
    if row is None:
        raise ConfigError(f"no run {run_id!r}; amnesty run list shows the stored runs")
    return _record(dict(row))


def load_determinations(url: Database, run_id: str) -> pa.Table:
    """A run's determinations as the engine produced them, in person_id order."""
    db = as_database(url)
    get_run(db, run_id)
    with get_engine(db).connect() as connection:
        from amnesty.store.determinations import from_stored_batches, stored_batches

        return from_stored_batches(stored_batches(connection, db, run_id))


def _record(row: dict[str, Any]) -> RunRecord:
    values = dict(row)
    if isinstance(values["counts"], str):
        values["counts"] = json.loads(values["counts"])
    return RunRecord(**values)
