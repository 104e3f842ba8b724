"""Profile files: a jurisdiction declared in TOML, read with every error at file:line:column.

A profile says what a registry of one jurisdiction holds beyond the core tables:
its authorities, id rule, division levels (and which count as a province), facility
types, offence categories and gravity classes, extra history event types, typed
attributes on persons, convictions, facilities, offences and events, which of them
are sensitive, and labels for its vocabularies in its own language.  The schema is
written out in :data:`SKELETON` (``amnesty profile init``) and in docs/registry.md.

Reading never trusts the file: every key is checked (unknown keys are errors with the
nearest known key), all problems are collected and raised together as
:class:`ProfileErrors`, and nothing is loaded unless the whole file is right.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amnesty.decree.locate import Locator
from amnesty.decree.locate import Path as KeyPath
from amnesty.errors import ConfigError, Position
from amnesty.registry.schema import (
    BOOLEAN,
    CORE_TABLES,
    DATE,
    DIVISION_LEVELS,
    EVENT_TYPES,
    FACILITY_TYPES,
    GRAVITIES,
    INTEGER,
    OFFENCE_CATEGORIES,
    PROVINCE_LEVELS,
    VARCHAR,
    Column,
)

HASH_VERSION = "amnesty-profile-v1"

# The attribute types a profile may declare, as written in the file.
ATTRIBUTE_TYPES: dict[str, str] = {
    "text": VARCHAR,
    "integer": INTEGER,
    "boolean": BOOLEAN,
    "date": DATE,
}
_TYPE_NAMES = {v: k for k, v in ATTRIBUTE_TYPES.items()}

# Which table each attribute section extends.
ATTRIBUTE_TABLES = {
    "persons": "persons",
    "convictions": "convictions",
    "facilities": "facilities",
    "offences": "offences",
    "events": "events",
}

# The vocabularies a profile may label, and the profile field holding each.
LABELLED = {
    "division_levels": "division_levels",
    "facility_types": "facility_types",
    "offence_categories": "offence_categories",
    "gravities": "gravities",
    "event_types": "event_types",
    "authorities": "authorities",
}

# Names the core facts already use per prefix (decree/facts.py; a test keeps them equal):
# an attribute of that name would be shadowed by the core fact, so the file is refused.
RESERVED_FACTS: dict[str, frozenset[str]] = {
    "persons": frozenset({"id", "sex", "birth_date", "age", "citizenship", "authority"}),
    "facilities": frozenset({"id", "type", "authority", "division", "province"}),
    "convictions": frozenset(
        {
            "id",
            "offence_code",
            "category",
            "gravity",
            "intent",
            "code_in_force",
            "offence_date",
            "kind",
            "term_months",
            "start",
            "end",
            "served",
            "remaining",
            "term",
        }
    ),
    "events": frozenset({"type", "date", "country", "decree"}),
}
RESERVED_FACTS["offences"] = RESERVED_FACTS["convictions"]
_FACT_PREFIX = {"persons": "person", "facilities": "facility", "convictions": "conviction",
                "offences": "conviction", "events": "event"}  # fmt: skip

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_WORD = re.compile(r"^[a-z][a-z0-9_]*$")

_TOP = ("profile", "divisions", "facilities", "offences", "persons", "convictions", "events",
        "labels")  # fmt: skip
_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "description", "language", "id_case", "leap_birthday", "authorities"),
    "divisions": ("levels", "province_levels"),
    "facilities": ("types", "attributes"),
    "offences": ("categories", "gravities", "attributes"),
    "persons": ("attributes",),
    "convictions": ("attributes",),
    "events": ("extra_types", "attributes"),
    "labels": tuple(LABELLED),
}
_ATTRIBUTE_KEYS = ("type", "doc", "unknown", "min", "values", "sensitive")


class ProfileErrors(ConfigError):
    """Every problem of one profile file, each at its file:line:column."""

    def __init__(self, file: str, problems: list[tuple[Position, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{pos}: {msg}" for pos, msg in problems]
        super().__init__(
            f"{file}: {len(problems)} problem(s) in the profile file\n" + "\n".join(lines)
        )


def read_profile_file(path: str | Path) -> dict[str, Any]:
    """The checked, normalised content of a profile file (see :func:`parse_profile_text`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such profile file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the profile file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProfileErrors(
            str(p), [(Position(str(p), line, 1), "the file is not UTF-8 text")]
        ) from None
    return parse_profile_text(text, str(p))


def parse_profile_text(text: str, file: str = "<string>") -> dict[str, Any]:
    """Check a profile's TOML text; returns its normalised content (defaults filled in).

    The result has the keys of :class:`~amnesty.registry.profiles.Profile`'s
    constructor, with attributes as lists of :class:`Column` per table.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileErrors(file, [_toml_problem(str(exc), file, text)]) from None
    return _Checker(data, Locator(text, file), file).run()


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _toml_problem(message: str, file: str, text: str) -> tuple[Position, str]:
    match = _TOML_POSITION.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    else:  # "(at end of document)": where the text ends
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        message = re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
    return Position(file, line, column), f"TOML syntax error: {message[:1].lower()}{message[1:]}"


class _Checker:
    def __init__(self, data: dict[str, Any], locator: Locator, file: str) -> None:
        self.data = data
        self.loc = locator
        self.file = file
        self.problems: list[tuple[Position, str]] = []

    # -- reporting -------------------------------------------------------------------
    def error(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        if path in self.loc.tables and path not in self.loc.values:  # a [table.header]
            pos = self.loc.table(path)
        else:
            pos = self.loc.key(path) if key else self.loc.value(path)
        self.problems.append((Position(pos.file, pos.line, pos.column), message))

    def unknown_keys(self, table: dict[str, Any], path: KeyPath, known: tuple[str, ...]) -> None:
        for k in table:
            if k not in known:
                close = difflib.get_close_matches(k, known, n=1)
                hint = f'; did you mean "{close[0]}"?' if close else f"; known: {', '.join(known)}"
                where = (*path, k)
                self.error(where, f"unknown key {'.'.join(map(str, where))}{hint}", key=True)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.error((name,), f"{name} must be a table ([{name}])")
            return {}
        return value

    def words(
        self,
        path: KeyPath,
        value: Any,
        *,
        pattern: re.Pattern[str] | None = _WORD,
        what: str = "value",
        empty: bool = False,
    ) -> tuple[str, ...] | None:
        """A non-empty list of distinct strings (each matching ``pattern``), else None."""
        dotted = ".".join(map(str, path))
        if empty and value == []:
            return ()
        if not isinstance(value, list) or not value:
            self.error(path, f"{dotted} must be a non-empty list of strings")
            return None
        out: list[str] = []
        for v in value:
            if not isinstance(v, str):
                self.error(path, f"{dotted}: {v!r} is not a string")
                return None
            if pattern is not None and not pattern.match(v):
                self.error(
                    path,
                    f"{dotted}: {what} {v!r} must be lower case letters, digits and _ "
                    "(it is what registry rows and decrees write)",
                )
                return None
            if v in out:
                self.error(path, f"{dotted}: {v!r} is listed twice")
                return None
            if not v.strip():
                self.error(path, f"{dotted}: an empty value")
                return None
            out.append(v)
        return tuple(out)

    def choice(self, path: KeyPath, value: Any, allowed: tuple[str, ...], default: str) -> str:
        if value is None:
            return default
        if value not in allowed:
            self.error(
                path,
                f"{'.'.join(map(str, path))} is {value!r}; expected one of {', '.join(allowed)}",
            )
            return default
        return str(value)

    def text(self, path: KeyPath, value: Any, *, required: bool = False) -> str:
        dotted = ".".join(map(str, path))
        if value is None:
            if required:
                self.error(path, f"{dotted} is required", key=True)
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(path, f"{dotted} must be a non-empty string")
            return ""
        return value

    # -- the file --------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.unknown_keys(self.data, (), _TOP)
        for name in _TOP:
            if name in self.data:
                self.unknown_keys(self.section(name), (name,), _SECTION_KEYS[name])
        out: dict[str, Any] = {}
        prof = self.section("profile")
        if "profile" not in self.data:
            self.problems.append(
                (Position(self.file, 1, 1), "a profile file needs a [profile] table with a name")
            )
        name = self.text(("profile", "name"), prof.get("name"), required="profile" in self.data)
        if name and not _NAME.match(name):
            self.error(
                ("profile", "name"),
                f"profile.name {name!r} must be lower case letters and digits, "
                'joined by - (e.g. "xx-2020")',
            )
        out["name"] = name
        out["description"] = self.text(("profile", "description"), prof.get("description"))
        out["language"] = self.text(("profile", "language"), prof.get("language")) or "en"
        out["id_case"] = self.choice(
            ("profile", "id_case"), prof.get("id_case"), ("insensitive", "upper"), "insensitive"
        )
        out["leap_birthday"] = self.choice(
            ("profile", "leap_birthday"), prof.get("leap_birthday"), ("feb28", "mar1"), "feb28"
        )
        auth = prof.get("authorities")
        out["authorities"] = (
            ()
            if auth is None
            else self.words(("profile", "authorities"), auth, pattern=None, empty=True) or ()
        )

        div = self.section("divisions")
        levels: tuple[str, ...] = DIVISION_LEVELS
        if "levels" in div:
            levels = self.words(("divisions", "levels"), div["levels"], what="level") or levels
        out["division_levels"] = levels
        if "province_levels" in div:
            prov = self.words(("divisions", "province_levels"), div["province_levels"]) or ()
            for p in prov:
                if p not in levels:
                    self.error(
                        ("divisions", "province_levels"),
                        f"divisions.province_levels: {p!r} is not one of divisions.levels "
                        f"({', '.join(levels)})",
                    )
        else:
            prov = tuple(p for p in PROVINCE_LEVELS if p in levels)
        out["province_levels"] = prov

        fac = self.section("facilities")
        out["facility_types"] = (
            self.words(("facilities", "types"), fac["types"], what="facility type")
            if "types" in fac
            else None
        ) or FACILITY_TYPES
        off = self.section("offences")
        out["offence_categories"] = (
            self.words(("offences", "categories"), off["categories"], what="category")
            if "categories" in off
            else None
        ) or OFFENCE_CATEGORIES
        out["gravities"] = (
            self.words(("offences", "gravities"), off["gravities"], what="gravity")
            if "gravities" in off
            else None
        ) or GRAVITIES
        ev = self.section("events")
        extra: tuple[str, ...] = ()
        if "extra_types" in ev:
            extra = self.words(("events", "extra_types"), ev["extra_types"]) or ()
            for e in extra:
                if e in EVENT_TYPES:
                    self.error(
                        ("events", "extra_types"),
                        f"events.extra_types: {e!r} is a core event type already "
                        f"(core: {', '.join(EVENT_TYPES)})",
                    )
        out["event_types"] = EVENT_TYPES + tuple(e for e in extra if e not in EVENT_TYPES)

        attributes: dict[str, tuple[Column, ...]] = {}
        sensitive: list[str] = []
        for section, table in ATTRIBUTE_TABLES.items():
            cols = self.attributes(section, table, sensitive)
            attributes[table] = cols
        # conviction.<name> facts come from convictions and from their offence: one name each.
        clash = {c.name for c in attributes["convictions"]} & {
            c.name for c in attributes["offences"]
        }
        for n in sorted(clash):
            self.error(
                ("offences", "attributes", n),
                f"offences.attributes.{n}: convictions.attributes has {n} too; decrees read both "
                f"as conviction.{n}, so rename one",
                key=True,
            )
        out["attributes"] = attributes
        out["sensitive"] = tuple(sensitive)

        vocab = {
            "division_levels": out["division_levels"],
            "facility_types": out["facility_types"],
            "offence_categories": out["offence_categories"],
            "gravities": out["gravities"],
            "event_types": out["event_types"],
            "authorities": out["authorities"],
        }
        labels = self.section("labels")
        out_labels: list[tuple[str, str, str]] = []
        for group, table in labels.items():
            if group not in LABELLED:
                continue  # reported by unknown_keys
            if not isinstance(table, dict):
                self.error(("labels", group), f"labels.{group} must be a table of value = label")
                continue
            for value, label in table.items():
                path = ("labels", group, value)
                if value not in vocab[group]:
                    close = difflib.get_close_matches(value, vocab[group], n=1)
                    hint = f'; did you mean "{close[0]}"?' if close else ""
                    self.error(path, f"labels.{group}: {value!r} is not one of {group}{hint}",
                               key=True)  # fmt: skip
                elif not isinstance(label, str) or not label.strip():
                    self.error(path, f"labels.{group}.{value} must be a non-empty string")
                else:
                    out_labels.append((group, value, label))
        out["labels"] = tuple(out_labels)
        if self.problems:
            self.problems.sort(key=lambda p: (p[0].line, p[0].column))
            raise ProfileErrors(self.file, self.problems)
        return out

    def attributes(self, section: str, table: str, sensitive: list[str]) -> tuple[Column, ...]:
        block = self.section(section).get("attributes", {})
        if not isinstance(block, dict):
            self.error((section, "attributes"), f"{section}.attributes must be a table")
            return ()
        core = next(t for t in CORE_TABLES if t.name == table)
        cols: list[Column] = []
        for name, spec in block.items():
            path: KeyPath = (section, "attributes", name)
            where = f"{section}.attributes.{name}"
            if not _WORD.match(name):
                self.error(
                    path, f"{where}: an attribute name is lower case letters, digits and _",
                    key=True,
                )  # fmt: skip
                continue
            if name in core.column_names:
                self.error(path, f"{where}: {table} already has a core column {name}", key=True)
                continue
            if name in RESERVED_FACTS[table]:
                fact = f"{_FACT_PREFIX[table]}.{name}"
                self.error(path, f"{where}: decrees already read {fact} as a core fact", key=True)
                continue
            if not isinstance(spec, dict):
                self.error(path, f"{where} must be a table with at least type and doc", key=True)
                continue
            self.unknown_keys(spec, path, _ATTRIBUTE_KEYS)
            kind = spec.get("type")
            if kind not in ATTRIBUTE_TYPES:
                self.error(
                    (*path, "type"),
                    f"{where}.type is {kind!r}; expected one of {', '.join(ATTRIBUTE_TYPES)}",
                    key=kind is None,
                )
                continue
            doc = self.text((*path, "doc"), spec.get("doc"), required=True)
            unknown = self.text((*path, "unknown"), spec.get("unknown")) or "not recorded"
            low = spec.get("min")
            if low is not None and (kind != "integer" or type(low) is not int):
                self.error((*path, "min"), f"{where}.min is a whole number, for integer only")
                low = None
            values = spec.get("values")
            if values is not None:
                if kind != "text":
                    self.error((*path, "values"), f"{where}.values is for text attributes only")
                    values = None
                else:
                    values = self.words((*path, "values"), values, pattern=None)
            secret = spec.get("sensitive", False)
            if not isinstance(secret, bool):
                self.error((*path, "sensitive"), f"{where}.sensitive is true or false")
            elif secret:
                sensitive.append(f"{table}.{name}")
            cols.append(
                Column(
                    name,
                    ATTRIBUTE_TYPES[kind],
                    doc,
                    values=values,
                    min_value=low,
                    unknown=unknown,
                )
            )
        return tuple(cols)


def content_hash(document: dict[str, Any]) -> str:
    """sha256 of a profile's meaning (its normalised document), not of its layout."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{HASH_VERSION}\n{text}".encode()).hexdigest()


def to_toml(document: dict[str, Any]) -> str:
    """A profile document as TOML that :func:`parse_profile_text` reads back unchanged."""
    lines: list[str] = []

    def emit_table(header: str, table: dict[str, Any]) -> None:
        simple = {k: v for k, v in table.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        if simple:
            lines.append(f"[{header}]")
            for k, v in simple.items():
                lines.append(f"{_key(k)} = {_value(v)}")
            lines.append("")
        for k, v in nested.items():
            emit_table(f"{header}.{_key(k)}", v)

    for header, table in document.items():
        emit_table(header, table)
    return "\n".join(lines).rstrip("\n") + "\n"


def _key(k: str) -> str:
    return k if re.match(r"^[A-Za-z0-9_-]+$", k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(type(v))


def attribute_spec(column: Column, sensitive: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": _TYPE_NAMES[column.type], "doc": column.doc}
    if column.unknown and column.unknown != "not recorded":
        spec["unknown"] = column.unknown
    if column.min_value is not None:
        spec["min"] = column.min_value
    if column.values is not None:
        spec["values"] = list(column.values)
    if sensitive:
        spec["sensitive"] = True
    return spec


Loader = Callable[[str], dict[str, Any]]

SKELETON = """\
# A registry profile for amnesty: what your jurisdiction's registry holds beyond the
# core tables (docs/registry.md lists them). Check it with
#     amnesty profile check {file}
# and import a registry under it with
#     amnesty registry import FOLDER --profile {file}
# Every section but [profile] may be left out; the core vocabulary is used then.

[profile]
name = "{name}"          # what decrees write as jurisdiction = "{name}"
description = "Describe the jurisdiction and the registry in one sentence."
language = "en"            # the language of the labels below
id_case = "insensitive"    # or "upper": every id must then be written in upper case
leap_birthday = "feb28"    # or "mar1": where a 29 February birthday falls in common years
authorities = ["PRISONS"]  # the services that run facilities and hold persons

[divisions]
levels = ["country", "region", "district"]
province_levels = ["region"]  # the level decrees call facility.province

[facilities]
types = ["prison", "remand_centre", "open_prison"]

# [facilities.attributes.capacity]
# type = "integer"
# doc = "Places the facility has."
# min = 0

[offences]
categories = ["theft", "violent_crime", "drug_possession", "drug_trafficking", "fraud",
              "sexual_offence", "murder", "other"]
gravities = ["petty", "misdemeanour", "felony"]

# [offences.attributes.article]
# type = "integer"
# doc = "The article of the criminal code (decrees compare it as a number)."

[persons.attributes.veteran]
type = "boolean"
doc = "Served in the armed forces."
unknown = "not recorded"

# [persons.attributes.hiv_positive]
# type = "boolean"
# doc = "Diagnosed with HIV."
# sensitive = true           # health-like: shown only to roles that need it

# [convictions.attributes.first_offence]
# type = "boolean"
# doc = "The person's first conviction."

[events]
# extra_types = ["parole_violation"]  # history events beyond the core custody events

[labels.facility_types]
prison = "Prison"
remand_centre = "Remand centre"
open_prison = "Open prison"
"""


def skeleton(name: str, file: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f'profile name {name!r}: lower case letters and digits joined by - (e.g. "xx-2020")'
        )
    return SKELETON.format(name=name, file=file)
