"""Identifier hygiene: one person is one id, however the extract spells it.

Ids (every table's key, every reference, every other ``*_id`` column) must be
written in one canonical form, so that two spellings of one id can never import
as two persons, nor a look-alike pass for someone else:

* Unicode NFKC (a full-width ``Ｐ００１`` is not ``P001``; write the latter);
* no control, format or bidirectional characters (U+202E and friends), no
  invisible separators;
* no leading or trailing space, and not empty;
* the profile's case rule (:attr:`Profile.id_case`): ``insensitive`` keeps ids
  as written but two keys of one table that differ only by case collide;
  ``upper`` also requires every key and reference to be upper case.

Most ids are printable ASCII with no space at either end; SQL clears those in one
pass, and only the distinct other values are looked at in Python
(``unicodedata``), so the rules stay set-based. The same look gives each value
its *canonical key* (NFKC, trimmed, lower case), by which
:func:`amnesty.registry.validate.cascade` ties a rejected row to its person.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from amnesty.registry.profiles import Profile
from amnesty.registry.schema import VARCHAR, Column, Table
from amnesty.registry.sources import ROW, quote_ident, quote_literal

# Printable ASCII, no space at either end: needs no further look.
_PLAIN_ID = "[!-~]([ -~]*[!-~])?"
# Unicode categories an id may not contain: controls, format (bidi, zero width),
# line and paragraph separators, private use, surrogates, unassigned.
_FORBIDDEN = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}

ID_VALUES_DDL = "CREATE OR REPLACE TABLE id_values (value VARCHAR, problem VARCHAR, canon VARCHAR)"


def id_columns(table: Table) -> list[Column]:
    """The columns of ``table`` that hold identifiers."""
    return [
        c
        for c in table.columns
        if c.type == VARCHAR
        and (c.name == table.key or c.references is not None or c.name.endswith("_id"))
    ]


def is_key_or_reference(table: Table, column: Column) -> bool:
    return column.name == table.key or column.references is not None


def id_problem(value: str) -> str | None:
    """What is wrong with one id, or None."""
    if value == "":
        return "is empty"
    for ch in value:
        if unicodedata.category(ch) in _FORBIDDEN:
            return f"contains the invisible or control character U+{ord(ch):04X}"
    if value != value.strip():
        return "has a leading or trailing space"
    normal = unicodedata.normalize("NFKC", value)
    if normal != value:
        return f"is not in Unicode NFKC form (write it {normal!r})"
    return None


def canonical_id(value: str) -> str:
    """The key by which two spellings of one id are the same id."""
    printable = "".join(ch for ch in value if unicodedata.category(ch) not in _FORBIDDEN)
    return unicodedata.normalize("NFKC", printable).strip().casefold()


@dataclass(frozen=True)
class StagedIds:
    """What :func:`stage_id_values` found: rules that cannot fire are not run."""

    values: int  # distinct id values SQL could not clear (in ``id_values``)
    problems: int  # of which break a rule


def stage_id_values(conn: Any, tables: Sequence[Table], loaded: Sequence[str]) -> StagedIds:
    """``id_values``: every distinct id value that SQL alone cannot clear, looked at once."""
    conn.execute(ID_VALUES_DDL)
    selects = [
        f"SELECT {quote_ident(c.name)} AS v FROM typed_{t.name} WHERE {quote_ident(c.name)} "
        f"IS NOT NULL AND NOT regexp_full_match({quote_ident(c.name)}, '{_PLAIN_ID}')"
        for t in tables
        if t.name in loaded
        for c in id_columns(t)
    ]
    values = [r[0] for r in conn.execute(" UNION ".join(selects)).fetchall()] if selects else []
    looked = [(v, id_problem(v), canonical_id(v)) for v in values]
    if looked:
        conn.executemany("INSERT INTO id_values VALUES (?, ?, ?)", looked)
    return StagedIds(len(looked), sum(1 for _, problem, _ in looked if problem))


def staged_ids(conn: Any) -> StagedIds:
    """What :func:`stage_id_values` staged, read back from ``id_values``."""
    values, problems = conn.execute("SELECT count(*), count(problem) FROM id_values").fetchone()
    return StagedIds(int(values), int(problems))


def canonical_ids(typed: str, column: str, staged: StagedIds) -> str:
    """SQL: ``(row, id, canon)`` of every non-null id of ``typed``.

    A plain ASCII id's canonical key is its lower case; the others' were staged.
    """
    q = quote_ident(column)
    if not staged.values:
        return (
            f"SELECT {ROW} AS row, {q} AS id, lower({q}) AS canon "
            f"FROM {typed} WHERE {q} IS NOT NULL"
        )
    return (
        f"SELECT x.{ROW} AS row, x.{q} AS id, coalesce(v.canon, lower(x.{q})) AS canon "
        f"FROM {typed} x LEFT JOIN id_values v ON v.value = x.{q} WHERE x.{q} IS NOT NULL"
    )


def id_rules(table: Table, profile: Profile, staged: StagedIds) -> list[str]:
    """SELECTs of rejections (``tbl, row, col, value, rule``) for the table's ids."""
    t, typed = table.name, f"typed_{table.name}"
    out = []
    for c in id_columns(table):
        q, col = quote_ident(c.name), quote_literal(c.name)
        if staged.problems:
            out.append(
                f"SELECT {quote_literal(t)}, x.{ROW}, {col}, x.{q}, "
                f"'id_form: {c.name} ' || '''' || x.{q} || ''' ' || v.problem "
                f"FROM {typed} x JOIN id_values v ON v.value = x.{q} WHERE v.problem IS NOT NULL"
            )
        if profile.id_case == "upper" and is_key_or_reference(table, c):
            out.append(
                f"SELECT {quote_literal(t)}, {ROW}, {col}, {q}, "
                f"'id_case: {c.name} ' || '''' || {q} || ''' must be upper case "
                f"(profile {profile.name}: write ' || '''' || upper({q}) || ''')' "
                f"FROM {typed} WHERE {q} <> upper({q})"
            )
    if table.key in [c.name for c in id_columns(table)]:
        out.append(_collision_rule(table, staged))
    return out


def _collision_rule(table: Table, staged: StagedIds) -> str:
    """Keys that are different strings but one canonical id: one person written twice.

    A plain aggregate finds the clashing canonical keys (few, usually none); only
    their rows are listed, with every spelling.
    """
    ids = canonical_ids(f"typed_{table.name}", table.key, staged)
    clashing = (
        f"SELECT canon FROM ({ids}) GROUP BY canon HAVING count(*) > 1 AND min(id) <> max(id)"
    )
    if not staged.values:
        # Every id is plain ASCII, its canonical key its lower case. Two different such
        # ids with one lower case cannot both be all upper case, nor both all lower
        # case; so a clashing key is the lower case of an id that is not all upper case
        # and of one that is not all lower case. Those two sets are small or empty in
        # most extracts (ids written in one case), and much cheaper to find than the
        # grouping of every id: only their common keys are grouped.
        q, typed = quote_ident(table.key), f"typed_{table.name}"
        candidates = (
            f"SELECT lower({q}) FROM {typed} WHERE {q} <> upper({q}) INTERSECT "
            f"SELECT lower({q}) FROM {typed} WHERE {q} <> lower({q})"
        )
        clashing = (
            f"SELECT canon FROM ({ids}) WHERE canon IN ({candidates}) "
            "GROUP BY canon HAVING count(*) > 1 AND min(id) <> max(id)"
        )
    rows = f"SELECT * FROM ({ids}) WHERE canon IN ({clashing})"
    quoted = "'''' || id || ''''"
    return (
        f"SELECT {quote_literal(table.name)}, i.row, {quote_literal(table.key)}, i.id, "
        f"'id_collision: {table.key} ' || '''' || i.id || ''' is the same id as ' || "
        "d.spellings || ' (ids differ only by case, space or Unicode form)' "
        f"FROM ({rows}) i JOIN (SELECT canon, string_agg(DISTINCT {quoted}, ', ' "
        f"ORDER BY {quoted}) AS spellings FROM ({rows}) GROUP BY canon) d USING (canon)"
    )
