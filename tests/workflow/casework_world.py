"""A small world for case-work tests: users, a registry, a signed decree and a run.

Built directly through the store's API (no decree parser or engine needed), so
the workflow is tested on its own terms; the engine re-check is replaced by a
stub evaluator that reads what a test says today's outcome is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from amnesty.decree import ir
from amnesty.decree.model import Clause, Decree, Scope, Source, Undertaking
from amnesty.registry.profiles import get_profile
from amnesty.registry.snapshot import table_ddl
from amnesty.store.db import DatabaseURL
from amnesty.store.determinations import DETERMINATION_SCHEMA
from amnesty.store.engine import get_engine
from amnesty.store.migrate import migrate
from amnesty.workflow.casefiles import remember_decree
from amnesty.workflow.decrees import register_decree, sign_decree
from amnesty.workflow.runs import record_run
from amnesty.workflow.users import add_user

AS_OF = dt.date(2015, 10, 1)
WINDOW = (dt.date(2015, 10, 8), dt.date(2015, 10, 9))
IN_WINDOW = dt.date(2015, 10, 8)
TRUE = ir.Literal(value=True, type="bool")  # type: ignore[arg-type]

FACILITIES = {"F1": ("제1교화소", "Penitentiary No. 1"), "F2": ("제2교화소", "Penitentiary No. 2")}
# person -> (name, romanised, facility, outcome, relief, undertakings)
PEOPLE: dict[str, tuple[str, str, str, str, str | None, list[str]]] = {
    "P01": ("김철수", "Kim Chol-su", "F1", "eligible", "release", ["pledge"]),
    "P02": ("리영호", "Ri Yong-ho", "F1", "eligible", "release", []),
    "P03": ("박영희", "Pak Yong-hui", "F1", "review", "release", []),
    "P04": ("최민수", "Choe Min-su", "F1", "ineligible", None, []),
    "P05": ("Иванов Иван", "Ivanov Ivan", "F2", "eligible", "release", []),
    "P06": ("한성민", "Han Song-min", "F1", "eligible", "release", []),
    "P07": ("정수진", "Jong Su-jin", "F1", "eligible", "release", []),
}


def make_decree(decree_id: str = "kp-2015-10") -> Decree:
    text = f"# decree {decree_id} as stored for the test\n"
    return Decree(
        id=decree_id,
        title="Decree on a general amnesty (test)",
        jurisdiction="core",
        occasion="test",
        authority="Presidium of the Supreme People's Assembly",
        signed=dt.date(2015, 10, 1),
        as_of=AS_OF,
        execution_window=WINDOW,
        scope=Scope(),
        clauses=(
            Clause(
                id="g-common",
                kind="grant",
                predicate=TRUE,
                text="Persons convicted of common crimes shall be released.",
                source=Source("S-KP1"),
                relief="release",
            ),
        ),
        undertakings=(Undertaking("pledge", "I will not reoffend.", None),),
        source_path="test.toml",
        content_hash="sha256:" + hashlib.sha256(text.encode()).hexdigest(),
    )


@dataclass
class World:
    url: DatabaseURL
    decree: Decree
    run_id: str
    today: dict[str, dict[str, Any]] = field(default_factory=dict)

    def evaluator(
        self, decree: Decree, run: Any, person_id: str, conn: Any
    ) -> dict[str, Any] | None:
        """Today's determination: the run's, unless a test changed it in ``today``."""
        if person_id in self.today:
            return self.today[person_id]
        _, _, _, outcome, relief, _ = PEOPLE[person_id]
        return {
            "person_id": person_id,
            "outcome": outcome,
            "relief": relief,
            "grounds": ["g-common"],
        }

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with get_engine(self.url).begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result.all()) if result.returns_rows else []


def build_world(
    url: str | DatabaseURL, *, signed: bool = True, decree_id: str = "kp-2015-10"
) -> World:
    db = migrate(url)
    add_user(db, "admin", ["admin"])
    add_user(db, "rev1", ["reviewer"], actor="admin")
    add_user(db, "rev2", ["reviewer"], actor="admin")
    add_user(db, "appr1", ["approver"], actor="admin")
    add_user(db, "appr2", ["approver"], actor="admin")
    add_user(db, "off1", ["facility_officer"], ["F1"], actor="admin")
    add_user(db, "off2", ["facility_officer"], ["F2"], actor="admin")
    add_user(db, "drafter", ["drafter"], actor="admin")
    _registry(db)
    decree = make_decree(decree_id)
    remember_decree(decree)
    register_decree(db, decree.id, decree.content_hash, decree.title, "# test", actor="drafter")
    if signed:
        sign_decree(db, decree.id, "drafter")
    run = record_run(
        db,
        decree_id=decree.id,
        decree_hash=decree.content_hash,
        snapshot_hash="snap-1",
        engine="duckdb",
        engine_version="test",
        as_of=AS_OF,
        started_at=dt.datetime(2015, 10, 2, tzinfo=dt.UTC),
        finished_at=dt.datetime(2015, 10, 2, 0, 1, tzinfo=dt.UTC),
        determinations=_determinations(),
        counts={"eligible": 5},
        actor="drafter",
    )
    return World(db, decree, run.run_id)


def _determinations() -> pa.Table:
    rows = [
        {
            "person_id": pid,
            "facility_id": fac,
            "outcome": outcome,
            "relief": relief,
            "grounds": ["g-common"] if outcome != "ineligible" else [],
            "blocking": [] if outcome != "ineligible" else ["x-political"],
            "referred": ["r-health"] if outcome == "review" else [],
            "unknown": [],
            "undertakings": und,
        }
        for pid, (_, _, fac, outcome, relief, und) in PEOPLE.items()
    ]
    return pa.Table.from_pylist(rows, schema=DETERMINATION_SCHEMA)


def _registry(db: DatabaseURL) -> None:
    dialect = "duckdb" if db.is_duckdb else "postgres"
    with get_engine(db).begin() as conn:
        for table in get_profile("core").tables():
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
            conn.execute(sa.text(table_ddl(table, dialect)))
        conn.execute(
            sa.text("INSERT INTO divisions VALUES ('D0', NULL, 'country', '조선', 'Korea', true)")
        )
        for fid, (name, rom) in FACILITIES.items():
            conn.execute(
                sa.text("INSERT INTO facilities VALUES (:f, :n, :r, 'penitentiary', 'MPS', 'D0')"),
                {"f": fid, "n": name, "r": rom},
            )
        conn.execute(
            sa.text(
                "INSERT INTO offences VALUES ('T1', '절도', 'theft', 'theft', 'medium', "
                "'intentional', DATE '1990-01-01', NULL)"
            )
        )
        for pid, (name, rom, fac, *_rest) in PEOPLE.items():
            conn.execute(
                sa.text(
                    "INSERT INTO persons VALUES (:p, :n, :r, 'M', DATE '1960-04-24', 'day', "
                    "'PRK', :f, 'MPS')"
                ),
                {"p": pid, "n": name, "r": rom, "f": fac},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO convictions VALUES (:c, :p, 'T1', DATE '2012-01-01', 'term', "
                    "60, DATE '2012-03-01', NULL)"
                ),
                {"c": f"C-{pid}", "p": pid},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO events (event_id, person_id, event_type, event_date, facility_id) "
                    "VALUES (:e, :p, 'admission', DATE '2012-03-01', :f)"
                ),
                {"e": f"E-{pid}", "p": pid, "f": fac},
            )
