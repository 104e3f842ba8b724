"""Two reviewers decide the same case at once: one wins, the other gets Conflict.

Two threads of one process on both databases (on PostgreSQL they race on the
unique key; on DuckDB the store serialises writers and the second sees the
first's decision). On PostgreSQL also two processes (``review_child.py``): once
with both forced to read the case open before either writes, and round after
round released together from an advisory-lock gate. On DuckDB a second process
that wants to write while another holds the file gets "database busy" from the
CLI. Nothing half-written: one decision record, one ok event, the refusal audited.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from casework_world import World, build_world

from amnesty.errors import Conflict
from amnesty.store.engine import dispose_engine
from amnesty.workflow import review


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url)


def test_two_reviewers_at_once(world: World) -> None:
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(who: str, outcome: str) -> None:
        start.wait()
        try:
            review.decide(world.url, who, world.run_id, "P03", outcome, f"{who} read the file")
            outcomes[who] = "won"
        except Conflict as lost:
            outcomes[who] = str(lost)

    threads = [
        threading.Thread(target=decide, args=("rev1", "eligible")),
        threading.Thread(target=decide, args=("rev2", "ineligible")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["rev1", "rev2"]
    winners = [w for w, o in outcomes.items() if o == "won"]
    assert len(winners) == 1
    loser = "rev2" if winners == ["rev1"] else "rev1"
    assert "already decided" in outcomes[loser] and f"by {winners[0]} at" in outcomes[loser]
    assert len(review.case_history(world.url, world.run_id, "P03")) == 1
    ok = world.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'review.decide' AND outcome = 'ok'"
    )
    refused = world.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'review.decide' AND outcome = 'refused'"
    )
    assert (ok[0][0], refused[0][0]) == (1, 1)


# -- two processes ------------------------------------------------------------------------

HERE = Path(__file__).parent
GATE = 0x52455649  # the advisory lock both reviewers wait on ("REVI"); below 2**32
ROUNDS = 4
DECISIONS = {"rev1": "eligible", "rev2": "ineligible"}


def _reviewer(url: str, run_id: str, who: str, gate: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "review_child.py"), url, run_id, "P03", who,
         DECISIONS[who], gate],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _count(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _wait_until(
    condition: Callable[[], bool], children: list[subprocess.Popen[str]], what: str
) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        ended = [c for c in children if c.poll() is not None]
        if ended or time.monotonic() > deadline:
            for c in children:
                c.kill()
            outputs = [c.communicate() for c in children]
            pytest.fail(f"waiting for {what}: a reviewer ended or hung: {outputs}")
        time.sleep(0.02)


def _results(children: list[subprocess.Popen[str]]) -> dict[str, dict[str, object]]:
    results = {}
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        line = json.loads(out.strip().splitlines()[-1])
        results[str(line["who"])] = line
    return results


def _one_winner(results: dict[str, dict[str, object]]) -> tuple[str, str]:
    """(winner, loser), after checking the loser's message names the winner."""
    assert sorted(results) == ["rev1", "rev2"], results
    winners = [w for w, r in results.items() if r["result"] == "won"]
    assert len(winners) == 1, results
    winner, loser = winners[0], ({"rev1", "rev2"} - set(winners)).pop()
    assert results[loser]["result"] == "conflict"
    message = str(results[loser]["message"])
    assert "already decided" in message and f"by {winner} at" in message, message
    return winner, loser


def _audited(world: World, outcome: str) -> int:
    rows = world.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'review.decide' AND outcome = :o",
        o=outcome,
    )
    return int(rows[0][0])


def _blocked_on(table: str) -> str:
    return (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        f"WHERE c.relname = '{table}' AND NOT l.granted"
    )


WAITING_AT_GATE = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
    f"AND classid = 0 AND objid = {GATE} AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.mark.postgres
def test_two_processes_that_both_read_the_case_open(pg_db: str) -> None:
    """Both reviewers read "open" before either writes: the unique key lets one in."""
    import psycopg

    world = build_world(pg_db)
    with psycopg.connect(pg_db) as holder:  # a transaction that lets reads through, not writes
        holder.execute("LOCK TABLE review_decisions IN SHARE MODE")
        children = [_reviewer(pg_db, world.run_id, who, "-") for who in ("rev1", "rev2")]
        _wait_until(
            lambda: _count(pg_db, _blocked_on("review_decisions")) == 2,
            children,
            "both reviewers to read the case and wait to write",
        )
        holder.commit()
    results = _results(children)
    winner, loser = _one_winner(results)
    assert results[loser]["unique_key"] is True
    history = review.case_history(world.url, world.run_id, "P03")
    assert [(r.kind, r.decided_by, r.outcome) for r in history] == [
        ("decide", winner, DECISIONS[winner])
    ]
    assert (_audited(world, "ok"), _audited(world, "refused")) == (1, 1)


@pytest.mark.postgres
def test_two_processes_released_together_round_after_round(pg_db: str) -> None:
    """Two processes held at one gate and let go at once, ROUNDS times (the case is
    reopened between rounds): each time one decision, one Conflict naming the winner,
    and the refusal audited."""
    import psycopg

    world = build_world(pg_db)
    for n in range(1, ROUNDS + 1):
        with psycopg.connect(pg_db, autocommit=True) as gate:
            gate.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            children = [_reviewer(pg_db, world.run_id, who, str(GATE)) for who in DECISIONS]
            _wait_until(
                lambda: _count(pg_db, WAITING_AT_GATE) == 2, children, "both reviewers at the gate"
            )
            gate.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
        winner, _loser = _one_winner(_results(children))
        history = review.case_history(world.url, world.run_id, "P03")
        decided = [r for r in history if r.kind == "decide"]
        assert len(decided) == n and (decided[-1].decided_by, decided[-1].outcome) == (
            winner,
            DECISIONS[winner],
        )
        assert [r.version for r in history] == list(range(1, len(history) + 1))
        assert (_audited(world, "ok"), _audited(world, "refused")) == (n, n)
        review.reopen(world.url, winner, world.run_id, "P03", f"round {n} done")


HOLDER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("BEGIN TRANSACTION")
conn.execute("SELECT count(*) FROM review_decisions").fetchall()
print("holding", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
"""


def test_a_second_writing_process_on_duckdb_is_told_the_database_is_busy(
    duck_url: str,
) -> None:
    world = build_world(duck_url)
    dispose_engine(world.url)  # this process lets go of the file; the holder takes it
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, world.url.target],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    decide = [
        sys.executable, "-m", "amnesty", "review", "decide", "--run", world.run_id, "P03",
        "eligible", "--reason", "read the file", "--as", "rev1", "--db", world.url.target,
    ]  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        busy = subprocess.run(decide, capture_output=True, text=True, timeout=120, check=False)
    finally:
        holder.communicate(input="", timeout=60)
    assert holder.returncode == 0
    assert busy.returncode == 1, busy.stderr
    assert busy.stderr.startswith("Error: database busy: "), busy.stderr
    assert world.url.target in busy.stderr and "Traceback" not in busy.stderr
    assert review.case_history(world.url, world.run_id, "P03") == []  # nothing half-written
    dispose_engine(world.url)
    done = subprocess.run(decide, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "P03: decided eligible (version 1)"
