"""Random interleavings of case work across two processes on PostgreSQL (issue #9).

Each seed draws, for two real client processes (``interleaving_child.py``), a list
of steps among evaluate, prepare and approve a roster (F1, which holds a person
referred to review and an ineligible one, or F3, whose crowd must sign a pledge),
sign a pledge, execute, revoke and re-import the registry; the two start at one
instant; on some seeds one is killed with SIGKILL at a random moment. Afterwards:

- nobody is released twice in one custody episode, and nobody holds two standing
  releases;
- nobody is released whom the run did not find eligible, nor without the pledge
  their determination requires;
- ``audit verify`` passes; then, on some seeds, the test tampers with the database
  as an intruder would (deletes a release with its certificate, makes an
  ineligible determination eligible, edits an audit event, deletes an undertaking),
  and ``audit verify`` fails exactly then.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from released_world import build_world

from amnesty.audit.verify import verify
from amnesty.store.database import Database
from amnesty.store.engine import dispose_engine, get_engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHILD = Path(__file__).with_name("interleaving_child.py")
CROWD = 6
SEEDS = [3, 8, 11, 26]  # odd seeds tamper, after checking the untouched database
TAMPERS = ["delete_release", "make_eligible", "edit_event", "delete_undertaking"]


def _steps(rng: random.Random, crowd: list[str], reimport: bool) -> list[list[str]]:
    kinds = ["roster", "roster", "undertake", "undertake", "undertake", "execute", "execute",
             "execute", "execute", "revoke", "evaluate"]  # fmt: skip
    steps: list[list[str]] = []
    for _ in range(rng.randint(5, 8)):
        kind = rng.choice(kinds)
        if kind in ("roster", "execute"):
            steps.append([kind, rng.choice(["F1", "F3", "F3"])])
        elif kind == "undertake":
            steps.append([kind, *rng.sample(crowd, rng.randint(1, len(crowd)))])
        else:
            steps.append([kind])
    if reimport:
        steps.insert(rng.randint(0, len(steps)), ["reimport"])
    return steps


def _rows(url: str, statement: str) -> list[tuple[object, ...]]:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(statement)).all()]


def _invariants(url: str) -> None:
    twice = _rows(
        url,
        "SELECT person_id, custody_episode FROM releases GROUP BY person_id, custody_episode "
        "HAVING count(*) > 1",
    )
    assert not twice, f"released twice in one custody episode: {twice}"
    standing = _rows(
        url,
        "SELECT person_id FROM releases r WHERE NOT EXISTS (SELECT 1 FROM release_revocations "
        "v WHERE v.release_id = r.release_id) GROUP BY person_id HAVING count(*) > 1",
    )
    assert not standing, f"two standing releases: {standing}"
    ineligible = _rows(
        url,
        "SELECT r.person_id, d.outcome FROM releases r LEFT JOIN determinations d "
        "ON d.run_id = r.run_id AND d.person_id = r.person_id "
        "WHERE d.outcome IS DISTINCT FROM 'eligible'",
    )
    assert not ineligible, f"released without an eligible determination: {ineligible}"
    unpledged = _rows(
        url,
        "SELECT r.person_id FROM releases r JOIN determinations d ON d.run_id = r.run_id "
        "AND d.person_id = r.person_id WHERE d.undertakings LIKE '%pledge%' AND NOT EXISTS "
        "(SELECT 1 FROM undertaking_records u WHERE u.run_id = r.run_id AND u.person_id = "
        "r.person_id AND u.status = 'signed')",
    )
    assert not unpledged, f"released without the pledge: {unpledged}"


def _tamper(url: str, how: str, rng: random.Random) -> str:
    """Change the database behind amnesty; the statement, for the failure message."""
    released = _rows(url, "SELECT release_id FROM releases ORDER BY release_id")
    pledged = _rows(url, "SELECT record_id FROM undertaking_records ORDER BY record_id")
    if how == "delete_release" and released:
        rid = rng.choice(released)[0]
        statements = [
            f"DELETE FROM release_revocations WHERE release_id = {rid}",
            f"DELETE FROM certificates WHERE release_id = {rid}",
            f"DELETE FROM releases WHERE release_id = {rid}",
        ]
    elif how == "delete_undertaking" and pledged:
        statements = [f"DELETE FROM undertaking_records WHERE record_id = {rng.choice(pledged)[0]}"]
    elif how == "make_eligible":
        statements = ["UPDATE determinations SET outcome = 'eligible' WHERE person_id = 'P04'"]
    else:
        seq = rng.choice(_rows(url, "SELECT seq FROM audit_events"))[0]
        statements = [f"UPDATE audit_events SET actor = 'someone else' WHERE seq = {seq}"]
    with get_engine(url).begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    return "; ".join(statements)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_casework_interleavings_keep_releases_whole(seed: int, pg_db: str) -> None:
    rng = random.Random(seed)
    world = build_world(pg_db, crowd=CROWD)
    crowd = [f"B{i:06d}" for i in range(1, CROWD + 1)]
    facts = json.dumps(
        {"decree_path": str(world.decree_path), "registry_dir": str(world.registry_dir)}
    )
    reimporter = rng.choice([0, 1, None])
    plans = [_steps(rng, crowd, reimporter == i) for i in (0, 1)]
    plans[0][:0] = [["roster", "F3"], ["undertake", *crowd[: CROWD // 2]]]  # a start
    dispose_engine(world.url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHILD.parent), *sys.path])}
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), pg_db, facts, json.dumps(plan)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr and child.stderr.read()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    killed = None
    if rng.random() < 0.5:
        killed = rng.randrange(2)
        time.sleep(rng.uniform(0.2, 4.0))
        children[killed].send_signal(signal.SIGKILL)
    logs = []
    for i, child in enumerate(children):
        out, err = child.communicate(timeout=240)
        logs.append(f"child {i} plan {plans[i]}:\n{out}")
        if i != killed:
            assert child.returncode == 0, f"{logs[-1]}\n{err[-3000:]}"
    story = "\n".join(logs) + f"\nkilled: {killed}"
    print(story)  # shown with -s, and with a failure

    _invariants(pg_db)
    Database.open(pg_db)
    assert verify(Database.open(pg_db).url).problems == [], story
    tampered = seed % 2 == 1
    if tampered:
        what = _tamper(pg_db, rng.choice(TAMPERS), rng)
        problems = verify(Database.open(pg_db).url).problems
        assert problems, f"audit verify passed after: {what}\n{story}"
        print("tampered:", what, "->", problems[0])
    else:
        assert verify(Database.open(pg_db).url).problems == [], story
