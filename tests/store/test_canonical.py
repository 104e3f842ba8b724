"""amnesty.store.canonical: each encoding's Python and SQL forms agree, and the bytes
stored hashes depend on are the ones earlier releases wrote (values fixed from the
code before the module existed)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from amnesty.audit.chain import canonical_json, event_hash
from amnesty.store.canonical import (
    NEEDS_ESCAPE,
    json_string,
    record_json,
    registry_row_json,
    registry_row_sql,
)

AWKWARD = [
    "".join(chr(i) for i in range(0x21)),
    '"\\/',
    "\x7f\u2028é김😀",
    "",
    "plain",
    None,
]


def test_registry_row_python_and_duckdb_sql_agree() -> None:
    con = duckdb.connect()
    values = [v for v in AWKWARD]
    con.register("t", pa.table({f"c{i}": pa.array([v], pa.string()) for i, v in enumerate(values)}))
    sql = registry_row_sql([f"c{i}" for i in range(len(values))])
    (got,) = con.execute(f"SELECT {sql} FROM t").fetchall()[0]
    assert registry_row_json(values) == got
    # Each value alone too, so that one escape cannot hide behind another.
    for v in values:
        con.register("one", pa.table({"v": pa.array([v], pa.string())}))
        assert (
            registry_row_json([v])
            == con.execute(f"SELECT {registry_row_sql(['v'])} FROM one").fetchall()[0][0]
        )


def test_record_json_is_what_stored_hashes_were_made_of() -> None:
    event = {
        "seq": 7,
        "occurred_at": dt.datetime(2015, 10, 8, 12, 0, 0, 123456, tzinfo=dt.UTC),
        "actor": "ana é",
        "action": "release.execute",
        "entity_kind": "release",
        "entity_id": "R1:P\x1f1",
        "before": None,
        "after": '{"b":[1,2],"a":"x\\n\\u001f"}',
        "outcome": "ok",
        "reason": None,
        "prev_hash": "0" * 64,
    }
    assert event_hash(event) == "021e53e057b7b9adacb9de6342dc3da38156281a4fd4bfad06bcabea24f169ed"
    assert canonical_json is record_json
    assert record_json({"z": [dt.date(2015, 1, 2), '\x1f"'], "a": 1.5}) == (
        '{"a":1.5,"z":["2015-01-02","\\u001f\\""]}'
    )
    assert registry_row_json(['a\x1f"\\', None, ""]) == '["a\\u001F\\"\\\\",null,""]'


def test_the_two_encodings_differ_only_in_the_case_of_escaped_control_characters() -> None:
    import re

    for text in [v for v in AWKWARD if v is not None]:
        record = json_string(text)
        registry = registry_row_json([text])[1:-1]
        assert record.lower() == registry.lower()
        assert (record == registry) == (re.search(r"[\x00-\x07\x0b\x0e-\x1f]", text) is None)
        assert (re.search(NEEDS_ESCAPE, text) is None) == (record == f'"{text}"')
