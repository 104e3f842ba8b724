"""amnesty: administer mass prisoner releases.

A decree is written as code, clause by clause beside its legal text; the engine
applies it to a whole prison registry in one set-based query and says for every
person eligible, ineligible or review, and why.

The public API is ``__all__`` (pinned by ``tests/test_exported_members.py``)::

    import amnesty

    decree = amnesty.load("decrees/kp-2015-10-party-founding.toml")
    report = amnesty.check("decrees/kp-2015-10-party-founding.toml")
    ev = amnesty.evaluate(decree, duckdb.connect("amnesty.duckdb"))
    why = amnesty.explain(decree, duckdb.connect("amnesty.duckdb"), "KP-P-0000042")
    run = amnesty.evaluate_and_record("amnesty.duckdb", "decrees/...toml", actor="ana")
    assert amnesty.verify("amnesty.duckdb").ok

Everything but the errors is imported on first use (module ``__getattr__``), so
``import amnesty`` and ``amnesty --help`` stay quick and do not load the engine.
"""

# No ``from __future__ import annotations`` and only private helper names here: every
# public name of this module is in __all__ (tests/test_exported_members.py).
import importlib as _importlib
import typing as _typing

from amnesty.errors import (
    AmnestyError,
    AuditError,
    ConfigError,
    Conflict,
    DecreeError,
    DecreeErrors,
    EngineError,
    IllegalTransition,
    ImportRejected,
    PermissionDenied,
    RegistryError,
    WorkflowError,
)

if _typing.TYPE_CHECKING:
    from amnesty.audit.verify import verify
    from amnesty.decree import Clause, Decree, check, load, load_text
    from amnesty.engine import Evaluation, evaluate
    from amnesty.explanation import explain
    from amnesty.registry.generate import generate
    from amnesty.registry.importer import import_registry
    from amnesty.workflow.evaluate import evaluate_and_record

__version__ = "0.1.0"

__all__ = [
    "AmnestyError",
    "AuditError",
    "Clause",
    "ConfigError",
    "Conflict",
    "Decree",
    "DecreeError",
    "DecreeErrors",
    "EngineError",
    "Evaluation",
    "IllegalTransition",
    "ImportRejected",
    "PermissionDenied",
    "RegistryError",
    "WorkflowError",
    "__version__",
    "check",
    "evaluate",
    "evaluate_and_record",
    "explain",
    "generate",
    "import_registry",
    "load",
    "load_text",
    "verify",
]

# name -> the module that defines it; imported when the name is first used.
_LAZY = {
    "Clause": "amnesty.decree",
    "Decree": "amnesty.decree",
    "check": "amnesty.decree",
    "load": "amnesty.decree",
    "load_text": "amnesty.decree",
    "Evaluation": "amnesty.engine",
    "evaluate": "amnesty.engine",
    "explain": "amnesty.explanation",
    "generate": "amnesty.registry.generate",
    "import_registry": "amnesty.registry.importer",
    "evaluate_and_record": "amnesty.workflow.evaluate",
    "verify": "amnesty.audit.verify",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'amnesty' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
