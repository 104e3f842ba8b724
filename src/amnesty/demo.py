"""The founding case end to end: what ``amnesty demo`` does, importable.

1. generate the kp-2015 registry and import it into a fresh embedded database;
2. sign and decide the first 2015 round (liberation anniversary, 1 August);
3. case work on it: demo users decide a few reviews, prepare and approve the
   rosters of a few facilities, record the undertakings and release;
4. decide the second round (8 October) over the registry as the releases left
   it: those released in August are no longer in its population;
5. case work at Kaechon camp No. 14, where release needs the pledge;
6. print certificates and verify the audit chain.

Only a few facilities are executed: in the real amnesty execution took days in
every county, and the demo shows the path, not the volume.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amnesty.audit.verify import verify
from amnesty.errors import ConfigError
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.store.database import Database
from amnesty.store.db import resolve_db
from amnesty.store.engine import dispose_engine
from amnesty.workflow import batches, releases, review, rosters
from amnesty.workflow.certificate_store import print_certificates
from amnesty.workflow.decrees import sign_decree
from amnesty.workflow.evaluate import RecordedRun, evaluate_and_record
from amnesty.workflow.users import Role, add_user, confirm_user

ROUND_1 = "kp-2015-08-liberation.toml"
ROUND_2 = "kp-2015-10-party-founding.toml"
KAECHON_14 = "KP-CAMP-14"
# Each release is its own audited transaction; the demo executes a day's share of
# each roster and leaves the rest pending (``amnesty release execute`` resumes).
EXECUTE_PER_ROSTER = 60

# name, roles; the officer's facilities are chosen once the rosters are known
DEMO_USERS = (
    ("admin", ("admin",)),
    ("admin-2", ("admin",)),  # the installation's first two admins, set up together
    ("drafter", ("drafter",)),
    ("reviewer-kim", ("reviewer",)),
    ("reviewer-ri", ("reviewer",)),
    ("approver-pak", ("approver",)),
)

Say = Callable[[str], None]


@dataclass
class DemoReport:
    workdir: Path
    db: str
    runs: list[RecordedRun] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)  # run id -> persons released
    refused: dict[str, int] = field(default_factory=dict)
    reviews_decided: int = 0
    certificates: list[Path] = field(default_factory=list)
    audit_events: int = 0
    seconds: float = 0.0
    passwords: Path | None = None  # the demo users' passwords, readable by their owner only


def _demo_password(report: DemoReport, name: str) -> str:
    """A fresh random password for a demo user, appended to the 0600 passwords file."""
    import os
    import secrets

    assert report.passwords is not None
    password = secrets.token_urlsafe(12)
    fd = os.open(report.passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(f"{name}\t{password}\n")
    return password


def try_next(report: DemoReport) -> list[str]:
    """The commands the demo suggests afterwards, each runnable exactly as printed."""
    import shlex

    db = shlex.quote(report.db)
    second = report.runs[-1]
    decree = shlex.quote(str(decrees_dir() / ROUND_2))
    det = second.evaluation.determinations
    eligible = [
        p
        for p, o in zip(det["person_id"].to_pylist(), det["outcome"].to_pylist(), strict=True)
        if o == "eligible"
    ]
    person = eligible[0] if eligible else det["person_id"][0].as_py()
    run_id = second.run.run_id
    return [
        f"amnesty registry show --db {db}",
        f"amnesty run list --db {db}",
        f"amnesty review list --run {run_id} --db {db}",
        f"amnesty roster show --run {run_id} --db {db}",
        f"amnesty explain {decree} {person} --run {run_id} --db {db}",
        f"amnesty audit verify --db {db}",
    ]


def login_line(report: DemoReport) -> str:
    """How to act as a demo user afterwards (the password is in ``report.passwords``)."""
    import shlex

    return f"amnesty login --as approver-pak --db {shlex.quote(report.db)}"


def decrees_dir() -> Path:
    """The shipped decrees: in the source tree beside ``src/``, or inside the wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "decrees", here.parent / "_decrees", Path("decrees")):
        if (candidate / ROUND_2).exists():
            return candidate
    raise ConfigError("cannot find the shipped decrees folder (decrees/)")


def run_demo(
    workdir: Path, persons: int = 100_000, seed: int = 2015, say: Say = print
) -> DemoReport:
    started = time.perf_counter()
    say = _timed(say, started)
    workdir = workdir.resolve()
    registry_dir = workdir / "registry"
    db_path = workdir / "amnesty.duckdb"
    _fresh(workdir, db_path, registry_dir)
    url = resolve_db(str(db_path))
    report = DemoReport(workdir=workdir, db=str(db_path))

    say(f"1. Generating a kp-2015 registry of {persons:,} persons (seed {seed}) ...")
    gen = generate("kp-2015", persons, seed, registry_dir)
    say(f"   {sum(gen.tables.values()):,} rows in {len(gen.tables)} tables, {gen.seconds:.1f} s")
    imported = import_registry(url, registry_dir)
    say(f"   imported into {db_path.name}; snapshot {imported.content_hash[:12]}")
    db = Database.open(url)

    report.passwords = workdir / "demo-passwords.txt"
    add_user(db, "admin", ["admin"], password=_demo_password(report, "admin"))
    for name, roles in DEMO_USERS[1:]:
        add_user(db, name, list(roles), actor="admin", password=_demo_password(report, name))
        if Role.approver in roles:  # an approver's grant is confirmed by a second admin
            confirm_user(db, name, actor="admin-2")

    decrees = decrees_dir()
    first = _decide(db, decrees / ROUND_1, report, say, step="2")
    _casework(db, first, report, say, "officer-aug", _busiest_facilities(first, 3))

    second = _decide(db, decrees / ROUND_2, report, say, step="4")
    left = second.evaluation.left_out.by_decree
    say(f"   left out because round 1 released them: {left.get(first.decree.id, 0):,}")
    _casework(db, second, report, say, "officer-kaechon", [KAECHON_14])

    say("6. Certificates and the audit chain ...")
    out = workdir / "certificates"
    report.certificates = print_certificates(
        db, "officer-kaechon", out, run_id=second.run.run_id, facility_id=KAECHON_14
    )
    verification = verify(url)
    if not verification.ok:
        first_problem = verification.problems[0]
        raise ConfigError(f"audit verify failed: {first_problem.where}: {first_problem.what}")
    report.audit_events = verification.events
    say(
        f"   {len(report.certificates)} PDF(s) in {out}; audit chain verified "
        f"({verification.events:,} events, {verification.releases} releases)"
    )
    dispose_engine(url)
    report.seconds = time.perf_counter() - started
    return report


def _timed(say: Say, started: float) -> Say:
    """Every line carries the seconds since the demo started."""

    def timed(line: str) -> None:
        say(f"[{time.perf_counter() - started:5.1f}s] {line}")

    return timed


def _fresh(workdir: Path, db_path: Path, registry_dir: Path) -> None:
    """The demo always starts from nothing, and only ever deletes its own files."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in (db_path, db_path.with_suffix(".duckdb.wal"), workdir / "demo-passwords.txt"):
        stale.unlink(missing_ok=True)
    for folder in (registry_dir, workdir / "certificates"):
        if folder.exists():
            shutil.rmtree(folder)


def _decide(url: Database, path: Path, report: DemoReport, say: Say, step: str) -> RecordedRun:
    say(f"{step}. Deciding {path.name} ...")
    recorded = evaluate_and_record(url, path, actor="drafter")
    sign_decree(url, recorded.decree.id, "admin")
    report.runs.append(recorded)
    summary = recorded.evaluation.summary()
    outcomes = ", ".join(f"{k} {v:,}" for k, v in summary["by_outcome"].items())
    say(
        f"   run {recorded.run.run_id}: {summary['persons']:,} persons decided ({outcomes}); "
        f"{summary['resting_only_on_assumptions']:,} eligible rest only on assumptions"
    )
    return recorded


def _busiest_facilities(recorded: RecordedRun, n: int) -> list[str]:
    counts: dict[str, int] = {}
    det = recorded.evaluation.determinations
    for fid, outcome in zip(
        det["facility_id"].to_pylist(), det["outcome"].to_pylist(), strict=True
    ):
        if outcome == "eligible" and fid:
            counts[fid] = counts.get(fid, 0) + 1
    # the smallest non-trivial rosters keep the demo quick while still showing the path
    ranked = sorted((c, f) for f, c in counts.items() if c >= 2)
    return [f for _, f in ranked[:n]]


def _casework(
    url: Database,
    recorded: RecordedRun,
    report: DemoReport,
    say: Say,
    officer: str,
    facilities: list[str],
) -> None:
    run_id = recorded.run.run_id
    window = recorded.decree.execution_window
    day = window[0] if window else recorded.evaluation.as_of
    password = _demo_password(report, officer)
    add_user(url, officer, ["facility_officer"], facilities, actor="admin", password=password)

    queue = [c for c in review.review_queue(url, run_id) if c.facility_id in facilities][:4]
    for i, case in enumerate(queue):
        reviewer = "reviewer-kim" if i % 2 == 0 else "reviewer-ri"
        outcome = "eligible" if i % 2 == 0 else "ineligible"
        review.decide(
            url,
            reviewer,
            run_id,
            case.person_id,
            outcome,
            f"Demo decision: file reviewed, {outcome} on the facts recorded.",
        )
        report.reviews_decided += 1
    step = "3" if len(report.runs) == 1 else "5"
    say(f"{step}. Case work on {', '.join(facilities)}: {len(queue)} review(s) decided")

    released = refused = pending = 0
    for facility in facilities:
        roster = rosters.prepare_roster(url, officer, run_id, facility)
        rosters.approve_roster(url, "approver-pak", roster.roster_id)
        _, entries = rosters.get_roster(url, roster.roster_id)
        # undertakings are signed by those released today: the day's share of the roster
        for entry in entries[:EXECUTE_PER_ROSTER]:
            for undertaking in _required(recorded, entry.person_id):
                releases.record_undertaking(
                    url,
                    officer,
                    run_id,
                    entry.person_id,
                    undertaking,
                    signed_on=day,
                    witness="Demo witness",
                )
        batch = batches.execute_roster(
            url, officer, roster.roster_id, release_date=day, limit=EXECUTE_PER_ROSTER
        )
        released += len(batch.released)
        refused += len(batch.stopped)
        pending += max(0, len(entries) - len(batch.released) - len(batch.stopped))
    report.released[run_id] = released
    report.refused[run_id] = refused
    say(
        f"   rosters approved (four eyes), undertakings signed, {released} released, "
        f"{refused} stopped by the re-check, {pending} left for the next day's batch"
    )


def _required(recorded: RecordedRun, person_id: str) -> list[str]:
    det = recorded.evaluation.determinations
    ids = det["person_id"].to_pylist()
    index = ids.index(person_id)
    value: Any = det["undertakings"][index].as_py()
    return list(value or [])
