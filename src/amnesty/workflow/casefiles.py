"""Reading what case work needs from the store: a run, its decree, a determination.

Shared by review, rosters and releases; every function takes an open
connection so the reads happen inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.decree.model import Decree
from amnesty.errors import ConfigError, IllegalTransition
from amnesty.store.tables import decrees, determinations, runs


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    decree_id: str
    decree_hash: str
    as_of: dt.date
    decree_status: str  # draft | signed
    signed_hash: str  # the decree's content hash as stored (signed: frozen)


@dataclass(frozen=True)
class Determination:
    run_id: str
    person_id: str
    facility_id: str | None
    outcome: str
    relief: str | None
    grounds: tuple[str, ...]
    blocking: tuple[str, ...]
    referred: tuple[str, ...]
    unknown: tuple[Any, ...]
    undertakings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "facility_id": self.facility_id,
            "outcome": self.outcome,
            "relief": self.relief,
            "grounds": list(self.grounds),
            "blocking": list(self.blocking),
            "referred": list(self.referred),
            "undertakings": list(self.undertakings),
        }


def run_info(connection: Connection, run_id: str) -> RunInfo:
    row = connection.execute(
        sa.select(
            runs.c.run_id,
            runs.c.decree_id,
            runs.c.decree_hash,
            runs.c.as_of,
            decrees.c.status,
            decrees.c.content_hash,
        )
        .join(decrees, decrees.c.decree_id == runs.c.decree_id)
        .where(runs.c.run_id == run_id)
    ).first()
    if row is None:
        raise ConfigError(f"no run {run_id!r}; amnesty run list shows the stored runs")
    return RunInfo(row[0], row[1], row[2], row[3], row[4], row[5])


def require_signed(run: RunInfo, step: str) -> None:
    """Only a run of a signed decree, at the hash that was signed, leads to releases."""
    if run.decree_status != "signed":
        raise IllegalTransition(
            f"{step}: run {run.run_id} evaluated decree {run.decree_id!r}, which is a draft; "
            "only runs of a signed decree lead to rosters and releases (sign it, then run again)"
        )
    if run.decree_hash != run.signed_hash:
        raise IllegalTransition(
            f"{step}: run {run.run_id} evaluated decree {run.decree_id!r} at content "
            f"{run.decree_hash[:12]}…, not the signed text {run.signed_hash[:12]}…; "
            "run the signed decree again"
        )


def determination(connection: Connection, run_id: str, person_id: str) -> Determination:
    row = (
        connection.execute(
            sa.select(determinations).where(
                determinations.c.run_id == run_id, determinations.c.person_id == person_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ConfigError(f"run {run_id} has no determination for person {person_id!r}")
    return determination_of(row)


def determinations_where(
    connection: Connection, run_id: str, *conditions: Any
) -> list[Determination]:
    rows = (
        connection.execute(
            sa.select(determinations)
            .where(determinations.c.run_id == run_id, *conditions)
            .order_by(determinations.c.person_id)
        )
        .mappings()
        .all()
    )
    return [determination_of(r) for r in rows]


def determination_of(row: sa.RowMapping) -> Determination:
    def items(name: str) -> tuple[Any, ...]:
        return tuple(json.loads(row[name] or "[]"))

    return Determination(
        run_id=row["run_id"],
        person_id=row["person_id"],
        facility_id=row["facility_id"],
        outcome=row["outcome"],
        relief=row["relief"],
        grounds=items("grounds"),
        blocking=items("blocking"),
        referred=items("referred"),
        unknown=items("unknown"),
        undertakings=items("undertakings"),
    )


# --- the decree a run evaluated, as a Decree object ---

_decrees: dict[str, Decree] = {}
_decrees_lock = threading.Lock()


def remember_decree(decree: Decree, content_hash: str | None = None) -> None:
    """Make ``decree`` the parsed form of its content hash in this process.

    Callers that already hold the parsed decree (the evaluate command, tests)
    spare a re-parse; everyone else gets :func:`decree_for_run`'s parse of the
    stored source text.
    """
    with _decrees_lock:
        _decrees[content_hash or decree.content_hash] = decree


def decree_for_run(connection: Connection, run: RunInfo) -> Decree:
    """The decree as it was evaluated, parsed from the text stored with it."""
    with _decrees_lock:
        cached = _decrees.get(run.decree_hash)
    if cached is None:
        text = connection.execute(
            sa.select(decrees.c.source_text).where(decrees.c.decree_id == run.decree_id)
        ).scalar_one()
        cached = parse_decree_text(text)
        remember_decree(cached, run.decree_hash)
    # A decree in parts: the part the run evaluated, named by its as-of date (the parts'
    # dates are distinct), so the release re-check re-derives that part and no other.
    return cached.evaluated_on(run.as_of)


def parse_decree_text(text: str) -> Decree:
    """Parse stored decree source with the language's own loader (it reads files)."""
    from amnesty import decree as decree_package

    load = getattr(decree_package, "load", None)
    if load is None:
        raise ConfigError("this installation cannot read decree files (amnesty.decree.load)")
    name = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    with tempfile.TemporaryDirectory(prefix="amnesty-decree-") as folder:
        path = Path(folder) / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        parsed: Decree = load(path)
    return parsed


def clause_text(decree: Decree, clause_id: str) -> str:
    try:
        return decree.clause(clause_id).text
    except KeyError:
        return f"(clause {clause_id} not in the decree text)"


def undertaking_text(decree: Decree, undertaking_id: str) -> str:
    for u in decree.undertakings:
        if u.id == undertaking_id:
            return u.text
    return f"(undertaking {undertaking_id} not in the decree text)"
