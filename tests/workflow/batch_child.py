"""Run one roster's batch release in a child process (the fault tests kill it).

Usage: python batch_child.py DB_URL ROSTER_ID
"""

from __future__ import annotations

import sys

from casework_world import IN_WINDOW, make_decree

from amnesty.workflow.casefiles import remember_decree
from amnesty.workflow.releases import execute_roster

if __name__ == "__main__":
    url, roster_id = sys.argv[1], int(sys.argv[2])
    remember_decree(make_decree())
    report = execute_roster(url, "off1", roster_id, release_date=IN_WINDOW, evaluator=None)
    print(f"released={len(report.released)} already={len(report.already)}")
