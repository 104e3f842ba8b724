"""The registry suite's hand-made extract (``tests/registry/import_fixtures.py``), for the
import attacks; importing it from here puts that suite's folder on the path first."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))

from import_fixtures import D, registry, write

__all__ = ["D", "registry", "write"]
