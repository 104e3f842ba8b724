"""Concurrent appends never fork the chain: seq and prev_hash stay one line."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from amnesty.audit.verify import verify
from amnesty.store.migrate import migrate
from amnesty.store.transaction import transaction

APPENDS = 25

APPENDER = """
import sys
from amnesty.store.transaction import transaction
url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.stdin.readline()  # start together
for i in range(n):
    with transaction(url, who, action="test.append", entity=("counter", who)) as tx:
        tx.audit(after={"i": i})
"""


def _append(url: str, who: str) -> None:
    for i in range(APPENDS):
        with transaction(url, who, action="test.append", entity=("counter", who)) as tx:
            tx.audit(after={"i": i})


def test_two_threads_on_duckdb(duck_url: str) -> None:
    migrate(duck_url)
    threads = [threading.Thread(target=_append, args=(duck_url, w)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = verify(duck_url)
    assert report.ok, report.problems
    assert report.events == report.head_seq == 2 * APPENDS


@pytest.mark.postgres
def test_two_processes_on_postgresql(pg_db: str) -> None:
    migrate(pg_db)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, pg_db, who, str(APPENDS)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    report = verify(pg_db)
    assert report.ok, report.problems
    assert report.events == report.head_seq == 2 * APPENDS
