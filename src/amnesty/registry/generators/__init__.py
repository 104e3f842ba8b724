"""Per-profile content for the synthetic registry generator.

Each profile module exposes ``build(profile, persons, seed) -> {table: pyarrow.Table}``
returning every table of ``profile.tables()``, clean and referentially intact.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from amnesty.registry.profiles import Profile

Builder = Callable[[Profile, int, int], dict[str, pa.Table]]


def builders() -> dict[str, Builder]:
    from amnesty.registry.generators import kp_2015, ru_2015

    return {"kp-2015": kp_2015.build, "ru-2015": ru_2015.build}
