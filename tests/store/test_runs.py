"""Stored runs: determinations kept exactly, digested, and reproductions recognised."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from amnesty.audit.verify import verify
from amnesty.errors import ConfigError, IllegalTransition
from amnesty.store.db import resolve_db
from amnesty.store.determinations import digest_batches, from_stored_batches, stored_batches
from amnesty.store.engine import get_engine
from amnesty.store.tables import audit_events
from amnesty.workflow.decrees import ensure_decree, get_decree, sign_decree
from amnesty.workflow.runs import get_run, list_runs, load_determinations, record_run
from amnesty.workflow.users import add_user
from determination_factory import make_determinations

AS_OF = dt.date(2015, 10, 8)
T0 = dt.datetime(2015, 10, 7, 9, 0, tzinfo=dt.UTC)


def _record(url: str, table: pa.Table, decree_hash: str = "h1", snapshot: str = "s1") -> Any:
    return record_run(
        url,
        decree_id="kp-2015-10",
        decree_hash=decree_hash,
        snapshot_hash=snapshot,
        engine="duckdb",
        engine_version="0.1.0",
        as_of=AS_OF,
        started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=3),
        determinations=table,
        counts={"eligible": 3, "review": 2, "ineligible": 1},
        actor="dora",
    )


@pytest.fixture
def url(backend_url: str) -> str:
    add_user(backend_url, "root", ["admin"])
    add_user(backend_url, "dora", ["drafter"], actor="root")
    ensure_decree(backend_url, "kp-2015-10", "h1", "Party founding amnesty", "title = 'x'")
    return backend_url


def documented_digest(table: pa.Table) -> str:
    """The digest as docs/workflow.md tells an outsider to compute it."""
    fields = ["person_id", "facility_id", "outcome", "relief", "grounds", "blocking"]
    fields += ["referred", "unknown", "undertakings"]
    rows = sorted(table.to_pylist(), key=lambda r: r["person_id"])
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    text = "".join(encode([r[f] for f in fields]) + "\n" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def test_record_run_stores_determinations_and_their_digest(url: str) -> None:
    table = make_determinations(persons=7)
    run = _record(url, table.take([6, 2, 0, 5, 1, 3, 4]))  # order given does not matter
    assert run.row_count == 7
    assert run.determinations_digest == documented_digest(table)
    assert run.reproduces_run_id is None
    stored = load_determinations(url, run.run_id)
    assert stored.to_pylist() == table.to_pylist()
    assert get_run(url, run.run_id) == run
    with get_engine(url).connect() as connection:
        event = connection.execute(
            sa.select(audit_events).where(audit_events.c.entity_id == run.run_id)
        ).one()
    assert event.action == "run.record" and event.actor == "dora"
    assert json.loads(event.after)["determinations_digest"] == run.determinations_digest


def test_a_rerun_on_the_same_inputs_says_it_reproduces(url: str) -> None:
    first = _record(url, make_determinations())
    again = _record(url, make_determinations())
    different = _record(url, make_determinations(flip="P0001"))
    assert again.reproduces_run_id == first.run_id
    assert different.reproduces_run_id is None
    assert [r.run_id for r in list_runs(url)] == [first.run_id, again.run_id, different.run_id]


def test_text_needing_json_escapes_round_trips(url: str) -> None:
    table = make_determinations(persons=2)
    rows = table.to_pylist()
    rows[0]["grounds"] = ['quote " and \\ back', "새 조항"]
    rows[1]["person_id"] = 'P"1'
    odd = pa.Table.from_pylist(rows, schema=table.schema)
    run = _record(url, odd)
    assert run.determinations_digest == documented_digest(odd)
    assert load_determinations(url, run.run_id).to_pylist() == sorted(
        rows, key=lambda r: r["person_id"]
    )


def test_control_characters_and_nulls_keep_the_documented_bytes(url: str) -> None:
    """Python escapes control characters as \\u001f, DuckDB's to_json as \\u001F: the
    stored text, row hashes and digest must still be Python's canonical JSON."""
    table = make_determinations(persons=4)
    rows = table.to_pylist()
    rows[0]["person_id"] = "P\x1b0"
    rows[1]["grounds"] = ["tab\there", "esc\x1f", "back\\u001F literal", None]
    rows[2]["unknown"] = [{"clause": "c\x0b", "missing": [None, "m"]}, None]
    rows[3]["facility_id"] = None
    odd = pa.Table.from_pylist(rows, schema=table.schema)
    run = _record(url, odd)
    assert run.determinations_digest == documented_digest(odd)
    assert load_determinations(url, run.run_id).to_pylist() == sorted(
        rows, key=lambda r: r["person_id"]
    )
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
    with get_engine(url).connect() as connection:
        stored = connection.execute(
            sa.text(
                "SELECT person_id, grounds, unknown, row_hash FROM determinations WHERE run_id = :r"
            ),
            {"r": run.run_id},
        ).all()
    by_person = {r["person_id"]: r for r in rows}
    fields = ["person_id", "facility_id", "outcome", "relief", "grounds", "blocking"]
    fields += ["referred", "unknown", "undertakings"]
    for person_id, grounds, unknown, row_hash in stored:
        row = by_person[person_id]
        assert grounds == encode(row["grounds"]) and unknown == encode(row["unknown"])
        line = encode([row[f] for f in fields]) + "\n"
        assert row_hash == hashlib.sha256(line.encode()).hexdigest()[:16]
    assert verify(url).ok


def test_stored_rows_stream_in_person_order_in_batches(url: str) -> None:
    run = _record(url, make_determinations(persons=10).take(list(range(9, -1, -1))))
    db = resolve_db(url)
    with get_engine(url).connect() as connection:
        batches = list(stored_batches(connection, db, run.run_id, batch_rows=3))
    assert [b.num_rows for b in batches] == [3, 3, 3, 1]
    persons = [p for b in batches for p in b.column("person_id").to_pylist()]
    assert persons == [f"P{i:04d}" for i in range(10)]
    assert digest_batches(batches) == run.determinations_digest
    assert from_stored_batches(batches).to_pylist() == make_determinations(persons=10).to_pylist()


def test_a_signed_decree_whose_content_changed_is_refused(url: str) -> None:
    sign_decree(url, "kp-2015-10", "dora")
    with pytest.raises(IllegalTransition, match="signed"):
        _record(url, make_determinations(), decree_hash="h2")
    with pytest.raises(IllegalTransition, match="cannot change"):
        ensure_decree(url, "kp-2015-10", "h2", "Party founding amnesty", "changed")
    decree = get_decree(url, "kp-2015-10")
    assert decree is not None and decree.status == "signed" and decree.content_hash == "h1"
    with get_engine(url).connect() as connection:
        refused = connection.execute(
            sa.select(audit_events.c.action).where(audit_events.c.outcome == "refused")
        ).scalars()
        assert set(refused) == {"run.record", "decree.update"}


def test_duplicate_person_is_rejected(url: str) -> None:
    table = make_determinations(persons=2)
    with pytest.raises(Exception, match="occurs twice"):
        _record(url, pa.concat_tables([table, table]))


def test_unknown_run_names_what_to_do(url: str) -> None:
    with pytest.raises(ConfigError, match="amnesty run list"):
        get_run(url, "R-nope")
