"""``check``: every problem of a decree file, errors and warnings, in one report.

Errors stop a decree from running (``load`` raises them); warnings do not:
contested clauses, a repealed offence code, and, against a registry, clauses
that apply to nobody in it and grants that every such person is excluded from.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amnesty.decree.model import Decree
from amnesty.errors import AmnestyError, DecreeError, DecreeErrors


@dataclass
class CheckReport:
    """What ``amnesty check`` prints: errors (exit 1 when any) and warnings."""

    path: str
    errors: list[DecreeError] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)  # compile.unit.DecreeWarning
    notes: list[str] = field(default_factory=list)  # checks that could not run, and why
    decree: Decree | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        def item(p: Any) -> dict[str, Any]:
            pos = p.position
            return {
                "code": p.code,
                "message": p.message,
                "hint": p.hint,
                "file": pos.file if pos else self.path,
                "line": pos.line if pos else None,
                "column": pos.column if pos else None,
            }

        return {
            "path": self.path,
            "ok": self.ok,
            "errors": [item(e) for e in self.errors],
            "warnings": [item(w) for w in self.warnings],
            "notes": list(self.notes),
        }


PROVE_TIME_LIMIT_S = 30.0  # for all built-in solver checks of one decree together


def check_syntax(
    syntax: Any, conn: Any = None, profile: Any = None, prove_time_limit: float = PROVE_TIME_LIMIT_S
) -> CheckReport:
    from amnesty.compile.passes import front_end

    unit, decree = front_end(syntax, profile=profile, conn=conn)
    report = CheckReport(syntax.file, list(unit.errors), list(unit.warnings), decree=decree)
    if decree is None:
        return report
    report.warnings.extend(contested_warnings(decree))
    if prove_time_limit > 0:
        solver_warnings(report, decree, prove_time_limit)
    if conn is not None:
        registry_warnings(report, decree, conn)
    return report


def check_path(
    path: str | Path, conn: Any = None, prove_time_limit: float = PROVE_TIME_LIMIT_S
) -> CheckReport:
    from amnesty.decree.parse import read_file

    try:
        syntax = read_file(path)
    except DecreeErrors as exc:
        return CheckReport(str(path), list(exc.errors))
    return check_syntax(syntax, conn, prove_time_limit=prove_time_limit)


def solver_warnings(report: CheckReport, decree: Decree, time_limit: float) -> None:
    """The built-in checks of :mod:`amnesty.assurance` (for every possible person)."""
    from amnesty.assurance import builtin_checks
    from amnesty.compile.unit import DecreeWarning

    for f in builtin_checks(decree, time_limit=time_limit):
        if f.status == "unknown":
            report.notes.append(f.message)
        else:
            report.warnings.append(
                DecreeWarning(f.message + " (for every possible person)", f.position, code=f.name)
            )


def contested_warnings(decree: Decree) -> list[Any]:
    from amnesty.compile.unit import DecreeWarning

    out = []
    for c in decree.clauses:
        if not c.contested:
            continue
        names = []
        predicate = c.predicate
        for name, _ in getattr(predicate, "readings", ()):
            names.append(f"{name} (applied)" if name == decree.applied_reading else name)
        out.append(
            DecreeWarning(
                f"clause {c.id} is contested: readings {', '.join(names)}; persons for whom "
                "the readings differ go to review",
                c.pos,
                code="contested",
            )
        )
    return out


def registry_warnings(report: CheckReport, decree: Decree, conn: Any) -> None:
    """Dead and shadowed clauses, from one evaluation of the decree over the registry."""
    from amnesty.compile.unit import DecreeWarning

    try:
        engine = importlib.import_module("amnesty.engine")
    except ModuleNotFoundError as exc:
        if exc.name != "amnesty.engine":
            raise
        report.notes.append("dead and shadowed clauses were not checked: no engine yet")
        return
    if decree.parts:  # each part on its own registry evaluation
        for part in decree.parts:
            registry_warnings(report, decree.part(part.id), conn)
        return
    try:
        rows = engine.evaluate(decree, conn).determinations.to_pylist()
    except AmnestyError as exc:
        report.notes.append(f"dead and shadowed clauses were not checked: {exc}")
        return
    if not rows:
        report.notes.append("the registry has no one under sentence on the as-of date")
        return
    excludes = {c.id for c in decree.clauses if c.kind == "exclude"}

    def unknown_ids(row: dict[str, Any]) -> set[str]:
        return {u["clause"] for u in row.get("unknown") or ()}

    for c in decree.clauses:
        true_for = [r for r in rows if c.id in (r.get("grounds") or ())]
        unknown_for = [r for r in rows if c.id in unknown_ids(r)]
        blocked = [r for r in rows if c.id in (r.get("blocking") or ())]
        referred = [r for r in rows if c.id in (r.get("referred") or ())]
        dead = {
            "grant": not true_for and not unknown_for,
            "exclude": not blocked and not unknown_for,
            "refer": not referred,
            "require": len(blocked) == len(rows),
        }[c.kind]
        if dead:
            what = (
                "holds for nobody (it blocks everyone)"
                if c.kind == "require"
                else ("applies to nobody")
            )
            report.warnings.append(
                DecreeWarning(
                    f"{c.kind} {c.id} {what} in this registry ({len(rows)} persons)",
                    c.pos,
                    "check its predicate against the registry's values",
                    "dead-clause",
                )
            )
        elif c.kind == "grant" and true_for and not unknown_for:
            shadowing = [set(r.get("blocking") or ()) & excludes for r in true_for]
            if all(shadowing):
                by = sorted(set().union(*shadowing))
                report.warnings.append(
                    DecreeWarning(
                        f"grant {c.id} is shadowed: all {len(true_for)} persons it holds for are "
                        f"excluded (by {', '.join(by)})",
                        c.pos,
                        "the grant releases no one in this registry",
                        "shadowed-grant",
                    )
                )
