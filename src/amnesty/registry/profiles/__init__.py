"""Jurisdiction profiles: what one jurisdiction's registry holds beyond the core tables.

A profile is a TOML file (:mod:`amnesty.registry.profiles.files` reads and checks it).
The shipped ones (``core``, ``kp-2015``, ``ru-2015``) are files in this package, read
the same way as a user's. ``--profile`` and a decree's ``jurisdiction`` name a profile:
:func:`get_profile` takes a shipped name, a path to a profile file, or the name of a
file ``NAME.profile.toml`` found in a folder of ``AMNESTY_PROFILE_PATH`` or in the
current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from amnesty.errors import ConfigError
from amnesty.registry.schema import (
    CORE_TABLES,
    DIVISION_LEVELS,
    EVENT_TYPES,
    FACILITY_TYPES,
    GRAVITIES,
    OFFENCE_CATEGORIES,
    PROVINCE_LEVELS,
    Column,
    Table,
)

ID_CASES = ("insensitive", "upper")
"""The case rules a profile may declare for its ids (see ``Profile.id_case``)."""

BUILTIN = ("core", "kp-2015", "ru-2015")
"""The profiles shipped with amnesty, as files beside this module."""

SUFFIX = ".profile.toml"
"""A profile found by name is the file ``NAME.profile.toml``."""

PATH_VARIABLE = "AMNESTY_PROFILE_PATH"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    authorities: tuple[str, ...]
    person_attributes: tuple[Column, ...] = ()
    conviction_attributes: tuple[Column, ...] = ()
    # Per docs/semantics.md, a 29 February birthday falls on 28 February in common
    # years unless the profile says 1 March.
    leap_birthday: str = "feb28"
    # How ids compare (amnesty.registry.identifiers): "insensitive" keeps them as
    # written but two that differ only by case are one id, so they collide;
    # "upper" also requires every key and reference to be upper case.
    id_case: str = "insensitive"
    facility_attributes: tuple[Column, ...] = ()
    offence_attributes: tuple[Column, ...] = ()
    event_attributes: tuple[Column, ...] = ()
    division_levels: tuple[str, ...] = DIVISION_LEVELS
    # The levels decrees call facility.province (the nearest such ancestor).
    province_levels: tuple[str, ...] = PROVINCE_LEVELS
    facility_types: tuple[str, ...] = FACILITY_TYPES
    offence_categories: tuple[str, ...] = OFFENCE_CATEGORIES
    gravities: tuple[str, ...] = GRAVITIES
    # The core custody events always come first: the engine and the workflow read them.
    event_types: tuple[str, ...] = EVENT_TYPES
    language: str = "en"
    labels: tuple[tuple[str, str, str], ...] = ()  # (vocabulary, value, label)
    sensitive: tuple[str, ...] = ()  # "table.attribute", health-like facts
    source: str = field(default="built-in", compare=False)  # where it was read from

    def __post_init__(self) -> None:
        if self.id_case not in ID_CASES:
            raise ConfigError(
                f"profile {self.name}: id_case {self.id_case!r}; expected insensitive or upper"
            )

    def attributes(self, table: str) -> tuple[Column, ...]:
        return {
            "persons": self.person_attributes,
            "convictions": self.conviction_attributes,
            "facilities": self.facility_attributes,
            "offences": self.offence_attributes,
            "events": self.event_attributes,
        }.get(table, ())

    def tables(self) -> tuple[Table, ...]:
        """The core tables with this profile's vocabularies and attributes."""
        vocab = {
            ("divisions", "level"): self.division_levels,
            ("facilities", "facility_type"): self.facility_types,
            ("offences", "category"): self.offence_categories,
            ("offences", "gravity"): self.gravities,
            ("events", "event_type"): self.event_types,
        }
        out = []
        for t in CORE_TABLES:
            cols = tuple(
                _with_values(c, vocab[(t.name, c.name)]) if (t.name, c.name) in vocab else c
                for c in t.columns
            )
            out.append(Table(t.name, t.doc, cols + self.attributes(t.name), t.key, t.checks))
        return tuple(out)

    def table(self, name: str) -> Table:
        for t in self.tables():
            if t.name == name:
                return t
        raise KeyError(name)

    def label(self, vocabulary: str, value: str) -> str:
        """The profile's label for a vocabulary value, else the value itself."""
        for group, v, text in self.labels:
            if group == vocabulary and v == value:
                return text
        return value

    def document(self) -> dict[str, Any]:
        """The profile as a normalised document: what its file means, defaults written out."""
        from amnesty.registry.profiles.files import ATTRIBUTE_TABLES, attribute_spec

        doc: dict[str, Any] = {
            "profile": {
                "name": self.name,
                "description": self.description,
                "language": self.language,
                "id_case": self.id_case,
                "leap_birthday": self.leap_birthday,
                "authorities": list(self.authorities),
            },
            "divisions": {
                "levels": list(self.division_levels),
                "province_levels": list(self.province_levels),
            },
            "facilities": {"types": list(self.facility_types)},
            "offences": {
                "categories": list(self.offence_categories),
                "gravities": list(self.gravities),
            },
            "persons": {},
            "convictions": {},
            "events": {"extra_types": [e for e in self.event_types if e not in EVENT_TYPES]},
        }
        for section, table in ATTRIBUTE_TABLES.items():
            cols = self.attributes(table)
            if cols:
                doc[section]["attributes"] = {
                    c.name: attribute_spec(c, f"{table}.{c.name}" in self.sensitive) for c in cols
                }
        if not doc["events"]["extra_types"]:
            del doc["events"]["extra_types"]
        for key in ("persons", "convictions", "events"):
            if not doc[key]:
                del doc[key]
        labels: dict[str, dict[str, str]] = {}
        for group, value, text in self.labels:
            labels.setdefault(group, {})[value] = text
        if labels:
            doc["labels"] = labels
        return doc

    @property
    def content_hash(self) -> str:
        """sha256 of the profile's meaning; recorded with every run evaluated under it."""
        from amnesty.registry.profiles.files import content_hash

        return content_hash(self.document())


def _with_values(column: Column, values: tuple[str, ...]) -> Column:
    return Column(
        column.name,
        column.type,
        column.doc,
        column.nullable,
        values,
        column.references,
        column.min_value,
        column.unknown,
    )


def profile_from_document(content: dict[str, Any], source: str) -> Profile:
    attrs = content["attributes"]
    return Profile(
        name=content["name"],
        description=content["description"],
        authorities=content["authorities"],
        person_attributes=attrs["persons"],
        conviction_attributes=attrs["convictions"],
        leap_birthday=content["leap_birthday"],
        id_case=content["id_case"],
        facility_attributes=attrs["facilities"],
        offence_attributes=attrs["offences"],
        event_attributes=attrs["events"],
        division_levels=content["division_levels"],
        province_levels=content["province_levels"],
        facility_types=content["facility_types"],
        offence_categories=content["offence_categories"],
        gravities=content["gravities"],
        event_types=content["event_types"],
        language=content["language"],
        labels=content["labels"],
        sensitive=content["sensitive"],
        source=source,
    )


@cache
def _builtin(name: str) -> Profile:
    from amnesty.registry.profiles.files import parse_profile_text

    text = (resources.files(__name__) / f"{name}.toml").read_text(encoding="utf-8")
    content = parse_profile_text(text, f"<built-in profile {name}>")
    if content["name"] != name:  # a packaging mistake, not a user's
        raise AssertionError(f"built-in profile file {name}.toml declares {content['name']}")
    return profile_from_document(content, "built-in")


def load_profile_file(path: str | Path) -> Profile:
    """A profile from its file; a file may not take a shipped profile's name."""
    from amnesty.registry.profiles.files import read_profile_file

    p = Path(path)
    content = read_profile_file(p)
    if content["name"] in BUILTIN:
        raise ConfigError(
            f"{p}: profile name {content['name']!r} is a shipped profile's; give yours "
            "its own name (e.g. with the year of the registry)"
        )
    return profile_from_document(content, str(p))


def stored_document(profile: Profile) -> str:
    """The profile's normalised document as TOML: what a registry snapshot keeps, so that
    the profile is found again however its file moved (:func:`profile_from_stored`)."""
    from amnesty.registry.profiles.files import to_toml

    return to_toml(profile.document())


def profile_from_stored(name: str, document: str, digest: str | None = None) -> Profile:
    """The profile a snapshot recorded: a shipped one when its content is unchanged,
    else the one its stored document describes; its content hash must be ``digest``."""
    from amnesty.registry.profiles.files import parse_profile_text

    if name in BUILTIN and (digest is None or _builtin(name).content_hash == digest):
        return _builtin(name)
    content = parse_profile_text(document, f"<profile {name} stored with the registry>")
    profile = profile_from_document(content, "stored with the registry")
    if digest is not None and profile.content_hash != digest:
        raise ConfigError(
            f"profile {name} stored with the registry does not hash to {digest} "
            f"(it hashes to {profile.content_hash}); the snapshot was altered"
        )
    return profile


def looks_like_path(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref or os.sep in ref


def search_path(extra: tuple[Path, ...] = ()) -> list[Path]:
    """The folders a profile is looked for in by name, in order."""
    folders = [Path(p) for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p]
    return [*folders, *extra, Path.cwd()]


def get_profile(ref: str, *, near: tuple[Path, ...] = ()) -> Profile:
    """The profile ``ref`` names: a shipped name, a file path, or a name on the search path.

    ``near`` adds folders to look in after ``AMNESTY_PROFILE_PATH`` (a decree's own
    folder, so a decree and its profile can travel together).
    """
    if ref in BUILTIN:
        return _builtin(ref)
    if looks_like_path(ref):
        return load_profile_file(ref)
    for folder in search_path(near):
        candidate = folder / f"{ref}{SUFFIX}"
        if candidate.is_file():
            profile = load_profile_file(candidate)
            if profile.name != ref:
                raise ConfigError(
                    f"{candidate}: found for profile {ref!r} but declares name "
                    f"{profile.name!r}; rename the file or the profile"
                )
            return profile
    known = ", ".join(BUILTIN)
    raise ConfigError(
        f"unknown profile {ref!r}; shipped profiles: {known}; or give a profile file's path, "
        f"or keep {ref}{SUFFIX} in the current folder or a folder of ${PATH_VARIABLE}"
    )


def profile_names() -> list[str]:
    """The shipped profiles (the docs are generated for these)."""
    return sorted(BUILTIN)


def jurisdiction_profile(name: str, decree_path: str = "") -> Profile:
    """The profile a decree's ``jurisdiction`` names, also looked for beside the decree
    and in a ``profiles`` folder beside it (as the shipped ``decrees/profiles/``)."""
    folder = Path(decree_path).resolve().parent if decree_path else None
    if looks_like_path(name) and folder is not None and not Path(name).is_absolute():
        return get_profile(str(folder / name))
    near = (folder, folder / "profiles") if folder is not None else ()
    return get_profile(name, near=near)
