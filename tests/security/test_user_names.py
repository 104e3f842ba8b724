"""User names are held to the registry's id rules, and shown inert (#9).

Before, ``" admin"`` (a look-alike of ``admin``), names with ANSI codes or a
right-to-left override were accepted, and a name holding Rich markup (``[/]``)
crashed ``user add`` after the user had been committed.
"""

from __future__ import annotations

import io
import re

import pytest

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.errors import ConfigError
from amnesty.workflow.users import add_user, list_users


@pytest.fixture
def store(backend_url: str) -> str:
    add_user(backend_url, "admin", ["admin"], password=TEST_PASSWORD)
    return backend_url


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (" admin", "has a leading or trailing space"),
        ("admin\u202e", "invisible or control character U+202E"),
        ("mallory\x1b[31m", "invisible or control character U+001B"),
        ("ａｄｍｉｎ", "is not in Unicode NFKC form"),
        ("Admin", "differs from the existing user 'admin' only by case"),
    ],
)
def test_a_name_that_could_pass_for_another_is_refused(store: str, name: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        add_user(store, name, ["analyst"], actor="admin")
    assert [u.name for u in list_users(store)] == ["admin"]


def test_rich_markup_in_a_name_is_printed_as_typed(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a password for the odd name\n"))
    argv = ["user", "add", "odd[/]name", "--role", "analyst", "--password-stdin"]
    assert run([*argv, "--as", "admin", "--db", store]) == 0
    assert "added user odd[/]name: analyst" in capsys.readouterr().err
