"""amnesty: administer mass prisoner releases.

A decree is written as code, clause by clause beside its legal text; the engine
applies it to a whole prison registry in one set-based query and says for every
person eligible, ineligible or review, and why.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
