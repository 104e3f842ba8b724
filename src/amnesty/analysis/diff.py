"""Who changes outcome or relief between two decisions, and because of which clause.

    diff_variants(db, "decree.toml", ["v1.toml", "v2.toml"])   # one query for all
    diff_decrees(db, "a.toml", "b.toml")
    diff_runs(db, "R1", "R2")                                    # two stored runs

A person *changes* when their outcome or relief differs. The clause that made
the difference is every clause whose role for the person differs between the
two sides, the role being ground (a true grant), blocking, referred, unknown
or none; changed persons are grouped by that set of clauses, and each group is
counted by facility, division (province) and offence category, with a few of
its persons and both of their determinations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from amnesty.analysis import runs
from amnesty.analysis.registry_facts import categories, places
from amnesty.compile.sql.variants import compile_variants
from amnesty.decree import Decree, load
from amnesty.decree.variants import load_variant, read_variant
from amnesty.engine import DETERMINATION_SCHEMA, as_backend, profile_of
from amnesty.store.db import DatabaseURL

SAMPLES = 3
FIELDS = ("outcome", "relief", "grounds", "blocking", "referred", "unknown")


def roles(row: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for role, key in (("ground", "grounds"), ("blocking", "blocking"), ("referred", "referred")):
        for cid in row[key] or []:
            out[cid] = role
    for entry in row["unknown"] or []:
        out.setdefault(entry["clause"], "unknown")
    return out


def deciding_clauses(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    ra, rb = roles(a), roles(b)
    return sorted(c for c in set(ra) | set(rb) if ra.get(c, "none") != rb.get(c, "none"))


def compare_tables(
    base: pa.Table,
    other: pa.Table,
    facts: tuple[pa.Table, pa.Table] | None,
    labels: tuple[str, str] = ("A", "B"),
    texts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The diff of two determination tables (person_id plus :data:`FIELDS`)."""
    a_rows = {
        r["person_id"]: r for r in base.select(["person_id", "facility_id", *FIELDS]).to_pylist()
    }
    b_rows = {
        r["person_id"]: r for r in other.select(["person_id", "facility_id", *FIELDS]).to_pylist()
    }
    where: dict[str, tuple[str | None, str | None]] = {}
    cats: dict[str, list[str]] = defaultdict(list)
    if facts is not None:
        pl, cat = facts
        where = {r["facility_id"]: (r["facility"], r["province"]) for r in pl.to_pylist()}
        for r in cat.to_pylist():
            cats[r["person_id"]].append(r["category"])
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    transitions: Counter[tuple[str, str]] = Counter()
    only: dict[str, int] = {labels[0]: 0, labels[1]: 0}
    for pid in sorted(set(a_rows) | set(b_rows)):
        a, b = a_rows.get(pid), b_rows.get(pid)
        if a is None or b is None:
            only[labels[0] if b is None else labels[1]] += 1
            continue
        if a["outcome"] == b["outcome"] and a["relief"] == b["relief"]:
            continue
        key = tuple(deciding_clauses(a, b)) or ("(no clause differs)",)
        transitions[(a["outcome"], b["outcome"])] += 1
        g = groups.setdefault(
            key,
            {
                "clauses": list(key),
                "persons": 0,
                "transitions": Counter(),
                "by_facility": Counter(),
                "by_province": Counter(),
                "by_offence_category": Counter(),
                "examples": [],
            },
        )
        g["persons"] += 1
        g["transitions"][f"{a['outcome']} -> {b['outcome']}"] += 1
        facility, province = where.get(a["facility_id"] or "", (a["facility_id"], None))
        g["by_facility"][facility or "unrecorded"] += 1
        g["by_province"][province or "unrecorded"] += 1
        for c in cats.get(pid, ["no conviction"]):
            g["by_offence_category"][c] += 1
        if len(g["examples"]) < SAMPLES:
            g["examples"].append(
                {
                    "person_id": pid,
                    labels[0]: {f: a[f] for f in FIELDS},
                    labels[1]: {f: b[f] for f in FIELDS},
                }
            )
    out_groups = []
    for key, g in sorted(groups.items(), key=lambda kv: (-kv[1]["persons"], kv[0])):
        g = dict(g)
        for k in ("transitions", "by_facility", "by_province", "by_offence_category"):
            g[k] = dict(sorted(g[k].items(), key=lambda kv: (-kv[1], kv[0])))
        g["legal_text"] = {c: (texts or {}).get(c, "") for c in key}
        out_groups.append(g)
    return {
        "labels": list(labels),
        "persons_compared": len(set(a_rows) & set(b_rows)),
        "only_in": only,
        "changed": sum(g["persons"] for g in out_groups),
        "transitions": {f"{x} -> {y}": n for (x, y), n in sorted(transitions.items())},
        "groups": out_groups,
    }


def decide_together(decrees: Sequence[Decree], conn: Any) -> list[pa.Table]:
    """Each decree's determinations, all from ONE query (see compile/sql/variants.py)."""
    backend = as_backend(conn)
    compiled = compile_variants(decrees, backend.dialect)
    wide = backend.fetch_arrow(compiled.sql)
    tables = []
    for k in range(len(decrees)):
        cols = {"person_id": wide.column("person_id"), "facility_id": wide.column("facility_id")}
        for out, name in compiled.columns(k).items():
            cols[name] = wide.column(out)
        t = pa.table(cols)
        if compiled.lists_as_json:
            from amnesty.engine import _decode_json_lists

            t = _decode_json_lists(t)
        tables.append(t.select(DETERMINATION_SCHEMA.names).cast(DETERMINATION_SCHEMA))
    return tables


def _texts(decrees: Sequence[Decree]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in decrees:
        for c in d.clauses:
            out.setdefault(c.id, c.text)
    return out


def diff_variants(
    db: str | DatabaseURL | None,
    decree_path: str | Path,
    variant_paths: Sequence[str | Path],
) -> dict[str, Any]:
    """The decree against each variant, every one decided in the same single query."""
    base = load(decree_path)
    read = [read_variant(v) for v in variant_paths]
    variants = [load_variant(decree_path, v) for v in read]
    names = [base.id, *(v.id for v in read)]
    return _diff_all(db, [base, *variants], names)


def diff_decrees(
    db: str | DatabaseURL | None, path_a: str | Path, path_b: str | Path
) -> dict[str, Any]:
    a, b = load(path_a), load(path_b)
    if a.as_of != b.as_of:
        from amnesty.engine import evaluate

        url = runs.database(db)
        with runs.registry(url) as backend:
            tables = [evaluate(d, backend).determinations for d in (a, b)]
            facts = (places(backend, profile_of(a)), categories(backend))
        return _summary([a, b], [a.id, b.id], tables, facts)
    return _diff_all(db, [a, b], [a.id, b.id])


def _diff_all(
    db: str | DatabaseURL | None, decrees: list[Decree], names: list[str]
) -> dict[str, Any]:
    url = runs.database(db)
    with runs.registry(url) as backend:
        tables = decide_together(decrees, backend)
        facts = (places(backend, profile_of(decrees[0])), categories(backend))
    return _summary(decrees, names, tables, facts)


def _summary(
    decrees: list[Decree],
    names: list[str],
    tables: list[pa.Table],
    facts: tuple[pa.Table, pa.Table],
) -> dict[str, Any]:
    texts = _texts(decrees)
    outcomes = [dict(Counter(t.column("outcome").to_pylist())) for t in tables]
    return {
        "kind": "diff",
        "decisions": [{"name": n, "by_outcome": o} for n, o in zip(names, outcomes, strict=True)],
        "diffs": [
            compare_tables(tables[0], tables[k], facts, (names[0], names[k]), texts)
            for k in range(1, len(tables))
        ],
    }


def diff_runs(db: str | DatabaseURL | None, run_a: str, run_b: str) -> dict[str, Any]:
    url = runs.database(db)
    ra, rb = runs.run(url, run_a), runs.run(url, run_b)
    da, db_ = runs.decree(url, ra), runs.decree(url, rb)
    ta, tb = runs.determinations(url, run_a), runs.determinations(url, run_b)
    with runs.registry(url) as backend:
        facts = (places(backend, profile_of(da)), categories(backend))
    result = _summary([da, db_], [run_a, run_b], [ta, tb], facts)
    result["runs"] = [
        {"run_id": r.run_id, "decree_id": r.decree_id, "as_of": r.as_of.isoformat()}
        for r in (ra, rb)
    ]
    return result
