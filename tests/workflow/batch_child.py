"""Run one roster's batch release in a child process (the fault tests kill it).

Usage: python batch_child.py DB_URL ROSTER_ID [BATCH_SIZE [OFFICER]]

BATCH_SIZE defaults to 1 (each release its own transaction), OFFICER to off1.

With ``BATCH_CHILD_WAIT=1`` the child prints ``ready`` once its imports are done and
waits for a line on standard input before it starts, so that a test can start two
children at the same instant however long Python takes to start on a loaded machine.

The decree is parsed from the text stored with the run, and each person is
re-checked with the real engine, as in production.
"""

from __future__ import annotations

import os
import sys

from casework_world import IN_WINDOW

from amnesty.workflow.batches import execute_roster

if __name__ == "__main__":
    url, roster_id = sys.argv[1], int(sys.argv[2])
    batch_size = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    officer = sys.argv[4] if len(sys.argv) > 4 else "off1"
    if os.environ.get("BATCH_CHILD_WAIT") == "1":
        print("ready", flush=True)
        sys.stdin.readline()
    report = execute_roster(url, officer, roster_id, release_date=IN_WINDOW, batch_size=batch_size)
    print(f"released={len(report.released)} already={len(report.already)}")
