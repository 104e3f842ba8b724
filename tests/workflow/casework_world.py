"""A small world for case-work tests: users, a registry, a signed decree and a run.

Everything a real deployment has, only small: the registry is written as Parquet
and loaded with :func:`amnesty.registry.importer.import_registry` (so it has a
snapshot), the decree is TOML compiled by the decree language, the run holds the
engine's own determinations, and releases re-check people with the real engine.
A test that changes a registry fact does it through :meth:`World.change`, which
advances the registry snapshot like any other registry change.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.decree import Decree, load_text
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import get_profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR
from amnesty.registry.snapshot import advance_snapshot
from amnesty.store.db import DatabaseURL, resolve_db
from amnesty.store.engine import get_engine
from amnesty.store.migrate import migrate
from amnesty.workflow.decrees import sign_decree
from amnesty.workflow.evaluate import RecordedRun, evaluate_and_record
from amnesty.workflow.users import add_user, confirm_user

AS_OF = dt.date(2015, 10, 1)
WINDOW = (dt.date(2015, 10, 8), dt.date(2015, 10, 9))
IN_WINDOW = dt.date(2015, 10, 8)
SECOND_ROUND = dt.date(2015, 10, 10)  # as-of date of a later round, after the releases

FACILITIES = {
    "F1": ("제1교화소", "Penitentiary No. 1"),
    "F2": ("제2교화소", "Penitentiary No. 2"),
    "F3": (
        "제3교화소",
        "Penitentiary No. 3",
    ),  # the crowd's: everyone eligible, all sign the pledge
}
# person -> (name, romanised, facility, outcome, relief, undertakings): what the engine
# decides for them under DECREE_TOML on the registry below (asserted by build_world).
PEOPLE: dict[str, tuple[str, str, str, str, str | None, list[str]]] = {
    "P01": ("김철수", "Kim Chol-su", "F1", "eligible", "release", ["pledge"]),
    "P02": ("리영호", "Ri Yong-ho", "F1", "eligible", "release", []),
    "P03": ("박영희", "Pak Yong-hui", "F1", "review", "release", []),
    "P04": ("최민수", "Choe Min-su", "F1", "ineligible", None, []),
    "P05": ("Иванов Иван", "Ivanov Ivan", "F2", "eligible", "release", []),
    "P06": ("한성민", "Han Song-min", "F1", "eligible", "release", []),
    "P07": ("정수진", "Jong Su-jin", "F1", "eligible", "release", []),
}
MSS = {"P04"}  # held under the Ministry of State Security: excluded
SICK = {"P03"}  # a severe illness on record: referred to review

DECREE_TOML = """\
id = "{decree_id}"
title = "Decree on a general amnesty (test)"
jurisdiction = "core"
occasion = "test"
authority = "Presidium of the Supreme People's Assembly"
signed = 2015-10-01
as_of = 2015-10-01
execution_window = [2015-10-08, 2015-10-09]

[[clause]]
id = "g-common"
kind = "grant"
relief = "release"
text = "Persons convicted of common crimes shall be released."
source = "S-KP1"
predicate = 'any convictions (category = "theft")'

[[clause]]
id = "x-political"
kind = "exclude"
text = "No one held under the Ministry of State Security shall be released."
source = "S-KP1"
predicate = 'authority = "MSS"'

[[clause]]
id = "r-health"
kind = "refer"
text = "The seriously ill are reviewed one by one."
source = "S-KP1"
predicate = 'health.severity = "severe"'

[[undertaking]]
id = "pledge"
text = "I will not reoffend."
source = "S-KP1"
who = 'person.id = "P01" or facility.id = "F3"'
"""

_ARROW = {
    VARCHAR: pa.string(),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
    DATE: pa.date32(),
    DOUBLE: pa.float64(),
}


# The same decree, its application left to a court (applied_by, docs/decrees.md): the
# engine decides as before and each eligible determination names the court.
BODY_DECREE_TOML = DECREE_TOML.replace(
    "execution_window = [2015-10-08, 2015-10-09]\n",
    'execution_window = [2015-10-08, 2015-10-09]\napplied_by = "court"\n\n'
    '[bodies]\ncourt = "the court at the place of custody"\n',
)


def decree_text(decree_id: str = "kp-2015-10", template: str = DECREE_TOML) -> str:
    return template.format(decree_id=decree_id)


def make_decree(decree_id: str = "kp-2015-10") -> Decree:
    return load_text(decree_text(decree_id), path=f"{decree_id}.toml")


@dataclass
class World:
    url: DatabaseURL
    decree: Decree
    run_id: str
    decree_path: Path
    registry_dir: Path  # the extract the registry was imported from
    first_run: RecordedRun

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with get_engine(self.url).begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result.all()) if result.returns_rows else []

    def change(self, table: str, statement: str, *, key: str, **params: Any) -> str:
        """Change the registry table ``table`` and advance its snapshot; the new hash.

        ``statement`` (an INSERT or UPDATE) and the snapshot that names the changed
        rows commit together; ``key`` is the value of the table's key column of the
        row written, which is recorded as it reads after the change.
        """
        column = get_profile("core").table(table).key
        with get_engine(self.url).begin() as conn:
            conn.execute(sa.text(statement), params)
            rows = [
                dict(r)
                for r in conn.execute(
                    sa.text(f"SELECT * FROM {table} WHERE {column} = :k"), {"k": key}
                ).mappings()
            ]
            assert rows, f"{table}: no row {column} = {key} after the change"
            return advance_snapshot(
                conn, table=table, rows=rows, source=f"test change to {table} {key}"
            )

    def evaluate_again(self, as_of: dt.date = SECOND_ROUND) -> RecordedRun:
        """A second round: the same decree on the registry as it is now, after the window."""
        return evaluate_and_record(self.url, self.decree_path, actor="drafter", as_of=as_of)


def check_releases_whole(world: World) -> list[str]:
    """Every release has its event, certificate and audit event; returns who is released."""
    released = world.sql("SELECT person_id, certificate_no, release_id FROM releases")
    people = [r[0] for r in released]
    assert len(people) == len(set(people)), "someone was released twice"
    for person, number, release_id in released:
        events = world.sql(
            "SELECT count(*) FROM events WHERE person_id = :p AND event_type = 'release'", p=person
        )
        assert events[0][0] == 1, f"{person}: release without exactly one registry event"
        certs = world.sql("SELECT count(*) FROM certificates WHERE release_id = :r", r=release_id)
        assert certs[0][0] == 1 and number, f"{person}: release without its certificate"
        audited = world.sql(
            "SELECT count(*) FROM audit_events WHERE entity_kind = 'release' "
            "AND entity_id = :e AND outcome = 'ok'",
            e=f"{world.run_id}:{person}",
        )
        assert audited[0][0] == 1, f"{person}: release without its audit event"
    orphans = world.sql(
        "SELECT count(*) FROM events WHERE event_type = 'release' "
        "AND person_id NOT IN (SELECT person_id FROM releases)"
    )
    assert orphans[0][0] == 0
    numbers = sorted(r[1] for r in released)
    assert numbers == [f"kp-2015-10/{i:06d}" for i in range(1, len(numbers) + 1)]  # gap-free
    return people


def crowd_ids(crowd: int) -> list[str]:
    """The ids of a crowd of ``crowd`` persons at F3 (see :func:`build_world`)."""
    return [f"B{i:06d}" for i in range(1, crowd + 1)]


def build_world(
    url: str | DatabaseURL,
    *,
    signed: bool = True,
    decree_id: str = "kp-2015-10",
    crowd: int = 0,
    template: str = DECREE_TOML,
    relief: str = "release",
) -> World:
    """The world of PEOPLE, plus ``crowd`` persons at facility F3 (officer ``off3``), each
    eligible for release once they sign the pledge: a roster big enough to batch."""
    db = url if isinstance(url, DatabaseURL) else resolve_db(url)
    folder = Path(tempfile.mkdtemp(prefix="amnesty-world-"))
    registry_dir = _write_registry(folder / "registry", crowd)
    import_registry(db, registry_dir, profile="core")
    db = migrate(db)
    add_user(db, "admin", ["admin"], password=TEST_PASSWORD)
    add_user(db, "rev1", ["reviewer"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "rev2", ["reviewer"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "admin2", ["admin"], actor="admin", password=TEST_PASSWORD)
    for approver in ("appr1", "appr2"):  # an approver waits for a second admin
        add_user(db, approver, ["approver"], actor="admin", password=TEST_PASSWORD)
        confirm_user(db, approver, actor="admin2")
    add_user(db, "off1", ["facility_officer"], ["F1"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "off2", ["facility_officer"], ["F2"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "off3", ["facility_officer"], ["F3"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "drafter", ["drafter"], actor="admin", password=TEST_PASSWORD)
    path = folder / f"{decree_id}.toml"
    path.write_text(decree_text(decree_id, template), encoding="utf-8")
    recorded = evaluate_and_record(db, path, actor="drafter", as_of=AS_OF)
    if signed:
        sign_decree(db, recorded.decree.id, "drafter")
    decided = {
        r["person_id"]: (r["outcome"], r["relief"], list(r["undertakings"] or []))
        for r in recorded.evaluation.determinations.to_pylist()
    }
    # a template granting another relief grants it to the same people
    expected = {p: (v[3], v[4] and relief, v[5]) for p, v in PEOPLE.items()}
    expected.update({p: ("eligible", relief, ["pledge"]) for p in crowd_ids(crowd)})
    assert decided == expected, f"the engine decided {decided}, the world expects {expected}"
    return World(db, recorded.decree, recorded.run.run_id, path, registry_dir, recorded)


def _write_registry(out: Path, crowd: int) -> Path:
    out.mkdir(parents=True)
    (out / "manifest.json").write_text('{"profile": "core"}')
    tables = _rows(crowd)
    for table in get_profile("core").tables():
        rows = tables[table.name]
        schema = pa.schema([(c.name, _ARROW[c.type]) for c in table.columns])
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), out / f"{table.name}.parquet")
    return out


def _rows(crowd: int) -> dict[str, list[dict[str, Any]]]:
    d = dt.date
    persons, convictions, events, health = [], [], [], []
    everyone = [(pid, name, rom, fac) for pid, (name, rom, fac, *_rest) in PEOPLE.items()]
    everyone += [(pid, "군중", f"Crowd {pid}", "F3") for pid in crowd_ids(crowd)]
    for pid, name, rom, fac in everyone:
        persons.append(
            {
                "person_id": pid,
                "name": name,
                "name_romanised": rom,
                "sex": "M",
                "birth_date": d(1960, 4, 24),
                "birth_precision": "day",
                "citizenship": "PRK",
                "facility_id": fac,
                "custody_authority": "MSS" if pid in MSS else "MPS",
            }
        )
        convictions.append(
            {
                "conviction_id": f"C-{pid}",
                "person_id": pid,
                "offence_code": "T1",
                "offence_date": d(2012, 1, 1),
                "sentence_kind": "term",
                "term_months": 60,
                "start_date": d(2012, 3, 1),
                "aggregate_id": None,
            }
        )
        events.append(
            {
                "event_id": f"E-{pid}",
                "person_id": pid,
                "event_type": "admission",
                "event_date": d(2012, 3, 1),
                "facility_id": fac,
            }
        )
        health.append(  # an unknown health would refer everyone to review
            {
                "assessment_id": f"H-{pid}",
                "person_id": pid,
                "assessed_on": d(2015, 9, 1),
                "severity": "severe" if pid in SICK else "none",
                "able_to_work": True,
            }
        )
    return {
        "divisions": [
            {
                "division_id": "D0",
                "parent_id": None,
                "level": "country",
                "name": "조선",
                "name_romanised": "Korea",
                "name_is_real": True,
            }
        ],
        "facilities": [
            {
                "facility_id": fid,
                "name": name,
                "name_romanised": rom,
                "facility_type": "penitentiary",
                "authority": "MPS",
                "division_id": "D0",
            }
            for fid, (name, rom) in FACILITIES.items()
        ],
        "offences": [
            {
                "offence_code": "T1",
                "title": "절도",
                "title_romanised": "theft",
                "category": "theft",
                "gravity": "medium",
                "intent": "intentional",
                "valid_from": d(1990, 1, 1),
                "valid_to": None,
            }
        ],
        "persons": persons,
        "convictions": convictions,
        "health_assessments": health,
        "events": events,
    }
