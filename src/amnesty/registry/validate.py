"""Validate a staged registry with set-based SQL inside DuckDB.

Input: ``raw_<table>`` (every column VARCHAR, plus ``__row``) made by
:mod:`amnesty.registry.sources`; a Parquet column stored with its schema type comes
typed ("native") and is used as it is, with no type rule (no value of it can fail).
Output: ``typed_<table>`` (each column cast to its schema type; a view over
``raw_<table>`` when every column is native) and one table
``rejections(tbl, row, col, value, rule)`` holding
every broken rule. Each rule is one SELECT over whole tables; no Python loops
over rows. A rule's text starts with its name (``type:``, ``foreign_key:``...),
which the summary groups by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from amnesty.registry.identifiers import (
    StagedIds,
    canonical_ids,
    id_rules,
    stage_id_values,
    staged_ids,
)
from amnesty.registry.profiles import Profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR, Column, Table
from amnesty.registry.sources import ROW, quote_ident, quote_literal

REJECTIONS_DDL = (
    "CREATE OR REPLACE TABLE rejections "
    "(tbl VARCHAR, row BIGINT, col VARCHAR, value VARCHAR, rule VARCHAR)"
)

# Typed from text. An integer must look like one: DuckDB's cast would round "1.5".
_INTEGER_TEXT = "[+-]?[0-9]+"


def typed_expr(column: Column, raw: str) -> str:
    if column.type == VARCHAR:
        return raw
    if column.type == INTEGER:
        return (
            f"CASE WHEN regexp_full_match(trim({raw}), '{_INTEGER_TEXT}') "
            f"THEN TRY_CAST(trim({raw}) AS INTEGER) END"
        )
    if column.type in (DATE, BOOLEAN, DOUBLE):
        return f"TRY_CAST(trim({raw}) AS {column.type})"
    raise AssertionError(column.type)


_EXPECTED = {
    INTEGER: "expected a whole number",
    DATE: "expected a date YYYY-MM-DD",
    BOOLEAN: "expected true or false",
    DOUBLE: "expected a number",
}


def native_columns(conn: Any, table: Table) -> frozenset[str]:
    """Columns of ``raw_<table>`` already stored with their schema type."""
    types = {r[0]: r[1] for r in conn.execute(f"DESCRIBE raw_{table.name}").fetchall()}
    return frozenset(c.name for c in table.columns if types.get(c.name) == c.type)


def create_typed(conn: Any, table: Table, native: frozenset[str] = frozenset()) -> None:
    cols = ", ".join(
        quote_ident(c.name)
        if c.name in native
        else f"{typed_expr(c, quote_ident(c.name))} AS {quote_ident(c.name)}"
        for c in table.columns
    )
    # Nothing to cast: a view, so the rows are not materialised a second time.
    kind = "VIEW" if all(c.name in native for c in table.columns) else "TABLE"
    conn.execute(
        f"CREATE OR REPLACE {kind} typed_{table.name} AS SELECT {ROW}, {cols} FROM raw_{table.name}"
    )


def _select(table: str, col: str | None, value: str, rule: str, rest: str, row: str = ROW) -> str:
    """One rule as ``SELECT tbl, row, col, value, rule`` (``rest`` is FROM ... WHERE ...)."""
    col_sql = "NULL" if col is None else quote_literal(col)
    return (
        f"SELECT {quote_literal(table)} AS tbl, {row} AS row, {col_sql} AS col, "
        f"CAST({value} AS VARCHAR) AS value, {rule} AS rule {rest}"
    )


def _text(value: str) -> str:
    """SQL for a value quoted in a rule message."""
    return f"'''' || CAST({value} AS VARCHAR) || ''''"


def column_rules(
    table: Table,
    profile: Profile,
    loaded: Sequence[str],
    native: frozenset[str] = frozenset(),
) -> list[str]:
    """Type, non-null, vocabulary, minimum and reference rules of one table's columns.

    A ``native`` column (loaded with its schema type) has no type rule: it cannot fail.
    """
    t, typed = table.name, f"typed_{table.name}"
    out: list[str] = []
    for c in table.columns:
        q = quote_ident(c.name)
        if c.type != VARCHAR and c.name not in native:
            rule = quote_literal(f"type: {_EXPECTED[c.type]} ({c.type})")
            out.append(
                _select(
                    t,
                    c.name,
                    q,
                    rule,
                    f"FROM raw_{t} WHERE {q} IS NOT NULL AND {typed_expr(c, q)} IS NULL",
                )
            )
        if not c.nullable:
            rule = quote_literal("not_null: a value is required")
            out.append(_select(t, c.name, "NULL", rule, f"FROM raw_{t} WHERE {q} IS NULL"))
        values = c.values
        if values is None and c.name in ("authority", "custody_authority") and profile.authorities:
            values = profile.authorities
        if values is not None:
            listed = ", ".join(quote_literal(v) for v in values)
            rule = quote_literal(f"vocabulary: expected one of {', '.join(values)}")
            out.append(
                _select(
                    t,
                    c.name,
                    q,
                    rule,
                    f"FROM {typed} WHERE {q} IS NOT NULL AND {q} NOT IN ({listed})",
                )
            )
        if c.min_value is not None:
            rule = quote_literal(f"min_value: expected at least {c.min_value}")
            out.append(_select(t, c.name, q, rule, f"FROM {typed} WHERE {q} < {c.min_value}"))
        if c.references is not None and c.references[0] in loaded:
            ref_table, ref_col = c.references
            if (t, c.name) == ("convictions", "offence_code"):
                rule = (
                    f"'unknown_offence: offence code ' || {_text(q)} || "
                    "' is not in the offence catalogue'"
                )
            else:
                rule = f"'foreign_key: no {ref_table} row has {ref_col} ' || {_text(q)}"
            out.append(
                _select(
                    t,
                    c.name,
                    q,
                    rule,
                    f"FROM {typed} a WHERE {q} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM typed_{ref_table} b WHERE b.{quote_ident(ref_col)} = a.{q})",
                )
            )
    return out


def key_rule(table: Table) -> str:
    """Every row whose key occurs more than once, naming the other rows."""
    k = quote_ident(table.key)
    typed = f"typed_{table.name}"
    rule = f"'primary_key: {table.key} ' || {_text('t.' + k)} || ' occurs in rows ' || d.rows"
    return _select(
        table.name,
        table.key,
        f"t.{k}",
        rule,
        # Duplicated keys first (a plain count), then row lists for those keys only.
        f"FROM {typed} t JOIN (SELECT {k}, string_agg(CAST({ROW} AS VARCHAR), ', ' "
        f"ORDER BY {ROW}) AS rows FROM {typed} WHERE {k} IN (SELECT {k} FROM {typed} "
        f"WHERE {k} IS NOT NULL GROUP BY {k} HAVING count(*) > 1) GROUP BY {k}) d USING ({k})",
        row=f"t.{ROW}",
    )


def check_rules(table: Table) -> list[str]:
    """The table's row checks, each reported on its declared ``Check.column``.

    The rule text shows every column the check's SQL names, so the reader sees the
    values that disagree; the rejection's column and value are the declared one's.
    """
    out = []
    for check in table.checks:
        named = sorted(
            (m.start(), c.name)
            for c in table.columns
            if (m := re.search(rf"\b{re.escape(c.name)}\b", check.sql))
        )
        col = check.column
        if col not in [n for _, n in named]:
            named.append((-1, col))
        shown = " || ', ' || ".join(
            f"'{n}=' || coalesce(CAST({quote_ident(n)} AS VARCHAR), 'null')" for _, n in named
        )
        rule = f"'check {check.name}: {check.doc} (' || {shown or repr('')} || ')'"
        value = quote_ident(col)
        # A value that did not cast is already rejected; its null must not fail a check too.
        listed = ", ".join(quote_literal(n) for _, n in named) or "NULL"
        untyped = (
            f"{ROW} NOT IN (SELECT row FROM rejections WHERE tbl = {quote_literal(table.name)} "
            f"AND col IN ({listed}) AND rule LIKE 'type:%')"
        )
        out.append(
            _select(
                table.name,
                col,
                value,
                rule,
                f"FROM typed_{table.name} WHERE NOT coalesce(({check.sql}), true) AND {untyped}",
            )
        )
    return out


def cross_table_rules(tables: Sequence[Table], loaded: Sequence[str]) -> list[str]:
    """Rules across tables: offence codes in force, dates against the birth date."""
    out: list[str] = []
    if {"convictions", "offences"} <= set(loaded):
        for cond, message in (
            (
                "o.valid_to IS NOT NULL AND c.offence_date > o.valid_to",
                "' was repealed on ' || CAST(o.valid_to AS VARCHAR) || ', before the offence date'",
            ),
            (
                "c.offence_date < o.valid_from",
                "' came into force on ' || CAST(o.valid_from AS VARCHAR) || "
                "', after the offence date'",
            ),
        ):
            rule = f"'offence_in_force: offence code ' || {_text('c.offence_code')} || {message}"
            out.append(
                _select(
                    "convictions",
                    "offence_code",
                    "c.offence_code",
                    rule,
                    "FROM typed_convictions c JOIN typed_offences o USING (offence_code) "
                    f"WHERE {cond}",
                    row=f"c.{ROW}",
                )
            )
    if "persons" not in loaded:
        return out
    if "events" in loaded:
        rule = (
            "'birth_after_first_event: birth date ' || CAST(p.birth_date AS VARCHAR) || "
            "' is after the person''s first event on ' || CAST(f.first AS VARCHAR)"
        )
        out.append(
            _select(
                "persons",
                "birth_date",
                "p.birth_date",
                rule,
                "FROM typed_persons p JOIN (SELECT person_id, min(event_date) AS first "
                "FROM typed_events GROUP BY person_id) f USING (person_id) "
                "WHERE p.birth_date > f.first",
                row=f"p.{ROW}",
            )
        )
    for table in tables:
        if table.name not in loaded or table.name == "persons":
            continue
        if not any(c.references == ("persons", "person_id") for c in table.columns):
            continue
        for c in table.columns:
            if c.type != DATE:
                continue
            q = quote_ident(c.name)
            rule = (
                f"'before_birth: {c.name} ' || CAST(x.{q} AS VARCHAR) || "
                "' is before the person''s birth date ' || CAST(p.birth_date AS VARCHAR)"
            )
            out.append(
                _select(
                    table.name,
                    c.name,
                    f"x.{q}",
                    rule,
                    f"FROM typed_{table.name} x JOIN typed_persons p USING (person_id) "
                    f"WHERE x.{q} < p.birth_date",
                    row=f"x.{ROW}",
                )
            )
    return out


def validate(conn: Any, tables: Sequence[Table], profile: Profile, loaded: Sequence[str]) -> None:
    """Type every loaded table and fill ``rejections`` with every broken rule."""
    native = {t.name: native_columns(conn, t) for t in tables if t.name in loaded}
    for table in tables:
        if table.name in loaded:
            create_typed(conn, table, native[table.name])
    selects: list[str] = []
    staged = stage_id_values(conn, tables, loaded)
    for table in tables:
        if table.name in loaded:
            selects += column_rules(table, profile, loaded, native[table.name])
            selects.append(key_rule(table))
            selects += id_rules(table, profile, staged)
            selects += check_rules(table)
    selects += cross_table_rules(tables, loaded)
    for select in selects:
        conn.execute(f"INSERT INTO rejections {select}")


def cascade(conn: Any, tables: Sequence[Table], loaded: Sequence[str]) -> None:
    """Reject what a rejected row takes with it, until nothing more changes.

    Two ways, in rounds of a handful of set-based statements (rounds repeat only
    for chains such as divisions within divisions):

    * down: a row that references a rejected row (``depends_on_rejected``);
    * up to the person: a person any of whose rows is rejected
      (``incomplete_person``), matched by the canonical id, so that a look-alike
      spelling of the id still counts. A person is imported with every fact the
      extract holds about them or not at all: dropping one disqualifying
      conviction with a bad date must never make them eligible.
    """
    refs = [
        (t, c)
        for t in tables
        if t.name in loaded
        for c in t.columns
        if c.references is not None and c.references[0] in loaded
    ]
    while True:
        added = 0
        statements = [_depends_on_rejected(t, c) for t, c in refs]
        if "persons" in loaded:
            staged = staged_ids(conn)
            statements += [
                _incomplete_person(t, c, staged) for t, c in refs if c.references == _PERSON
            ]
        for select in statements:
            result = conn.execute(f"INSERT INTO rejections {select}").fetchone()
            added += int(result[0]) if result else 0
        if added == 0:
            return


_PERSON = ("persons", "person_id")


def _depends_on_rejected(t: Table, c: Column) -> str:
    assert c.references is not None
    ref_table, ref_col = c.references
    q, rq = quote_ident(c.name), quote_ident(ref_col)
    rule = (
        f"'depends_on_rejected: {ref_table} row ' || CAST(r.{ROW} AS VARCHAR) || "
        f"' ({ref_col} ' || {_text('r.' + rq)} || ') was rejected'"
    )
    return _select(
        t.name,
        c.name,
        f"x.{q}",
        rule,
        f"FROM typed_{t.name} x JOIN typed_{ref_table} r ON r.{rq} = x.{q} "
        f"WHERE r.{ROW} IN (SELECT row FROM rejections WHERE tbl = '{ref_table}') "
        f"AND x.{ROW} NOT IN (SELECT row FROM rejections WHERE tbl = '{t.name}')",
        row=f"x.{ROW}",
    )


def _incomplete_person(t: Table, c: Column, staged: StagedIds) -> str:
    """Persons (not yet rejected) with a rejected row in ``t``, naming its first one."""
    rule = (
        f"'incomplete_person: {t.name} row ' || CAST(min(x.row) AS VARCHAR) || "
        "' of this person was rejected (' || arg_min(r.rule, x.row) || '); "
        "with --skip-invalid a person is imported with all their rows or not at all'"
    )
    return (
        "SELECT 'persons' AS tbl, p.row AS row, 'person_id' AS col, "
        f"CAST(p.id AS VARCHAR) AS value, {rule} AS rule "
        f"FROM ({canonical_ids('typed_' + t.name, c.name, staged)}) x "
        f"JOIN rejections r ON r.tbl = '{t.name}' AND r.row = x.row "
        f"JOIN ({canonical_ids('typed_persons', 'person_id', staged)}) p USING (canon) "
        "WHERE p.row NOT IN (SELECT row FROM rejections WHERE tbl = 'persons') "
        "GROUP BY p.row, p.id"
    )


def create_clean(conn: Any, table: Table) -> None:
    """``clean_<table>``: the typed rows no rule rejected, without the row number.

    A view: it is read twice (hashed, then written), cheaper than a third copy.
    Call it once ``rejections`` is final.
    """
    cols = ", ".join(quote_ident(c.name) for c in table.columns)
    conn.execute(
        f"CREATE OR REPLACE VIEW clean_{table.name} AS SELECT {cols} FROM typed_{table.name} "
        f"WHERE {ROW} NOT IN (SELECT row FROM rejections WHERE tbl = '{table.name}' "
        "AND row IS NOT NULL)"
    )
