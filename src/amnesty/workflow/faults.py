"""Injected crashes for the fault tests: nothing happens unless ``AMNESTY_FAULT`` is set.

``AMNESTY_FAULT=NAME`` makes the process SIGKILL itself the first time it
reaches :func:`fault_point` ``NAME``; ``AMNESTY_FAULT=NAME:N`` on the N-th time
(so a batch dies in its middle). SIGKILL, not an exception: no ``finally``, no
rollback handler, no flush runs, exactly as when the machine loses power, so
the tests show that the database alone keeps releases whole.

Points in a release (:mod:`amnesty.workflow.releases`): ``after_event_insert``,
``after_release_insert``, ``before_commit``, ``after_commit``.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    spec = os.environ.get("AMNESTY_FAULT")
    if not spec:
        return
    wanted, _, count = spec.partition(":")
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
