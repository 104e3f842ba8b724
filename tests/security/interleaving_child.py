"""One client of the interleaving property test: a list of case-work steps, in order.

Usage: python interleaving_child.py DB_URL WORLD_JSON STEPS_JSON

WORLD_JSON holds ``decree_path`` and ``registry_dir``; STEPS_JSON is a list of
steps, each a list: ``["evaluate"]``, ``["roster", FACILITY]`` (prepare and
approve a roster of the newest run), ``["undertake", PERSON...]``, ``["execute",
FACILITY]`` (execute the newest approved roster of that facility), ``["revoke"]``
(revoke the oldest standing release), ``["reimport"]`` (the admin re-imports the
extract, keeping amnesty's events). The child prints ``ready``, waits for a line
on stdin, then runs the steps. A step amnesty refuses (a domain error, or the
database's conflict with the other client) is printed and the next step runs;
anything else ends the child with a traceback, which the test reports.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa
from released_world import IN_WINDOW

from amnesty.errors import AmnestyError
from amnesty.store.database import Database
from amnesty.workflow.batches import execute_roster
from amnesty.workflow.evaluate import evaluate_and_record
from amnesty.workflow.registry_import import import_as
from amnesty.workflow.releases import record_undertaking, revoke_release
from amnesty.workflow.rosters import approve_roster, prepare_roster

AS_OF = "2015-10-01"
OFFICERS = {"F1": "off1", "F2": "off2", "F3": "off3"}


def _one(db: Database, statement: str, **params: object) -> sa.Row[tuple[object, ...]] | None:
    with db.connect() as conn:
        return conn.execute(sa.text(statement), params).first()


def _newest_run(db: Database) -> str:
    row = _one(db, "SELECT run_id FROM runs ORDER BY recorded_at DESC, run_id DESC LIMIT 1")
    assert row is not None
    return str(row[0])


def step(db: Database, world: dict[str, str], name: str, *args: str) -> str:
    import datetime as dt

    if name == "evaluate":
        run = evaluate_and_record(
            db, world["decree_path"], actor="drafter", as_of=dt.date.fromisoformat(AS_OF)
        )
        return run.run.run_id
    if name == "roster":
        roster = prepare_roster(db, OFFICERS[args[0]], _newest_run(db), args[0])
        approve_roster(db, "appr1", roster.roster_id)
        return str(roster.roster_id)
    if name == "undertake":  # each person on the newest approved F3 roster listing them
        signed = []
        for person in args:
            row = _one(
                db,
                "SELECT r.run_id FROM rosters r JOIN roster_entries e ON e.roster_id = "
                "r.roster_id WHERE e.person_id = :p AND r.status = 'approved' "
                "ORDER BY r.roster_id DESC LIMIT 1",
                p=person,
            )
            run_id = str(row[0]) if row is not None else _newest_run(db)
            try:
                record_undertaking(
                    db, "off3", run_id, person, "pledge", signed_on=IN_WINDOW, witness="Kim"
                )
                signed.append(person)
            except AmnestyError as exc:
                print("  ", person, "refused:", str(exc).splitlines()[0][:160], flush=True)
        return f"signed {signed}"
    if name == "execute":
        row = _one(
            db,
            "SELECT roster_id FROM rosters WHERE facility_id = :f AND status = 'approved' "
            "ORDER BY roster_id DESC LIMIT 1",
            f=args[0],
        )
        if row is None:
            return "no approved roster"
        report = execute_roster(
            db, OFFICERS[args[0]], int(row[0]), release_date=IN_WINDOW, batch_size=2
        )
        return f"released {report.released}"
    if name == "revoke":
        row = _one(
            db,
            "SELECT r.run_id, r.person_id FROM releases r WHERE NOT EXISTS (SELECT 1 FROM "
            "release_revocations v WHERE v.release_id = r.release_id) ORDER BY r.release_id",
        )
        if row is None:
            return "nobody to revoke"
        revoke_release(
            db, "appr1", str(row[0]), str(row[1]), reason="in error", return_date=IN_WINDOW
        )
        return f"revoked {row[1]}"
    if name == "reimport":
        import_as(db, "admin", world["registry_dir"], profile="core", keep_amnesty_events=True)
        return "reimported"
    raise ValueError(f"unknown step {name!r}")


if __name__ == "__main__":
    url, world, steps = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    db = Database.open(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for item in steps:
        try:
            print(item, step(db, world, *item), flush=True)
        except (AmnestyError, sa.exc.DBAPIError) as exc:
            print(item, "refused:", str(exc).splitlines()[0][:200], flush=True)
