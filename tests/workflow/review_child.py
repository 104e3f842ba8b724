"""One reviewer in a process of its own, for the two-process race on PostgreSQL.

Usage: python review_child.py PG_URL RUN_ID PERSON_ID REVIEWER OUTCOME GATE

The child first does everything but the decision (imports, the schema check, a
pooled connection), then, when GATE is a number, waits on that PostgreSQL
advisory lock, which the test holds until both children wait on it and then
releases, so that both call :func:`amnesty.workflow.review.decide` at once.
GATE ``-`` starts at once. The result is one JSON line on stdout: ``won`` with
the version written, or ``conflict`` with the message and whether the loss was
caught by the unique key (both read the case open) or by the read (the winner
had already committed).
"""

from __future__ import annotations

import json
import sys

import psycopg
import sqlalchemy as sa

from amnesty.errors import Conflict
from amnesty.store.engine import get_engine
from amnesty.store.migrate import migrate
from amnesty.workflow import review

if __name__ == "__main__":
    url, run_id, person, who, outcome, gate = sys.argv[1:7]
    migrate(url)
    with get_engine(url).connect() as warm:
        warm.execute(sa.text("SELECT 1"))
    if gate != "-":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock_shared(%s)", (int(gate),))
            conn.execute("SELECT pg_advisory_unlock_shared(%s)", (int(gate),))
    try:
        record = review.decide(url, who, run_id, person, outcome, f"{who} read the file")
        result = {"who": who, "result": "won", "version": record.version}
    except Conflict as lost:
        on_key = isinstance(lost.__cause__, sa.exc.IntegrityError)
        result = {"who": who, "result": "conflict", "message": str(lost), "unique_key": on_key}
    print(json.dumps(result), flush=True)
