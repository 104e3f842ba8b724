"""``amnesty ...``: a thin Typer layer over the library.

Each module registers its commands on :data:`amnesty.cli.app.app`; this module
imports them all and turns amnesty's errors into ``Error: ...`` and exit 1.
"""

from __future__ import annotations

import importlib
import os
import sys

from amnesty.cli.app import app, state
from amnesty.errors import AmnestyError

COMMAND_MODULES = (
    "registry",
    "registry_generate",
    "decree",
    "demo",
    "workflow",
    "audit",
    "casework",
    "decrees",
    "evaluate",
    "explanation",
    "analysis",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"amnesty.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command module not written yet
        if exc.name != f"amnesty.cli.{_name}":
            raise


def run(argv: list[str]) -> int:
    """Run the CLI on ``argv`` and return its exit code (0 done, 1 refused, 2 usage)."""
    state["debug"] = "--debug" in argv
    try:
        app(args=argv, prog_name="amnesty", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except AmnestyError as exc:
        if state["debug"]:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    return 0


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(run(sys.argv[1:]))
