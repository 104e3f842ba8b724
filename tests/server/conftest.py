"""A served case-work world: the world of tests/workflow/casework_world.py behind the API.

``served`` gives the app over that world's database, a TestClient, and helpers to
act as any of its users by token (``as_user``) or by a password login (``login``).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

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


def serve_world(url: str, **world: Any) -> Served:
    from fastapi.testclient import TestClient

    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.users import add_user

    built = build_world(url, **world)
    db = Database.open(built.url)
    add_user(db, "analyst", ["analyst"], actor="admin", password=TEST_PASSWORD)
    add_user(db, "auditor", ["auditor"], actor="admin", password=TEST_PASSWORD)
    app = create_app(db)
    return Served(built, app, TestClient(app, base_url="http://testserver"))


@pytest.fixture
def served(backend_url: str) -> Iterator[Served]:
    found = serve_world(backend_url)
    yield found
    found.app.state.jobs.shutdown()
    found.client.close()


@pytest.fixture
def served_duck(duck_url: str) -> Iterator[Served]:
    found = serve_world(duck_url)
    yield found
    found.app.state.jobs.shutdown()
    found.client.close()


@pytest.fixture(scope="module")
def shared_duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One world for a module's tests that do not change what the others read."""
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    path = str(tmp_path_factory.mktemp("served") / "amnesty.duckdb")
    found = serve_world(path)
    yield found
    found.app.state.jobs.shutdown()
    found.client.close()
    dispose_engine(path)
    forget_migrated(path)


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
