"""Hold the stored rows to the state the chain says they must have.

Two kinds of rule (``docs/audit.md`` states them for outside auditors):

* **Rows.** Every covered table is compared with its replay
  (:func:`amnesty.audit.expected.replay`): a row the chain wrote that is gone
  is *missing*, a row no event wrote is *extra*, a column that differs is
  *altered*. Roster entries are held to the digest their roster's event
  carries.
* **Releases make sense.** Every release that is not revoked frees a person
  the run decided eligible (or a review case decided eligible), with the run's
  relief, from an approved roster that lists them; no certificate number is
  issued twice; and no person is freed twice without a new admission (or a
  return) in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.audit.chain import canonical_json
from amnesty.audit.expected import Expected, Key, Row
from amnesty.store import tables as t
from amnesty.workflow.credentials import secret_digest
from amnesty.workflow.rosters import RosterEntry, entries_digest


def _digest_not_hash(row: Row) -> Row:
    """A credential row with its secret hash replaced by the digest its event carries."""
    secret_hash = row.pop("secret_hash", None)
    if isinstance(secret_hash, str):
        row["secret_digest"] = secret_digest(secret_hash)
    return row


@dataclass(frozen=True)
class Covered:
    """A table held to the chain: how its rows are read and keyed."""

    name: str
    key: Callable[[Row], Key]
    json_columns: tuple[str, ...] = ()  # stored as JSON text, carried as JSON values
    order: str = ""  # column that orders rows sharing a key prefix (numbered keys)
    # a stored row as the chain carries it, where that differs from the columns
    carried: Callable[[Row], Row] | None = None

    def describe(self, key: Key) -> str:
        return f"{self.name} {'/'.join(str(k) for k in key)}"


COVERED: tuple[Covered, ...] = (
    Covered("users", lambda r: (r["name"],), json_columns=("roles", "facilities")),
    Covered("decrees", lambda r: (r["decree_id"],)),
    Covered("runs", lambda r: (r["run_id"],), json_columns=("counts",)),
    Covered("review_decisions", lambda r: (r["run_id"], r["person_id"], r["version"])),
    Covered("rosters", lambda r: (int(r["roster_id"]),)),
    Covered(
        "undertaking_records",
        lambda r: (r["run_id"], r["person_id"], r["undertaking_id"]),
        order="record_id",
    ),
    Covered("releases", lambda r: (int(r["release_id"]),)),
    Covered("release_revocations", lambda r: (int(r["release_id"]),)),
    Covered("certificates", lambda r: (r["certificate_no"],)),
    Covered("credentials", lambda r: (r["credential_id"],), carried=_digest_not_hash),
    Covered("events", lambda r: (r["event_id"],)),
    Covered("audit_checkpoints", lambda r: (int(r["seq"]), r["signature"])),
)

# Registry event types that put a released person back in custody.
CUSTODY_STARTS = ("admission", "return")
SHOWN_PER_TABLE = 20
_RELEASE_COLUMNS = ("release_id", "run_id", "person_id", "roster_id", "relief", "release_date")


def check_state(connection: Connection, state: Expected) -> list[tuple[str, str]]:
    """(where, what) for every difference between the stored rows and the replay."""
    problems: list[tuple[str, str]] = []
    known_runs = set(state.runs) | set(connection.execute(sa.select(t.runs.c.run_id)).scalars())
    for table in COVERED:
        actual = _actual(connection, table, known_runs)
        found = _compare(table, state, actual)
        problems += found[:SHOWN_PER_TABLE]
        if len(found) > SHOWN_PER_TABLE:
            more = len(found) - SHOWN_PER_TABLE
            problems.append((f"table {table.name}", f"and {more} more rows that differ"))
    problems += _check_roster_entries(connection, state)
    problems += _check_orphan_determinations(connection)
    problems += source_hash_problems(connection)
    problems += [(f"event {seq}", what) for seq, what in state.findings]
    problems += check_releases(connection)
    return problems


def _actual(connection: Connection, table: Covered, known_runs: set[str]) -> dict[Key, Row]:
    if table.name == "events":
        # The registry's own history is not amnesty's; only events naming one of
        # amnesty's runs are (a release, a commutation, the return of a revocation).
        if not sa.inspect(connection).has_table("events") or not known_runs:
            return {}
        rows = connection.execute(
            sa.text("SELECT * FROM events WHERE run_id IS NOT NULL")
        ).mappings()
        return {
            table.key(plain): plain
            for plain in (_plain(dict(r), ()) for r in rows)
            if plain["run_id"] in known_runs
        }
    stored = t.metadata.tables[table.name]
    query = sa.select(stored)
    if table.order:
        query = query.order_by(stored.c[table.order])
    result: dict[Key, Row] = {}
    for row in connection.execute(query).mappings():
        plain = _plain(dict(row), table.json_columns)
        if table.carried is not None:
            plain = table.carried(plain)
        key = table.key(plain)
        if table.order:  # numbered within its key: the first record is 1
            key = (*key, 1 + sum(1 for k in result if k[: len(key)] == key))
        result[key] = plain
    return result


def _plain(row: dict[str, Any], json_columns: Sequence[str]) -> Row:
    """A stored row as the JSON values an audit event carries."""
    plain: Row = json.loads(canonical_json(row))
    for column in json_columns:
        text = plain.get(column)
        if isinstance(text, str):
            # left as text when it is not JSON: it then differs from the event, which names it
            with contextlib.suppress(ValueError):
                plain[column] = json.loads(text)
    return plain


def _compare(table: Covered, state: Expected, actual: dict[Key, Row]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    expected = state.rows(table.name)
    for key, row in expected.items():
        seq = state.seq[(table.name, key)]
        where = table.describe(key)
        stored = actual.get(key)
        if stored is None:
            problems.append((where, f"missing: written by audit event {seq}, no longer stored"))
            continue
        for column, value in row.items():
            if column in stored and stored[column] != value:
                problems.append(
                    (
                        where,
                        f"{column} is {stored[column]!r} in table {table.name} but {value!r} "
                        f"in audit event {seq}",
                    )
                )
    for key in actual:
        if key not in expected:
            problems.append(
                (table.describe(key), "no audit event wrote this row: it was added behind amnesty")
            )
    return problems


def _check_roster_entries(connection: Connection, state: Expected) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    entries: dict[int, list[RosterEntry]] = {}
    e = t.roster_entries
    for roster_id, person_id, relief in connection.execute(
        sa.select(e.c.roster_id, e.c.person_id, e.c.relief)
    ):
        entries.setdefault(int(roster_id), []).append(RosterEntry(person_id, relief))
    for roster_id in sorted(set(entries) | set(state.roster_digests)):
        where = f"roster {roster_id}"
        listed = entries.get(roster_id, [])
        recorded = state.roster_digests.get(roster_id)
        if recorded is None:
            if (roster_id,) in state.rows("rosters"):
                problems.append((where, "no audit event records the digest of its entries"))
            else:
                problems.append((where, "has entries but no audit event wrote the roster"))
            continue
        count, digest, seq = recorded
        if entries_digest(listed) != digest:
            problems.append(
                (
                    where,
                    f"entries changed after audit event {seq}: {len(listed)} stored "
                    f"(digest {entries_digest(listed)[:12]}…), {count} recorded "
                    f"(digest {digest[:12]}…)",
                )
            )
    return problems


def _check_orphan_determinations(connection: Connection) -> list[tuple[str, str]]:
    orphans = connection.execute(
        sa.select(t.determinations.c.run_id, sa.func.count())
        .where(t.determinations.c.run_id.not_in(sa.select(t.runs.c.run_id)))
        .group_by(t.determinations.c.run_id)
    ).all()
    return [
        (f"determinations of run {run_id}", f"{n} row(s) of a run that is not stored")
        for run_id, n in orphans
    ]


def check_releases(connection: Connection) -> list[tuple[str, str]]:
    """Every release that stands must follow from its run, roster and the registry."""
    problems: list[tuple[str, str]] = []
    r, d = t.releases, t.determinations
    revoked = sa.select(t.release_revocations.c.release_id)
    standing = (
        connection.execute(
            sa.select(
                *(r.c[name] for name in _RELEASE_COLUMNS),
                d.c.outcome,
                d.c.relief.label("decided_relief"),
                t.rosters.c.status.label("roster_status"),
                t.roster_entries.c.person_id.label("listed"),
            )
            .outerjoin(d, sa.and_(d.c.run_id == r.c.run_id, d.c.person_id == r.c.person_id))
            .outerjoin(t.rosters, t.rosters.c.roster_id == r.c.roster_id)
            .outerjoin(
                t.roster_entries,
                sa.and_(
                    t.roster_entries.c.roster_id == r.c.roster_id,
                    t.roster_entries.c.person_id == r.c.person_id,
                ),
            )
            .where(r.c.release_id.not_in(revoked))
            .order_by(r.c.release_id)
        )
        .mappings()
        .all()
    )
    decided = _review_decisions(connection)
    for row in standing:
        where = f"release {row['release_id']} (run {row['run_id']} person {row['person_id']})"
        outcome = row["outcome"]
        if outcome == "review" and decided.get((row["run_id"], row["person_id"])) == "eligible":
            outcome = "eligible"
        if outcome != "eligible":
            found = "no determination" if row["outcome"] is None else f"decided {row['outcome']}"
            problems.append((where, f"the run {found} for this person: released wrongly"))
        elif row["decided_relief"] not in (None, row["relief"]):
            problems.append(
                (where, f"relief {row['relief']} but the run decided {row['decided_relief']}")
            )
        if row["listed"] is None:
            problems.append((where, f"person is not on roster {row['roster_id']}"))
        elif row["roster_status"] != "approved":
            problems.append((where, f"roster {row['roster_id']} is {row['roster_status']}"))
    problems += _double_releases(connection, standing)
    return problems


def _review_decisions(connection: Connection) -> dict[tuple[str, str], str | None]:
    """(run, person) -> the outcome of the latest review record (None: reopened)."""
    rd = t.review_decisions
    latest: dict[tuple[str, str], str | None] = {}
    for run_id, person_id, kind, outcome in connection.execute(
        sa.select(rd.c.run_id, rd.c.person_id, rd.c.kind, rd.c.outcome).order_by(rd.c.version)
    ):
        latest[(run_id, person_id)] = outcome if kind == "decide" else None
    return latest


def _double_releases(
    connection: Connection, standing: Sequence[sa.RowMapping]
) -> list[tuple[str, str]]:
    """Two standing releases from custody of one person with no custody start between."""
    freed: dict[str, list[sa.RowMapping]] = {}
    for row in standing:
        if row["relief"] != "commutation":
            freed.setdefault(row["person_id"], []).append(row)
    twice = {p: rows for p, rows in freed.items() if len(rows) > 1}
    if not twice:
        return []
    starts: dict[str, list[Any]] = {}
    if sa.inspect(connection).has_table("events"):
        for person_id, day in connection.execute(
            sa.text(
                "SELECT person_id, event_date FROM events WHERE event_type IN ('admission', "
                "'return') AND person_id IN :persons"
            ).bindparams(sa.bindparam("persons", expanding=True)),
            {"persons": sorted(twice)},
        ):
            starts.setdefault(person_id, []).append(day)
    problems = []
    for person_id, rows in sorted(twice.items()):
        ordered = sorted(rows, key=lambda row: (row["release_date"], row["release_id"]))
        for first, second in itertools.pairwise(ordered):
            between = [
                day
                for day in starts.get(person_id, [])
                if first["release_date"] < day <= second["release_date"]
            ]
            if not between:
                problems.append(
                    (
                        f"person {person_id}",
                        f"released twice in one custody episode: release {first['release_id']} "
                        f"(run {first['run_id']}) and release {second['release_id']} "
                        f"(run {second['run_id']}), with no admission or return between them",
                    )
                )
    return problems


def source_hash_problems(connection: Connection) -> list[tuple[str, str]]:
    """A decree's stored text must hash to its (audited) content hash."""
    problems = []
    for decree_id, content_hash, source_text in connection.execute(
        sa.select(t.decrees.c.decree_id, t.decrees.c.content_hash, t.decrees.c.source_text)
    ):
        if not _is_sha256(content_hash):
            continue  # not a file digest (tests register hand-made hashes); nothing to recompute
        if hashlib.sha256(source_text.encode("utf-8")).hexdigest() != content_hash:
            problems.append(
                (
                    f"decrees {decree_id}",
                    "source_text does not hash to the content_hash its audit events carry: "
                    "the decree's text was changed",
                )
            )
    return problems


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
