"""SIGKILL in the middle of a batch release, then restart: nothing lost, nothing twice.

The batch runs in a child process (``batch_child.py``) that is killed either at
an injected fault point (``AMNESTY_FAULT``, see ``amnesty.workflow.faults``) or
after a random short delay. Afterwards every release must have its registry
event, its certificate and its audit event; a second run finishes the roster
without releasing anyone twice, and ``audit verify`` passes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from casework_world import PEOPLE, World, build_world, check_releases_whole

from amnesty.audit.verify import verify
from amnesty.store.db import DatabaseURL
from amnesty.store.engine import dispose_engine
from amnesty.workflow.rosters import approve_roster, prepare_roster

HERE = Path(__file__).parent
F1_ELIGIBLE = sorted(p for p, v in PEOPLE.items() if v[2] == "F1" and v[3] == "eligible")


def _world_with_roster(url: str) -> tuple[World, int]:
    world = build_world(url)
    # P01 must sign a pledge; leave it unsigned so the batch always stops for them.
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    dispose_engine(world.url)  # the child process needs the DuckDB file lock
    return world, roster.roster_id


def _child(url: DatabaseURL, roster_id: int, fault: str | None) -> subprocess.Popen[str]:
    dispose_engine(url)  # on DuckDB the child needs the file lock
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    env.pop("AMNESTY_FAULT", None)
    if fault:
        env["AMNESTY_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, str(HERE / "batch_child.py"), url.target, str(roster_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish_and_verify(world: World, roster_id: int) -> None:
    dispose_engine(world.url)
    left = len(check_releases_whole(world)) < len(F1_ELIGIBLE) - 1
    dispose_engine(world.url)
    done = _child(world.url, roster_id, None)
    _out, err = done.communicate(timeout=120)
    if left:
        assert done.returncode == 0, err
    else:  # a killed run finished before its kill: another run refuses, changes nothing
        assert done.returncode == 1 and "nobody on roster" in err, err
    released = check_releases_whole(world)
    assert sorted(released) == [p for p in F1_ELIGIBLE if p != "P01"]
    report = verify(world.url)
    assert report.ok, report.problems


@pytest.mark.parametrize(
    "fault",
    ["after_event_insert:2", "after_release_insert:1", "before_commit:3", "after_commit:2"],
)
def test_kill_at_a_fault_point_then_resume(backend_url: str, fault: str) -> None:
    world, roster_id = _world_with_roster(backend_url)
    child = _child(world.url, roster_id, fault)
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    released = check_releases_whole(world)
    point, _, nth = fault.partition(":")
    committed_before_kill = int(nth) - (0 if point == "after_commit" else 1)
    assert len(released) == committed_before_kill
    _finish_and_verify(world, roster_id)


def test_kill_at_random_moments_then_resume(backend_url: str) -> None:
    world, roster_id = _world_with_roster(backend_url)
    rng = random.Random(4)
    for _ in range(3):
        child = _child(world.url, roster_id, None)
        time.sleep(rng.uniform(0.5, 2.5))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        dispose_engine(world.url)
        check_releases_whole(world)
    _finish_and_verify(world, roster_id)
