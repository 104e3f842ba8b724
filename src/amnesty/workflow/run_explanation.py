"""Explain one person against a stored run: the run's determination beside today's.

``amnesty explain DECREE PERSON_ID --run RUN`` answers "why did run RUN decide
this person so, and would it still?": the person is evaluated again, clause by
clause (:func:`amnesty.explanation.explain`), on the run's as-of date and the
registry as it is now, and the result is compared field by field with the
determination stored with the run. The decree file given and the registry may
both have changed since the run; the comparison says whether each did, so a
disagreement can be traced to the decree text or to the facts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amnesty.compile.sql import plans
from amnesty.decree import Decree, load
from amnesty.engine import as_backend
from amnesty.errors import ConfigError
from amnesty.explanation import ExplainPlan, Explanation, explain
from amnesty.registry.snapshot import current_snapshot
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.workflow.casefiles import determination, run_info
from amnesty.workflow.evaluate import decree_source
from amnesty.workflow.runs import RunRecord, get_run

# The fields of a determination row compared between the run and today (CONTRACT.md).
COMPARED = (
    "outcome",
    "relief",
    "grounds",
    "blocking",
    "referred",
    "unknown",
    "undertakings",
    "facility_id",
)
_UNORDERED = ("grounds", "blocking", "referred", "undertakings")


@dataclass(frozen=True)
class RunExplanation:
    """Today's explanation of a person beside what a stored run decided for them."""

    run: RunRecord
    today: Explanation  # on the run's as-of date, the registry as it is now
    stored: dict[str, Any] | None  # None: the run did not decide this person
    differences: list[str]  # the fields of COMPARED that differ, in that order
    decree_hash: str  # of the decree file given
    snapshot_hash: str | None  # the registry's current snapshot

    @property
    def agrees(self) -> bool:
        return not self.differences

    @property
    def decree_changed(self) -> bool:
        return self.decree_hash != self.run.decree_hash

    @property
    def registry_changed(self) -> bool:
        return self.snapshot_hash != self.run.snapshot_hash

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run.run_id,
            "as_of": self.run.as_of.isoformat(),
            "agrees": self.agrees,
            "differences": [
                {"field": f, "run": _field(self.stored, f), "today": _field(self.today_row, f)}
                for f in self.differences
            ],
            "decree_changed": self.decree_changed,
            "registry_changed": self.registry_changed,
            "stored": self.stored,
            "today": self.today.to_dict(),
        }

    @property
    def today_row(self) -> dict[str, Any] | None:
        return self.today.determination


def explain_against_run(
    url: Database, decree_path: str | Path, run_id: str, person_id: str
) -> RunExplanation:
    """Explain ``person_id`` under the decree file on run ``run_id``'s as-of date and
    compare the result with the determination the run stored."""
    _text, decree_hash = decree_source(decree_path)
    return _against_run(as_database(url), load(decree_path), decree_hash, run_id, person_id)


def explain_under_stored_decree(url: Database, run_id: str, person_id: str) -> RunExplanation:
    """As :func:`explain_against_run`, under the decree text the store holds for the
    run's decree (the server's case: no file on the caller's side). If that text has
    changed since the run, ``decree_changed`` says so."""
    from amnesty.decree import load_text
    from amnesty.workflow.decrees import get_decree

    db = as_database(url)
    run = get_run(db, run_id)
    record = get_decree(db, run.decree_id)
    if record is None:
        raise ConfigError(f"run {run_id}: its decree {run.decree_id!r} is not stored")
    text_hash = hashlib.sha256(record.source_text.encode("utf-8")).hexdigest()
    decree = PLANS.decree(
        text_hash, lambda: load_text(record.source_text, f"decree {run.decree_id} (stored)")
    )
    return _against_run(db, decree, text_hash, run_id, person_id)


def _against_run(
    db: Database, decree: Decree, decree_hash: str, run_id: str, person_id: str
) -> RunExplanation:
    run = get_run(db, run_id)
    if decree.id != run.decree_id:
        raise ConfigError(
            f"{decree.source_path or 'the decree'}: decree {decree.id!r}, but run {run_id} "
            f"evaluated decree {run.decree_id!r}; give that decree's file (amnesty decree list)"
        )
    with get_engine(db).connect() as connection:
        run_info(connection, run_id)
        stored = _stored(connection, run_id, person_id)
    today, snapshot_hash = _explain_now(db, decree, decree_hash, person_id, run.as_of)
    differences = _differences(stored, today.determination)
    return RunExplanation(run, today, stored, differences, decree_hash, snapshot_hash)


def _stored(connection: Any, run_id: str, person_id: str) -> dict[str, Any] | None:
    try:
        found = determination(connection, run_id, person_id)
    except ConfigError:
        return None
    row = found.as_dict()
    row["unknown"] = list(found.unknown)
    return row


def _explain_now(
    db: Database, decree: Decree, decree_hash: str, person_id: str, as_of: dt.date
) -> tuple[Explanation, str | None]:
    with db.raw() as raw:
        snapshot = current_snapshot(raw)
    with db.raw() as raw:
        backend = as_backend(raw)
        plan = PLANS.plan(decree, decree_hash, backend.dialect, as_of)
        return explain(decree, backend, person_id, as_of=as_of, plan=plan), _hash(snapshot)


class PlanCache(plans.PlanCache[ExplainPlan]):
    """Decrees compiled for explaining, kept between calls (bounded, least recently
    used out first), and stored decrees parsed, by their text's hash.

    An explanation compiles the decree for one person and renders the whole CTE
    chain four or five times; at 100k persons on PostgreSQL that was 2.9 s of
    Python against 0.8 s in the database. A plan (:class:`ExplainPlan`) does that
    once for any person. Plans are kept as :class:`amnesty.compile.sql.plans.PlanCache`
    keeps them (by decree text hash, as-of date, profile and dialect), so a changed
    decree or profile is compiled afresh.
    """

    def __init__(self, size: int = 16) -> None:
        super().__init__(ExplainPlan, size)
        self._decrees: OrderedDict[str, Decree] = OrderedDict()

    def decree(self, text_hash: str, parse: Any) -> Decree:
        with self._lock:
            found = self._decrees.get(text_hash)
            if found is not None:
                self._decrees.move_to_end(text_hash)
                return found
        parsed: Decree = parse()
        with self._lock:
            self._decrees[text_hash] = parsed
            while len(self._decrees) > self.size:
                self._decrees.popitem(last=False)
        return parsed

    def clear(self) -> None:
        super().clear()
        with self._lock:
            self._decrees.clear()


PLANS = PlanCache()


def _hash(snapshot: Any) -> str | None:
    return None if snapshot is None else str(snapshot.content_hash)


def _differences(stored: dict[str, Any] | None, today: dict[str, Any] | None) -> list[str]:
    if stored is None and today is None:
        return []
    if stored is None or today is None:
        return ["outcome"]  # decided on one side, not in the population on the other
    return [f for f in COMPARED if _normal(stored, f) != _normal(today, f)]


def _field(row: dict[str, Any] | None, name: str) -> Any:
    if row is None:
        return "not decided" if name == "outcome" else None
    return row.get(name)


def _normal(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    if name in _UNORDERED:
        return sorted(value or [])
    if name == "unknown":
        items = [
            {"clause": u.get("clause"), "missing": sorted(u.get("missing") or [])}
            if isinstance(u, dict)
            else {"clause": str(u), "missing": []}
            for u in value or []
        ]
        return sorted(json.dumps(i, sort_keys=True) for i in items)
    return value
