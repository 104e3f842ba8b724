"""The attack tests of issue #9: each one what an insider or an intruder tried.

Audit attacks start from a world (``tests/workflow/casework_world.py``) in which a
roster was prepared, approved and executed by the real workflow, so that every
covered table has rows written the way amnesty writes them; import attacks start
from the registry suite's hand-made extract (``tests/registry/import_fixtures.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The worlds of the workflow and registry suites, shared rather than built twice.
for suite in ("workflow", "registry"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / suite))
