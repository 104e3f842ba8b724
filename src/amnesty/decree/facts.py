"""The facts a decree may speak of: the vocabulary shared by the language
(name resolution, type checking, suggestions), the SQL compiler and the
reference interpreter.

Each fact is computed at the run's as-of date from the registry. Person facts
are usable anywhere; ``conviction.*`` and ``event.*`` facts only inside a
quantifier over that collection. Profile attributes join them by name
(``person.<attr>`` and ``conviction.<attr>``), typed by the profile.

``unknown`` says when the fact is unknown (null): the engine and the interpreter
must agree on it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal as L

from amnesty.decree.ir import Type
from amnesty.registry.profiles import Profile
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR, Column

Scope = L["person", "conviction", "event"]


@dataclass(frozen=True)
class FactDef:
    name: str
    type: Type
    scope: Scope
    doc: str
    unknown: str = "never"
    values: tuple[str, ...] | None = None  # closed vocabulary, for checks and suggestions


def _f(
    name: str,
    type: Type,
    scope: Scope,
    doc: str,
    unknown: str = "never",
    values: tuple[str, ...] | None = None,
) -> FactDef:
    return FactDef(name, type, scope, doc, unknown, values)


CORE_FACTS: tuple[FactDef, ...] = (
    # -- the person ---------------------------------------------------------------
    _f("person.id", "string", "person", "Registry id."),
    _f("person.sex", "string", "person", "M or F.", "sex not recorded", ("M", "F")),
    _f(
        "person.birth_date",
        "date",
        "person",
        "Date of birth (only when recorded to the day).",
        "birth date not recorded, or recorded only to the month or year",
    ),
    _f(
        "person.age",
        "int",
        "person",
        "Completed years at the as-of date (calendar: a 29 February birthday falls on "
        "28 February in common years unless the profile says 1 March).",
        "birth date not recorded, or partial and the age differs across its range",
    ),
    _f("person.citizenship", "string", "person", "ISO 3166-1 alpha-3.", "not recorded"),
    _f(
        "person.authority",
        "string",
        "person",
        "Custody authority the person is held under.",
        "not recorded",
    ),
    # -- where the person is held ---------------------------------------------------
    _f(
        "facility.id",
        "string",
        "person",
        "Facility holding or supervising the person.",
        "not recorded",
    ),
    _f("facility.type", "string", "person", "Its type.", "facility not recorded"),
    _f("facility.authority", "string", "person", "Its authority.", "facility not recorded"),
    _f(
        "facility.division",
        "string",
        "person",
        "Division the facility lies in.",
        "facility not recorded",
    ),
    _f(
        "facility.province",
        "string",
        "person",
        "Province-level ancestor (province or special city) of the facility's division.",
        "facility not recorded",
    ),
    # -- health: the latest assessment on or before the as-of date ---------------------
    _f(
        "health.severity",
        "string",
        "person",
        "Severity of illness.",
        "no assessment on or before the as-of date, or severity not recorded",
        ("none", "mild", "moderate", "severe", "terminal"),
    ),
    _f(
        "health.able_to_work",
        "bool",
        "person",
        "Fit for labour.",
        "no assessment, or fitness not recorded",
    ),
    _f("health.assessed_on", "date", "person", "Date of that assessment.", "no assessment"),
    # -- the aggregate sentence over all the person's convictions ------------------------
    _f("sentence.count", "int", "person", "Number of recorded convictions (0 when none)."),
    _f(
        "sentence.start",
        "date",
        "person",
        "Earliest start of any conviction.",
        "no conviction recorded, or a start not recorded or recorded only to the month or year",
    ),
    _f(
        "sentence.end",
        "date",
        "person",
        "Latest end of the parts of the sentence: a conviction alone ends at start + "
        "term_months (calendar); convictions sharing an aggregate_id end at their earliest "
        "start + the sum of their terms.",
        "no conviction recorded, or a life or death sentence, an unrecorded term, or a start "
        "not recorded or recorded only to the month or year among them",
    ),
    _f(
        "sentence.served",
        "duration",
        "person",
        "From sentence.start to the as-of date.",
        "as sentence.start",
    ),
    _f(
        "sentence.remaining",
        "duration",
        "person",
        "From the as-of date to sentence.end.",
        "as sentence.end",
    ),
    _f(
        "sentence.term",
        "duration",
        "person",
        "From sentence.start to sentence.end.",
        "as sentence.start or sentence.end",
    ),
    _f(
        "sentence.total_months",
        "int",
        "person",
        "Sum of term_months over all convictions.",
        "no conviction recorded, or a life or death sentence or an unrecorded term among them",
    ),
    _f("sentence.life", "bool", "person", "Any life sentence."),
    _f("sentence.death", "bool", "person", "Any death sentence."),
    # -- one conviction (inside `any|all|none|count convictions (...)`) ----------------
    _f("conviction.id", "string", "conviction", "Registry id."),
    _f("conviction.offence_code", "string", "conviction", "Offence code."),
    _f("conviction.category", "string", "conviction", "Offence category from the catalogue."),
    _f(
        "conviction.gravity",
        "string",
        "conviction",
        "Gravity class.",
        "not in the catalogue",
        ("small", "medium", "grave", "especially_grave"),
    ),
    _f(
        "conviction.intent",
        "string",
        "conviction",
        "Intentional or negligent.",
        "not in the catalogue",
        ("intentional", "negligent"),
    ),
    _f(
        "conviction.code_in_force",
        "bool",
        "conviction",
        "The offence code is in force on the as-of date (not repealed).",
    ),
    _f(
        "conviction.offence_date",
        "date",
        "conviction",
        "When the offence was committed.",
        "not recorded, or recorded only to the month or year",
    ),
    _f(
        "conviction.kind",
        "string",
        "conviction",
        "Sentence kind.",
        "never",
        ("term", "life", "death", "suspended", "deferred", "non_custodial"),
    ),
    _f(
        "conviction.term_months",
        "int",
        "conviction",
        "Term in months.",
        "life and death sentences, or the term not recorded",
    ),
    _f(
        "conviction.start",
        "date",
        "conviction",
        "First day of the sentence.",
        "not recorded, or recorded only to the month or year",
    ),
    _f(
        "conviction.end",
        "date",
        "conviction",
        "start + term_months (calendar).",
        "life and death sentences, the term not recorded, or the start not recorded or "
        "recorded only to the month or year",
    ),
    _f(
        "conviction.served",
        "duration",
        "conviction",
        "From start to the as-of date.",
        "the start not recorded, or recorded only to the month or year",
    ),
    _f(
        "conviction.remaining",
        "duration",
        "conviction",
        "From the as-of date to end.",
        "as end",
    ),
    _f(
        "conviction.term",
        "duration",
        "conviction",
        "From start to end.",
        "as end",
    ),
    # -- one custody event on or before the as-of date (inside `... events (...)`) -------
    _f(
        "event.type",
        "string",
        "event",
        "Event type.",
        "never",
        (
            "admission",
            "transfer",
            "release",
            "commutation",
            "repatriation",
            "defection_attempt",
            "pardon",
            "death",
            "temporary_release",
            "return",
        ),
    ),
    _f("event.date", "date", "event", "When it happened."),
    _f(
        "event.country",
        "string",
        "event",
        "For a repatriation: the country returned from.",
        "not recorded (or not a repatriation)",
    ),
    _f("event.decree", "string", "event", "For a release or pardon: the decree.", "not recorded"),
)

_SCHEMA_TO_FACT_TYPE: dict[str, Type] = {
    VARCHAR: "string",
    INTEGER: "int",
    BOOLEAN: "bool",
    DATE: "date",
    DOUBLE: "int",
}


# The fact prefix of each profile table's attributes (:func:`catalogue`).
ATTRIBUTE_PREFIX = {
    "persons": "person",
    "convictions": "conviction",
    "offences": "conviction",
    "facilities": "facility",
    "events": "event",
}


def sensitive_facts(profile: Profile) -> frozenset[str]:
    """The facts shown only to those who need them, each read logged: the health
    assessment's (``health.*``) and the profile's attributes marked ``sensitive``."""
    names = {f.name for f in CORE_FACTS if f.name.startswith("health.")}
    for entry in profile.sensitive:  # "table.attribute"
        table, _, attribute = entry.partition(".")
        names.add(f"{ATTRIBUTE_PREFIX[table]}.{attribute}")
    return frozenset(names)


def catalogue(profile: Profile) -> dict[str, FactDef]:
    """All facts a decree for ``profile`` may use, by canonical name.

    The profile's vocabularies close ``conviction.gravity`` and ``event.type`` (the
    checker suggests from them); its attributes join as ``person.<attr>``,
    ``conviction.<attr>`` (of the conviction, or of its offence in the catalogue),
    ``facility.<attr>`` (the person's facility) and ``event.<attr>``.
    """
    facts = {f.name: f for f in CORE_FACTS}
    facts["conviction.gravity"] = replace(facts["conviction.gravity"], values=profile.gravities)
    facts["event.type"] = replace(facts["event.type"], values=profile.event_types)
    sections: tuple[tuple[str, Scope, tuple[Column, ...]], ...] = (
        (ATTRIBUTE_PREFIX["persons"], "person", profile.person_attributes),
        (ATTRIBUTE_PREFIX["convictions"], "conviction", profile.conviction_attributes),
        (ATTRIBUTE_PREFIX["offences"], "conviction", profile.offence_attributes),
        (ATTRIBUTE_PREFIX["facilities"], "person", profile.facility_attributes),
        (ATTRIBUTE_PREFIX["events"], "event", profile.event_attributes),
    )
    for prefix, scope, columns in sections:
        for col in columns:
            name = f"{prefix}.{col.name}"
            if name in facts:  # a core fact keeps its meaning; the profile check refuses most
                continue
            facts[name] = FactDef(
                name,
                _SCHEMA_TO_FACT_TYPE[col.type],
                scope,
                col.doc,
                col.unknown or "not recorded",
                col.values,
            )
    return facts
