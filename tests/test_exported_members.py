"""The public API is ``amnesty.__all__``: all of it importable, nothing public left out."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import types
from pathlib import Path

import amnesty
import amnesty.errors

DECREES = Path(__file__).resolve().parents[1] / "decrees"

FRONT = {
    "load",
    "load_text",
    "check",
    "evaluate",
    "evaluate_and_record",
    "explain",
    "generate",
    "import_registry",
    "verify",
    "Decree",
    "Clause",
    "Evaluation",
    "__version__",
}


def test_every_name_in_all_is_importable() -> None:
    for name in amnesty.__all__:
        value = getattr(amnesty, name)
        assert value is not None, name
        namespace: dict[str, object] = {}
        exec(f"from amnesty import {name}", namespace)
        assert namespace[name] is value, name


def test_nothing_public_is_missing_from_all() -> None:
    public = {
        name
        for name, value in vars(amnesty).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    lazy = set(amnesty.__all__) - set(vars(amnesty))  # not yet imported
    assert public | lazy == set(amnesty.__all__) - {"__version__"}
    assert sorted(dir(amnesty)) == sorted(set(vars(amnesty)) | set(amnesty.__all__))


def test_the_front_and_every_error_class_are_exported() -> None:
    assert set(amnesty.__all__) >= FRONT
    errors = {
        name
        for name, value in vars(amnesty.errors).items()
        if inspect.isclass(value) and issubclass(value, amnesty.AmnestyError)
    }
    assert "PermissionDenied" in errors
    assert errors <= set(amnesty.__all__)
    for name in errors:
        assert getattr(amnesty, name) is getattr(amnesty.errors, name)


def test_names_are_the_library_objects() -> None:
    from amnesty.audit.verify import verify
    from amnesty.decree import check, load
    from amnesty.engine import evaluate
    from amnesty.explanation import explain
    from amnesty.workflow.evaluate import evaluate_and_record

    assert amnesty.load is load
    assert amnesty.check is check
    assert amnesty.evaluate is evaluate
    assert amnesty.explain is explain
    assert amnesty.evaluate_and_record is evaluate_and_record
    assert amnesty.verify is verify
    assert amnesty.__version__ == "0.1.0"


def test_no_module_shadows_a_function_of_the_same_name() -> None:
    """Importing every submodule leaves ``check`` and ``explain`` functions, not modules."""
    import amnesty.decree
    import amnesty.decree.checking
    import amnesty.explanation

    for owner, name in ((amnesty, "check"), (amnesty.decree, "check"), (amnesty, "explain")):
        value = getattr(owner, name)
        assert not isinstance(value, types.ModuleType), f"{owner.__name__}.{name} is a module"
        assert callable(value)
    report = amnesty.check(DECREES / "kp-2015-10-party-founding.toml")
    assert report.ok
    assert report.decree is not None and report.decree.id == "kp-2015-10-party-founding"
    assert isinstance(amnesty.load(DECREES / "kp-2015-10-party-founding.toml"), amnesty.Decree)


def test_no_submodule_is_named_after_a_public_function() -> None:
    import pkgutil

    import amnesty.decree

    for package in (amnesty, amnesty.decree):
        names = {m.name for m in pkgutil.iter_modules(package.__path__)}
        clash = names & {n for n in getattr(package, "__all__", []) if not n[0].isupper()}
        assert not clash, f"{package.__name__}: submodules named like functions: {clash}"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        amnesty.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("amnesty.no_such_name did not raise AttributeError")


def _modules_after(code: str) -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, json\n{code}\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('amnesty'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return list(json.loads(out.splitlines()[-1]))


def test_import_amnesty_loads_nothing_heavy() -> None:
    assert _modules_after("import amnesty") == ["amnesty", "amnesty.errors"]


def test_cli_help_does_not_load_the_engine() -> None:
    loaded = _modules_after(
        "import contextlib, io\n"
        "from amnesty.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert run(['--help']) == 0"
    )
    assert "amnesty.cli" in loaded
    assert not [m for m in loaded if m == "amnesty.engine" or m.startswith("amnesty.compile")]
