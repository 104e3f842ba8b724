"""Fixtures for the attack tests: a small deployment in which releases have happened.

Each attack starts from a world (``tests/workflow/casework_world.py``) in which a
roster was prepared, approved and executed by the real workflow, a certificate
printed and a checkpoint signed, so that every covered table has rows written
the way amnesty writes them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
