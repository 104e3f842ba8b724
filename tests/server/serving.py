"""A served case-work world: the world of tests/workflow/casework_world.py behind the API.

``Served`` holds the app over that world's database, a TestClient, and helpers to
act as any of its users by token (``as_user``) or by a password login (``login``);
``Live`` runs an app on a real uvicorn on loopback. A module of its own, not the
conftest, so that tests import it by a name no other test folder uses (every
folder's conftest is a module named ``conftest``).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import World, build_world

from acting import TEST_PASSWORD


@dataclass
class Served:
    world: World
    app: Any
    client: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, name: str) -> str:
        from amnesty.workflow.credentials import issue_token

        if name not in self.tokens:
            self.tokens[name] = issue_token(self.app.state.database, name, actor=name).secret
        return self.tokens[name]

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def call(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers(name), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def login(self, client: Any, name: str, password: str = TEST_PASSWORD) -> Any:
        return client.post("/api/session", json={"name": name, "password": password})

    def new_client(self) -> Any:
        from fastapi.testclient import TestClient

        return TestClient(self.app, base_url="http://testserver")


def serve_world(url: str, *, app_login: tuple[str, str] | None = None, **world: Any) -> Served:
    """The world built at ``url``, served; with ``app_login`` (a login name and its URL)
    the server connects as the application's login that ``db roles`` makes, as deployed,
    while the world is built by ``url``'s role, the tables' owner."""
    from fastapi.testclient import TestClient

    from amnesty.cli import run as cli_run
    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.users import add_user

    built = build_world(url, **world)
    db = Database.open(built.url)
    add_user(db, "analyst", ["analyst"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "auditor", ["auditor"], actor="admin", password=TEST_PASSWORD)
    if app_login is not None:
        name, login_url = app_login
        assert cli_run(["db", "roles", "--db", url, "--login", f"{name}=app"]) == 0
        db = Database.open(login_url)
    app = create_app(db)
    return Served(built, app, TestClient(app, base_url="http://testserver"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Live:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
