"""amnesty: administer mass prisoner releases.

A decree is written as code, clause by clause beside its legal text; the engine
applies it to a whole prison registry in one set-based query and says for every
person eligible, ineligible or review, and why.

The public API is ``__all__`` (pinned by ``tests/test_exported_members.py``)::

    import amnesty

    decree = amnesty.load("decrees/kp-2015-10-party-founding.toml")
    report = amnesty.check("decrees/kp-2015-10-party-founding.toml")
    ev = amnesty.evaluate(decree, duckdb.connect("amnesty.duckdb"))
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
    from pathlib import Path

    from amnesty.audit.verify import verify
    from amnesty.decree import Clause, Decree, load, load_text
    from amnesty.decree.check import CheckReport
    from amnesty.engine import Evaluation, evaluate
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
    "load": "amnesty.decree",
    "load_text": "amnesty.decree",
    "Evaluation": "amnesty.engine",
    "evaluate": "amnesty.engine",
    "generate": "amnesty.registry.generate",
    "import_registry": "amnesty.registry.importer",
    "evaluate_and_record": "amnesty.workflow.evaluate",
    "verify": "amnesty.audit.verify",
}


def check(path: "str | Path", conn: _typing.Any = None) -> "CheckReport":
    """Every error and warning of a decree file; with ``conn``, also against that registry.

    Never raises on a bad decree: the report says what is wrong (``report.ok``).
    """
    # Not a lazy alias of amnesty.decree.check: once the submodule
    # amnesty.decree.check is imported, that name on the package is the module.
    from amnesty.decree.check import check_path

    return check_path(path, conn)


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'amnesty' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
