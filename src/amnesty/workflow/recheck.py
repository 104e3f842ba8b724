"""Before each release: is the person still someone this run may free?

The run decided on the registry of its day; a release happens days later.
Each check below reads the registry as it is now and returns a reason to stop
(an empty list means go ahead):

- died; released, pardoned or otherwise out of custody since (another run);
- transferred away from the roster's facility;
- a new conviction (starting after the run's as-of date, by the release date);
- an offence code of theirs repealed since the as-of date;
- re-evaluated with the decree on today's registry, a different outcome,
  relief or grounds (``evaluator``; by default :func:`amnesty.engine.evaluate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.decree.model import Decree
from amnesty.workflow.casefiles import Determination, RunInfo

# (decree, run, person_id, connection) -> the person's determination today, as a dict with
# outcome, relief and grounds; None when the person is no longer in the decree's population.
Evaluator = Callable[[Decree, RunInfo, str, Connection], dict[str, Any] | None]

CUSTODY_EVENTS = ("admission", "return", "release", "pardon", "death", "transfer")
OUT_OF_CUSTODY = ("release", "pardon", "death")


def registry_reasons(
    conn: Connection, run: RunInfo, person_id: str, facility_id: str, release_date: dt.date
) -> list[str]:
    """The checks that need only SQL on the registry tables."""
    person = conn.execute(
        sa.text("SELECT facility_id FROM persons WHERE person_id = :p"), {"p": person_id}
    ).first()
    if person is None:
        return [f"person {person_id} is no longer in the registry"]
    reasons: list[str] = []
    last = conn.execute(
        sa.text(
            "SELECT event_type, event_date, run_id, decree_id, facility_id FROM events "
            "WHERE person_id = :p AND event_type IN "
            "('admission', 'return', 'release', 'pardon', 'death', 'transfer') "
            "ORDER BY event_date DESC, event_id DESC LIMIT 1"
        ),
        {"p": person_id},
    ).first()
    if last is not None and last[0] in OUT_OF_CUSTODY:
        kind, day, other_run, other_decree = last[0], last[1], last[2], last[3]
        if kind == "death":
            reasons.append(f"person {person_id} died on {day}")
        elif other_run:
            reasons.append(
                f"person {person_id} was already released on {day} by run {other_run} "
                f"(decree {other_decree})"
            )
        else:
            reasons.append(f"person {person_id} left custody ({kind}) on {day}")
    # The person row says where they are now; the latest admission or transfer event
    # says the same unless one of the two lags behind: either differing is a transfer.
    places = {person[0]}
    if last is not None and last[0] in ("admission", "return", "transfer") and last[4]:
        places.add(last[4])
    for current in sorted(p for p in places if p is not None and p != facility_id):
        reasons.append(
            f"person {person_id} is now held at facility {current}, not {facility_id} "
            "(transferred); the receiving facility's roster must include them"
        )
    new_convictions = conn.execute(
        sa.text(
            "SELECT conviction_id, offence_code, start_date FROM convictions "
            # known by the release date: a later start is a later event, not a fact of today
            "WHERE person_id = :p AND start_date > :as_of AND start_date <= :day "
            "ORDER BY start_date"
        ),
        {"p": person_id, "as_of": run.as_of, "day": release_date},
    ).all()
    for conviction_id, code, start in new_convictions:
        reasons.append(
            f"person {person_id} has a new conviction {conviction_id} ({code}) starting {start}, "
            f"after the run's as-of date {run.as_of}"
        )
    repealed = conn.execute(
        sa.text(
            "SELECT DISTINCT o.offence_code, o.valid_to FROM convictions c "
            "JOIN offences o ON o.offence_code = c.offence_code "
            "WHERE c.person_id = :p AND o.valid_to IS NOT NULL "
            "AND o.valid_to >= :as_of AND o.valid_to < :day ORDER BY o.offence_code"
        ),
        {"p": person_id, "as_of": run.as_of, "day": release_date},
    ).all()
    for code, valid_to in repealed:
        reasons.append(
            f"offence code {code} of person {person_id} was repealed (valid to {valid_to}) "
            "after the run's as-of date; run the decree again on the current catalogue"
        )
    return reasons


def outcome_reasons(
    stored: Determination, today: dict[str, Any] | None, person_id: str
) -> list[str]:
    """Compare the stored determination with a fresh evaluation of the same person."""
    if today is None:
        return [f"person {person_id} is no longer in the decree's population on today's registry"]
    reasons = []
    fresh_outcome = today.get("outcome")
    if fresh_outcome != stored.outcome:
        reasons.append(
            f"re-evaluated on today's registry, person {person_id} is {fresh_outcome} "
            f"(the run said {stored.outcome}); the facts changed"
        )
    elif (today.get("relief"), sorted(today.get("grounds") or [])) != (
        stored.relief,
        sorted(stored.grounds),
    ):
        reasons.append(
            f"re-evaluated on today's registry, person {person_id} gets relief "
            f"{today.get('relief')} on grounds {sorted(today.get('grounds') or [])} "
            f"(the run said {stored.relief} on {sorted(stored.grounds)}); the facts changed"
        )
    return reasons


def engine_evaluator(
    decree: Decree, run: RunInfo, person_id: str, conn: Connection
) -> dict[str, Any] | None:
    """Evaluate one person with the compiled engine, on the run's as-of date."""
    import importlib

    engine: Any = importlib.import_module("amnesty.engine")
    raw: Any = conn.connection.driver_connection
    evaluation = engine.evaluate(decree, raw, as_of=run.as_of, person_ids=[person_id])
    for row in _rows(evaluation):
        if row.get("person_id") == person_id:
            return row
    return None


def _rows(evaluation: Any) -> list[dict[str, Any]]:
    table = getattr(evaluation, "determinations", evaluation)
    if hasattr(table, "to_pylist"):
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows
    return [r if isinstance(r, dict) else vars(r) for r in table]


class BatchEvaluator:
    """One engine pass for a whole roster, reused person by person while it is exact.

    A determination depends only on the person's own facts and the shared
    catalogues, so a release of someone else in the same run cannot change it.
    The batch's answer for a person therefore stands as long as every registry
    snapshot recorded since the pass is one of this run's own release events for
    other persons; any other change (an import, a correction, this person's own
    event) falls back to evaluating the person alone, as :func:`engine_evaluator`.
    """

    def __init__(
        self, rows: dict[str, dict[str, Any]], snapshot_id: int | None, run_id: str
    ) -> None:
        self.rows = rows
        self.snapshot_id = snapshot_id
        self.run_id = run_id

    @classmethod
    def prepare(
        cls, engine: sa.Engine, decree: Decree, run: RunInfo, people: list[str]
    ) -> BatchEvaluator:
        import importlib

        amnesty_engine: Any = importlib.import_module("amnesty.engine")
        # the snapshot first, on its own connection: a change that lands before the
        # pass then only makes the batch fall back to per-person evaluation
        with engine.connect() as conn:
            snapshot_id = conn.execute(
                sa.text("SELECT max(snapshot_id) FROM registry_snapshots")
            ).scalar()
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            evaluation = amnesty_engine.evaluate(decree, raw, as_of=run.as_of, person_ids=people)
            rows = {row["person_id"]: row for row in _rows(evaluation)}
        return cls(rows, snapshot_id, run.run_id)

    def __call__(
        self, decree: Decree, run: RunInfo, person_id: str, conn: Connection
    ) -> dict[str, Any] | None:
        if run.run_id == self.run_id and self._still_exact(conn, person_id):
            return self.rows.get(person_id)
        return engine_evaluator(decree, run, person_id, conn)

    def _still_exact(self, conn: Connection, person_id: str) -> bool:
        if self.snapshot_id is None:
            return False
        since = conn.execute(
            sa.text("SELECT kind, source FROM registry_snapshots WHERE snapshot_id > :s"),
            {"s": self.snapshot_id},
        ).all()
        own = f" run {self.run_id} person "
        for kind, source in since:
            if kind != "derived" or own not in (source or ""):
                return False
            if source.endswith(f"{own}{person_id}"):
                return False
        return True
