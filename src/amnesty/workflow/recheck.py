"""Before each release: is the person still someone this run may free?

The run decided on the registry of its day; a release happens days later.
Each check below reads the registry as it is now and returns a reason to stop
(an empty list means go ahead):

- died, released or temporarily released since (another run); a pardon is
  history, not a custody status (:data:`amnesty.registry.schema.CUSTODY_OUT`);
- transferred away from the roster's facility;
- a new conviction (starting after the run's as-of date, by the release date);
- an offence code of theirs repealed since the as-of date;
- re-evaluated with the decree on today's registry, a different outcome,
  relief or grounds (``evaluator``; by default :func:`amnesty.engine.evaluate`);
- a determination applied by a body (``applied_by``, docs/semantics.md) whose decision
  is not recorded (:func:`body_reasons`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.compile.sql.plans import PersonsPlan, PlanCache
from amnesty.decree.model import Decree
from amnesty.registry.schema import CUSTODY_EVENTS, CUSTODY_OUT
from amnesty.workflow.casefiles import Determination, RunInfo

# (decree, run, person ids, connection) -> person id -> their determination today (a dict
# with outcome, relief and grounds); a person missing from the answer is no longer in
# the decree's population. Called inside the release transaction, on its connection.
Evaluator = Callable[[Decree, RunInfo, Sequence[str], Connection], dict[str, dict[str, Any]]]


# ``:people``, a list bound as one parameter: SQLAlchemy's expanding IN would render
# and bind one placeholder per person (1,000 a batch) at every execution.
_PEOPLE = "= ANY(CAST(:people AS VARCHAR[]))"


def latest_events(kinds: Sequence[str], columns: Sequence[str]) -> sa.TextClause:
    """Each of ``:people``'s latest event among ``kinds`` (by date, then event id):
    ``person_id`` and ``columns`` of it."""
    names = ", ".join(["person_id", *columns])
    return sa.text(
        f"SELECT {names} FROM (SELECT {names}, row_number() OVER (PARTITION BY person_id "
        "ORDER BY event_date DESC, event_id DESC) AS n FROM events "
        f"WHERE person_id {_PEOPLE} AND event_type IN :kinds) latest WHERE n = 1"
    ).bindparams(sa.bindparam("kinds", value=list(kinds), expanding=True))


_LATEST_STATUS = latest_events(
    CUSTODY_EVENTS, ("event_type", "event_date", "run_id", "decree_id", "facility_id")
)
_HELD_AT = sa.text(f"SELECT person_id, facility_id FROM persons WHERE person_id {_PEOPLE}")
# The last day a conviction's start may be: a start known only to the month or the year
# (start_precision) may be any day of it, so it may be after the as-of date though its
# first possible day is not.
_LAST_START = (
    "CASE coalesce(start_precision, 'day') WHEN 'month' "
    "THEN CAST(start_date + INTERVAL '1 month' - INTERVAL '1 day' AS DATE) "
    "WHEN 'year' THEN CAST(start_date + INTERVAL '1 year' - INTERVAL '1 day' AS DATE) "
    "ELSE start_date END"
)
_NEW_CONVICTIONS = sa.text(
    "SELECT person_id, conviction_id, offence_code, start_date, start_precision "
    "FROM convictions "
    # known by the release date: a later start is a later event, not a fact of today; a
    # start that may fall after the as-of date counts, and so does one not recorded
    f"WHERE person_id {_PEOPLE} AND (start_date IS NULL OR "
    f"(start_date <= :day AND {_LAST_START} > :as_of)) "
    "ORDER BY person_id, start_date, conviction_id"
)
_REPEALED = sa.text(
    "SELECT DISTINCT c.person_id, o.offence_code, o.valid_to FROM convictions c "
    "JOIN offences o ON o.offence_code = c.offence_code "
    f"WHERE c.person_id {_PEOPLE} AND o.valid_to IS NOT NULL "
    "AND o.valid_to >= :as_of AND o.valid_to < :day ORDER BY c.person_id, o.offence_code"
)


class Stop(NamedTuple):
    """Why one person's release stops: a kind to count by, and the sentence to show."""

    kind: str
    text: str


def registry_reasons_many(
    conn: Connection, run: RunInfo, facilities: Mapping[str, str], release_date: dt.date
) -> dict[str, list[Stop]]:
    """The checks that need only SQL on the registry tables, for many persons at once.

    ``facilities`` maps each person to the facility whose roster releases them. Four
    queries whatever the number of persons; every person gets a list (empty: go ahead).
    """
    people = list(facilities)
    reasons: dict[str, list[Stop]] = {p: [] for p in people}
    if not people:
        return reasons
    held: dict[str, str | None] = dict(conn.execute(_HELD_AT, {"people": people}).all())
    last = {r[0]: r for r in conn.execute(_LATEST_STATUS, {"people": people}).all()}
    for person_id in people:
        if person_id not in held:
            reasons[person_id].append(
                Stop("not in the registry", f"person {person_id} is no longer in the registry")
            )
            continue
        status = last.get(person_id)
        if status is not None and status[1] in CUSTODY_OUT:
            reasons[person_id].append(_left_custody(person_id, status))
        # The person row says where they are now; the latest admission or transfer event
        # says the same unless one of the two lags behind: either differing is a transfer.
        places = {held[person_id]}
        if status is not None and status[1] not in CUSTODY_OUT and status[5]:
            places.add(status[5])
        wanted = facilities[person_id]
        for current in sorted(p for p in places if p is not None and p != wanted):
            reasons[person_id].append(
                Stop(
                    "transferred",
                    f"person {person_id} is now held at facility {current}, not {wanted} "
                    "(transferred); the receiving facility's roster must include them",
                )
            )
    window = {"people": people, "as_of": run.as_of, "day": release_date}
    found = conn.execute(_NEW_CONVICTIONS, window).all()
    for person_id, conviction_id, code, start, precision in found:
        if start is None or (precision or "day") != "day":
            when = "not recorded" if start is None else f"known only to the {precision}"
            reasons[person_id].append(
                Stop(
                    "conviction start uncertain",
                    f"person {person_id} has conviction {conviction_id} ({code}) whose start "
                    f"is {when}: it may be after the run's as-of date {run.as_of}; record "
                    "its start before releasing",
                )
            )
            continue
        reasons[person_id].append(
            Stop(
                "new conviction",
                f"person {person_id} has a new conviction {conviction_id} ({code}) starting "
                f"{start}, after the run's as-of date {run.as_of}",
            )
        )
    for person_id, code, valid_to in conn.execute(_REPEALED, window).all():
        reasons[person_id].append(
            Stop(
                "offence code repealed",
                f"offence code {code} of person {person_id} was repealed (valid to {valid_to}) "
                "after the run's as-of date; run the decree again on the current catalogue",
            )
        )
    return reasons


def _left_custody(person_id: str, status: Any) -> Stop:
    kind, day, other_run, other_decree = status[1], status[2], status[3], status[4]
    if kind == "death":
        return Stop("died", f"person {person_id} died on {day}")
    if other_run:
        return Stop(
            "released by another run",
            f"person {person_id} was already released on {day} by run {other_run} "
            f"(decree {other_decree})",
        )
    return Stop("left custody", f"person {person_id} left custody ({kind}) on {day}")


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


def body_reasons(today: dict[str, Any] | None, record: Any, person_id: str) -> list[str]:
    """A person whose determination (re-derived today from the signed decree) carries a
    body (``applied_by``) is released only once that body's decision is recorded: a review
    decision of kind ``decide``, outcome ``eligible``, for this run and person. A record
    that names another body (a ``body`` field, when the record has one) does not count.

    A reviewer records the body's decision for a review case or for an eligible person
    whose ground a body applies (workflow/review.py); without it the person is refused:
    never released on the rule alone.
    """
    body = (today or {}).get("applied_by")
    if not body:
        return []
    decided = record is not None and record.kind == "decide" and record.outcome == "eligible"
    named = getattr(record, "body", None)
    if decided and (named is None or named == body):
        return []
    return [
        f"person {person_id} is decided by the decree's rule but applied by {body}: "
        f"{body}'s decision must be recorded before release"
    ]


def stored_body(decree: Decree, found: Determination) -> str | None:
    """The body that applies a stored determination, read from the run's decree: the
    engine's own choice (compile/interpreter.py ``decide``) made again from what the run
    stored, the first best-ranked grant that holds (or, for a review case, that holds or
    is unknown), else a refer that reaches persons with no ground.

    ``roster check`` counts with it who waits for a body's decision, reading only; the
    release itself never trusts it and re-derives the body with the engine
    (:func:`body_reasons`)."""
    if not decree.names_bodies or found.outcome == "ineligible":
        return None
    ranking = list(decree.relief_ranking)
    unknown = {u.get("clause") for u in found.unknown if isinstance(u, dict)}

    def possible(clause_id: str) -> bool:
        return clause_id in found.grounds or (found.outcome == "review" and clause_id in unknown)

    grants = [c for c in decree.clauses if c.kind == "grant" and possible(c.id)]
    best = min(
        grants,
        key=lambda c: (
            ranking.index(c.relief or "release")
            if (c.relief or "release") in ranking
            else len(ranking)
        ),
        default=None,
    )
    if best is None and found.outcome == "review":
        best = next(
            (c for c in decree.clauses if c.without_ground and c.id in found.referred), None
        )
    if best is None:
        return None
    return best.applied_by or decree.applied_by


# The re-check's plans: a roster's batches, and rosters under the same decree and date,
# share one (compile/sql/plans.py says what keys it).
PLANS: PlanCache[PersonsPlan] = PlanCache(PersonsPlan)


def engine_evaluator(
    decree: Decree, run: RunInfo, people: Sequence[str], conn: Connection
) -> dict[str, dict[str, Any]]:
    """Evaluate ``people`` with the compiled engine in one pass, on the run's as-of date.

    It runs on ``conn``'s own driver connection, so inside the release transaction it
    sees exactly the registry the release is about to change. Only the determinations
    are fetched (not the left-out counts and places of a full evaluation). The decree
    is compiled once for any persons (:class:`PersonsPlan`); ``people`` are bound to
    the query as it runs.
    """
    from amnesty.engine import as_backend, run_plan

    backend = as_backend(conn.connection.driver_connection)
    plan = PLANS.plan(decree, decree.content_hash, backend.dialect, run.as_of)
    wanted = set(people)
    rows: list[dict[str, Any]] = run_plan(backend, plan, list(people)).to_pylist()
    return {r["person_id"]: r for r in rows if r["person_id"] in wanted}
