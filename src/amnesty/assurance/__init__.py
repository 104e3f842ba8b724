"""Decree assurance: what a decree can never do, proved for every possible person.

The decree's semantics (``docs/semantics.md``) translated to the z3 SMT solver:

* :func:`prove`: each ``[[assertion]]`` of a decree proved, or refuted by a
  counterexample person given as registry rows, replayed through the engine;
* :func:`builtin_checks`: clauses no one satisfies, shadowed grants, refers that
  never fire, relief ties, an empty scope (``amnesty check`` runs them);
* :func:`differences`: a person whom two decrees decide differently, if any.

Persons are bounded (``Bounds``: convictions and events per person); the limits
are listed in ``docs/assurance.md``.
"""

from amnesty.assurance.assertions import Finding, prove
from amnesty.assurance.checks import builtin_checks, differences
from amnesty.assurance.person import Bounds

__all__ = ["Bounds", "Finding", "builtin_checks", "differences", "prove"]
