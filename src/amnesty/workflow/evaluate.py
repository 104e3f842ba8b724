"""Decide a decree on the stored registry and record the run: the step between
the engine (which only decides) and case work (which needs a stored run).

The registry's current snapshot hash and the decree's content hash pin the run's
inputs, so re-running the same decree on the same registry is recognised as a
reproduction (``RunRecord.reproduces_run_id``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from amnesty import __version__
from amnesty.decree import Decree, load
from amnesty.engine import Evaluation, evaluate
from amnesty.errors import ConfigError
from amnesty.registry.snapshot import current_snapshot
from amnesty.store.database import Database, DatabaseLike
from amnesty.workflow.decrees import ensure_decree
from amnesty.workflow.runs import RunRecord, record_run


@dataclass(frozen=True)
class RecordedRun:
    decree: Decree
    evaluation: Evaluation
    run: RunRecord


def decree_source(path: str | Path) -> tuple[str, str]:
    """The decree file's text and the sha256 of its bytes (what signing freezes)."""
    raw = Path(path).read_bytes()
    return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()


def evaluate_and_record(
    db: DatabaseLike | None,
    decree_path: str | Path,
    *,
    actor: str | None,
    as_of: dt.date | None = None,
) -> RecordedRun:
    """Load, decide everyone on the registry in ``db`` and store the run."""
    url = Database.open(db, create=False)  # a run needs a registry: never a new database
    decree = load(decree_path)
    text, content_hash = decree_source(decree_path)
    with url.raw() as raw:
        snapshot = current_snapshot(raw)
    if snapshot is None:
        raise ConfigError(
            f"{url}: no registry imported yet; run amnesty registry import DIR "
            "(or amnesty demo) first"
        )
    ensure_decree(url, decree.id, content_hash, decree.title, text, actor=actor)
    started = dt.datetime.now(dt.UTC)
    with url.raw() as raw:
        evaluation = evaluate(decree, raw, as_of=as_of)
    finished = dt.datetime.now(dt.UTC)
    run = record_run(
        url,
        decree_id=decree.id,
        decree_hash=content_hash,
        snapshot_hash=snapshot.content_hash,
        engine=url.dialect,
        engine_version=__version__,
        as_of=evaluation.as_of,
        started_at=started,
        finished_at=finished,
        determinations=evaluation.determinations,
        counts=evaluation.summary(),
        actor=actor,
    )
    return RecordedRun(decree, evaluation, run)
