"""Pass ``check_assertions``: the ``[[assertion]]`` tables, compiled like every predicate.

An assertion states a property of the decree for every possible person::

    [[assertion]]
    id = "KP-A1"
    never = 'authority = "MSS" and outcome = "eligible"'

Its predicate is the clause language plus ``a implies b`` and the names of the
determination: ``outcome`` and ``relief`` (texts), ``excluded`` (an exclude is
true or a require false), and ``clause("ID")`` (the clause's three-valued
value), ``ground("ID")``, ``blocking("ID")``, ``referred("ID")`` (whether the
id is in that field). Errors carry positions like every other decree error.
Assertions never change a determination: only ``amnesty prove`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lark import Lark, v_args
from lark.exceptions import UnexpectedInput

from amnesty.compile.resolve import _Resolver
from amnesty.compile.structure import check_table
from amnesty.compile.typecheck import _Checker
from amnesty.compile.unit import Predicate, Unit, did_you_mean, nearest
from amnesty.compile.vocabulary import check_value, tested_values
from amnesty.decree import grammar, ir
from amnesty.decree import syntax as s
from amnesty.decree.facts import FactDef
from amnesty.decree.model import DEFAULT_RELIEF_RANKING, Assertion

ASSERTION_KEYS = {
    "id": "text",
    "never": "text",
    "always": "text",
    "text": "text",
    "source": "text",
    "note": "text",
}
OUTCOMES = ("eligible", "ineligible", "review")
DETERMINATION: dict[str, FactDef] = {
    "outcome": FactDef("outcome", "string", "person", "The outcome.", values=OUTCOMES),
    "relief": FactDef(
        "relief", "string", "person", "The relief.", "ineligible", DEFAULT_RELIEF_RANKING
    ),
    "excluded": FactDef("excluded", "bool", "person", "An exclude true or a require false."),
}
FIELDS = ("clause", "ground", "blocking", "referred")

_PARSER = Lark(
    grammar.GRAMMAR.replace(
        "?start: expr", "?start: expr\n    | expr _IMPLIES expr -> implication"
    ).replace('_OR: "or"', '_OR: "or"\n_IMPLIES: "implies"'),
    parser="lalr",
    propagate_positions=True,
    maybe_placeholders=False,
)


@dataclass
class AssertionDraft:
    index: int
    id: str
    kind: Literal["never", "always"]
    predicate: Predicate
    text: str


@v_args(meta=True)
class _Builder(grammar._Builder):
    def implication(self, meta: Any, items: list[s.Node]) -> s.Node:
        hypothesis, conclusion = items
        negated = s.Negation(operand=hypothesis, start=hypothesis.start, end=hypothesis.end)
        return s.Disjunction(operands=(negated, conclusion), start=meta.start_pos, end=meta.end_pos)


def parse_assertion(text: str) -> tuple[s.Node | None, list[grammar.Problem]]:
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        return None, [grammar._syntax_problem(text, exc)]
    builder = _Builder()
    node = builder.transform(tree)
    return (None if builder.problems else node), builder.problems


class _AssertionResolver(_Resolver):
    def __init__(self, unit: Unit, predicate: Predicate) -> None:
        super().__init__(unit, predicate)
        self.facts = {**unit.facts, **DETERMINATION}

    def lookup(self, parts: tuple[str, ...], scope: tuple[str, ...]) -> str | None:
        if len(parts) == 1 and parts[0] in DETERMINATION:
            return parts[0]
        return super().lookup(parts, scope)


class _AssertionChecker(_Checker):
    def on_call(self, node: s.Call) -> Any:
        if node.function not in FIELDS:
            return super().on_call(node)
        ids = {c.id: c.kind for c in self.unit.clauses}
        arg = node.arguments[0] if len(node.arguments) == 1 else None
        if not isinstance(arg, s.Text):
            self.fail(node, f'{node.function}(...) takes one clause id, e.g. {node.function}("G1")')
            return None
        if arg.value not in ids:
            self.fail(
                arg,
                f"unknown clause id {arg.value!r}",
                did_you_mean(arg.value, ids, '"') or "name a clause of this decree",
                "unknown-name",
            )
            return None
        wanted = {"ground": "grant", "blocking": None, "referred": "refer"}.get(node.function)
        kind = ids[arg.value]
        if node.function == "blocking" and kind not in ("exclude", "require"):
            wanted = "exclude"
        if wanted is not None and kind != wanted:
            self.fail(
                arg,
                f"{node.function}({arg.value!r}): {arg.value} is a {kind} clause, "
                f"and only {'exclude or require' if node.function == 'blocking' else wanted} "
                f"clauses can be in {node.function}",
                'use clause("ID") for its value',
            )
            return None
        return ir.Fact(name=f"{node.function}.{arg.value}", type="bool", pos=self.at(node)), "bool"


def check_assertions(unit: Unit) -> None:
    drafts: list[AssertionDraft] = []
    seen: set[str] = set()
    for i, table in enumerate(unit.meta.get("assertion", [])):
        draft = _read(unit, i, table)
        if draft is None:
            continue
        if draft.id in seen:
            unit.error(
                "duplicate-id",
                f"duplicate assertion id {draft.id!r}",
                unit.at(("assertion", i, "id")),
            )
        seen.add(draft.id)
        _compile(unit, draft.predicate)
        drafts.append(draft)
    unit.meta["assertions"] = drafts


def _read(unit: Unit, index: int, table: dict[str, Any]) -> AssertionDraft | None:
    path = ("assertion", index)
    aid = table.get("id")
    what = f"assertion {aid}" if isinstance(aid, str) else f"assertion #{index + 1}"
    good = check_table(unit, table, path, ASSERTION_KEYS, ("id",), what)
    kinds = [k for k in ("never", "always") if k in good]
    if len(kinds) != 1:
        unit.error(
            "assertion-kind",
            f"{what}: give exactly one of never or always",
            unit.syntax.locator.table(path),
            "never = '...' (no one makes it true) or always = '...' (no one makes it false)",
        )
        return None
    if "id" not in good:
        return None
    kind: Literal["never", "always"] = "never" if kinds[0] == "never" else "always"
    predicate = Predicate((*path, kind), good[kind], what)
    return AssertionDraft(index, good["id"], kind, predicate, good.get("text", ""))


def _compile(unit: Unit, predicate: Predicate) -> None:
    tree, problems = parse_assertion(predicate.text)
    for p in problems:
        where = unit.syntax.locator.inside(predicate.path, p.start, max(p.end - p.start, 1))
        code = "vague-comparator" if "comparator" in p.message else "predicate-syntax"
        unit.error(code, f"{predicate.owner}: {p.message}", where, p.hint)
    if tree is None:
        return
    tree = _AssertionResolver(unit, predicate).visit(tree, ())
    typed = _AssertionChecker(unit, predicate).expr(tree)
    if typed is None:
        return
    expr, typ = typed
    if typ != "bool":
        unit.error(
            "type-mismatch",
            f"{predicate.owner}: an assertion must be a condition",
            unit.in_predicate(predicate, tree),
        )
        return
    for fact, literal in tested_values(expr):
        if fact in DETERMINATION:
            values = DETERMINATION[fact].values or ()
            if literal.value not in values:
                suggestion = nearest(str(literal.value), values)
                unit.error(
                    "unknown-value",
                    f'{predicate.owner}: unknown {fact} "{literal.value}"; '
                    f"expected one of {', '.join(values)}",
                    literal.pos,
                    f'did you mean "{suggestion}"?' if suggestion else "",
                )
        else:
            check_value(unit, predicate.owner, fact, literal)
    predicate.expr = expr


def assertions(unit: Unit) -> tuple[Assertion, ...]:
    """The compiled assertions (only when no error was found)."""
    out = []
    for d in unit.meta.get("assertions", []):
        assert d.predicate.expr is not None
        out.append(
            Assertion(
                id=d.id,
                kind=d.kind,
                predicate=d.predicate.expr,
                text=d.text,
                pos=unit.syntax.locator.table(("assertion", d.index)),
            )
        )
    return tuple(out)
