"""Fixtures of the server tests: a served case-work world (see ``serving.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from serving import Served, serve_world

from owned_database import OwnedDatabase


@pytest.fixture
def served(backend_url: str) -> Iterator[Served]:
    found = serve_world(backend_url)
    yield found
    found.app.state.jobs.shutdown()
    found.client.close()


@pytest.fixture
def served_as_app_login(owned_database: OwnedDatabase) -> Iterator[Served]:
    """On PostgreSQL, the server connected as the application's login (not the owner)."""
    found = serve_world(owned_database.owner_url, app_login=owned_database.login("app"))
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
