"""Run one roster's batch release in a child process (the fault tests kill it).

Usage: python batch_child.py DB_URL ROSTER_ID

The decree is parsed from the text stored with the run, and each person is
re-checked with the real engine, as in production.
"""

from __future__ import annotations

import sys

from casework_world import IN_WINDOW

from amnesty.workflow.batches import execute_roster

if __name__ == "__main__":
    url, roster_id = sys.argv[1], int(sys.argv[2])
    report = execute_roster(url, "off1", roster_id, release_date=IN_WINDOW)
    print(f"released={len(report.released)} already={len(report.already)}")
