"""Jurisdiction profiles: extra typed attributes of persons and convictions, plus the
vocabulary (authorities, countries) their registries use.

A profile is registered by name in :data:`PROFILES`; ``registry generate --profile``,
``registry import`` and decree files (``jurisdiction``) name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from amnesty.errors import ConfigError
from amnesty.registry.schema import CORE_TABLES, Column, Table

ID_CASES = ("insensitive", "upper")
"""The case rules a profile may declare for its ids (see ``Profile.id_case``)."""


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

    def __post_init__(self) -> None:
        if self.id_case not in ID_CASES:
            raise ConfigError(
                f"profile {self.name}: id_case {self.id_case!r}; expected insensitive or upper"
            )

    def tables(self) -> tuple[Table, ...]:
        """The core tables with this profile's attributes appended."""
        out = []
        for t in CORE_TABLES:
            if t.name == "persons":
                t = t.with_columns(self.person_attributes)
            elif t.name == "convictions":
                t = t.with_columns(self.conviction_attributes)
            out.append(t)
        return tuple(out)

    def table(self, name: str) -> Table:
        for t in self.tables():
            if t.name == name:
                return t
        raise KeyError(name)


def _load() -> dict[str, Profile]:
    from amnesty.registry.profiles.core import CORE
    from amnesty.registry.profiles.kp_2015 import KP_2015
    from amnesty.registry.profiles.ru_2015 import RU_2015

    return {p.name: p for p in (CORE, KP_2015, RU_2015)}


def get_profile(name: str) -> Profile:
    profiles = _load()
    try:
        return profiles[name]
    except KeyError:
        known = ", ".join(sorted(profiles))
        raise ConfigError(f"unknown profile {name!r}; known profiles: {known}") from None


def profile_names() -> list[str]:
    return sorted(_load())
