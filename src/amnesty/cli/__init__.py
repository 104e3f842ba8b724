"""``amnesty ...``: a thin Typer layer over the library.

Each module registers its commands on :data:`amnesty.cli.app.app`. This module
lists them (:data:`COMMAND_MODULES`: a new command is one line there), lets the
root group import a module only when its command runs, and turns amnesty's
errors into ``Error: ...`` and exit 1.
"""

from __future__ import annotations

import os
import sys

from amnesty.cli.app import app, state
from amnesty.errors import AmnestyError

PRIVATE_UMASK = 0o077

# command -> (the modules that register it and its sub-commands, its one-line help for
# ``amnesty --help``); tests/cli/test_lazy_commands.py holds the help to the modules'.
CASEWORK = ("casework", "casework_bulk")
COMMAND_MODULES: dict[str, tuple[tuple[str, ...], str]] = {
    "check": (("decree",), "Check a decree: every error with file:line:column; warnings for "
              "contested clauses, for what no possible person can meet (solver checks) and, "
              "with --db, for clauses that apply to nobody in that registry."),
    "demo": (("demo",), "Run the October 2015 founding case end to end: registry, two "
             "rounds, case work."),
    "evaluate": (("evaluate",), "Decide everyone under sentence on the as-of date; record "
                 "the run; print the summary."),
    "explain": (("explanation",), "One person, clause by clause, with legal text, value and "
                "the facts read; with --run, beside what that stored run decided and whether "
                "they agree."),
    "registry": (("registry", "registry_generate"),
                 "Generate, import and inspect a prison registry."),
    "run": (("runs",), "Stored runs: inputs, counts and reproducibility."),
    "user": (("users",), "Accounts, roles, facility scope and credentials."),
    "login": (("users",), "Prove who you are with your password; a token is issued and kept "
              "(0600) in your config ($AMNESTY_CONFIG, else ~/.config/amnesty/tokens.json) for "
              "this database."),
    "logout": (("users",), "Revoke the token amnesty login kept for this database and forget "
               "it."),
    "serve": (("serve",), "Serve the JSON API under /api (schema at /openapi.json) and the web "
              "pages."),
    "remote": (("remote",), "Case work through an amnesty server (--server URL): no database "
               "credentials."),
    "audit": (("audit",), "Verify, export and checkpoint the audit chain."),
    "db": (("database",), "The database: upgrade its schema; set up its PostgreSQL roles."),
    "review": (CASEWORK, "The review queue: cases the engine referred to a person."),
    "roster": (CASEWORK, "Facility rosters: prepare, check, approve (four eyes), withdraw."),
    "release": (CASEWORK, "Execution: undertakings, releases, revocations."),
    "certificate": (("casework",), "Release certificates as PDF."),
    "decree": (("decrees",), "Decrees in the store: sign (freeze by content hash) and list."),
    "diff": (("analysis",), "Who changes outcome or relief, grouped by the clause that made "
             "the difference."),
    "report": (("analysis",), "A run's report with charts: by division, facility, offence, "
               "ground, outcome."),
    "compare": (("analysis",), "Two runs side by side, table by table (for example the two "
                "2015 rounds)."),
    "clause-stats": (("analysis",), "How many persons each clause decided; clauses that decided "
                     "nobody; shadowed grants."),
    "profile": (("profile",), "Registry profiles: a jurisdiction declared in a TOML file."),
    "prove": (("prove",), "Prove the decree's assertions for every possible person, or print "
              "a counterexample."),
}  # fmt: skip


def run(argv: list[str]) -> int:
    """Run the CLI on ``argv`` and return its exit code (0 done, 1 refused, 2 usage)."""
    state["debug"] = "--debug" in argv
    # Whatever a command creates (the DuckDB database, exports, rejects, PDFs, keys) holds
    # personal or health data: files 0600, folders 0700, whichever module creates them.
    previous_umask = os.umask(PRIVATE_UMASK)
    try:
        app(args=argv, prog_name="amnesty", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except AmnestyError as exc:
        if state["debug"]:
            raise
        from amnesty.cli.output import inert  # a message may quote a user's input

        print(f"Error: {inert(exc, lines=True)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    finally:
        os.umask(previous_umask)
    return 0


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    sys.exit(run(sys.argv[1:]))
