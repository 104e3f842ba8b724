"""A world in which one roster was executed: the starting point of every audit attack.

The world is the workflow suite's (``tests/workflow/casework_world.py``), in which a
roster is prepared, approved and executed by the real workflow, so that every
covered table has rows written the way amnesty writes them. Attack tests import
it from here, which puts that suite's folder on the path first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import IN_WINDOW, SECOND_ROUND, World, build_world

from amnesty.store.db import DatabaseURL
from amnesty.workflow.batches import execute_roster
from amnesty.workflow.releases import record_undertaking
from amnesty.workflow.rosters import approve_roster, prepare_roster

__all__ = [
    "IN_WINDOW",
    "RELEASED",
    "SECOND_ROUND",
    "Released",
    "World",
    "build_world",
    "key_file",
    "released_world",
]

RELEASED = ["P01", "P02", "P06", "P07"]  # F1's eligible persons in the casework world


@dataclass
class Released:
    world: World
    roster_id: int

    @property
    def url(self) -> DatabaseURL:
        return self.world.url


def released_world(url: str | DatabaseURL) -> Released:
    world = build_world(url)
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    record_undertaking(
        world.url, "off1", world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Kim"
    )
    report = execute_roster(world.url, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == RELEASED, report
    return Released(world, roster.roster_id)


def key_file(folder: Path) -> Path:
    return folder / "audit.key"
