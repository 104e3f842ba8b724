"""Where ``amnesty login`` keeps its tokens: one file per user account, 0600.

The file maps a database (its URL as amnesty prints it) to the token issued on
it, so one person may be logged in to a test and a live database at once.
``$AMNESTY_CONFIG`` names the file; otherwise it is ``amnesty/tokens.json``
under ``$XDG_CONFIG_HOME`` (``~/.config``). The folder is created 0700 and the
file 0600, and a file that others may read is refused rather than used.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from amnesty.errors import ConfigError

if TYPE_CHECKING:
    from amnesty.store.database import Database


def config_file() -> Path:
    named = os.environ.get("AMNESTY_CONFIG")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "amnesty" / "tokens.json"


def _load(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: holds tokens but others may read it (mode {mode:o}); "
            f"chmod 600 {path} or delete it and log in again"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: not a token file amnesty wrote ({error})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object of database -> token")
    return {str(k): str(v) for k, v in data.items()}


def saved_token(store: Database) -> str | None:
    return _load(config_file()).get(str(store))


def _write(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out, indent=2, sort_keys=True)
    os.replace(temporary, path)


def save_token(store: Database, token: str) -> Path:
    """Keep ``token`` for ``store``, writing the file 0600 in a 0700 folder."""
    path = config_file()
    tokens = _load(path)
    tokens[str(store)] = token
    _write(path, tokens)
    return path


def forget_token(store: Database) -> str | None:
    """Drop the token kept for ``store``; the token itself, if one was kept."""
    path = config_file()
    tokens = _load(path)
    token = tokens.pop(str(store), None)
    if token is not None:
        _write(path, tokens)
    return token
