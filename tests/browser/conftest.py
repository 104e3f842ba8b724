"""A real server and the distribution's Chromium for the web UI's end-to-end tests.

- ``chromium``: /usr/bin/chromium, or a skip (a failure under ``CI=true``), as
  tests/analysis/test_html_browser.py does; Playwright never downloads a browser.
- ``axe_source``: axe-core's ``axe.min.js``, pinned (:data:`AXE_VERSION`), from the
  npm registry through ``npm pack`` into a cache folder the first time (never from
  a CDN at page time). ``AMNESTY_AXE_JS`` names a file to use instead. Under
  ``CI=true`` a missing axe-core fails the test.
- ``served``: the case-work world of tests/workflow/casework_world.py (plus an
  auditor) on a DuckDB file, served by uvicorn in a thread of this process on a
  free loopback port (one process, as DuckDB's single writer wants).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workflow"))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")  # as tests/conftest.py
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.14.1"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but {what}", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        _missing("/usr/bin/chromium is missing: apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    """Headless Chromium of the distribution, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _axe_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "amnesty-tests" / f"axe-core-{AXE_VERSION}"


@pytest.fixture(scope="session")
def axe_source() -> str:
    given = os.environ.get("AMNESTY_AXE_JS")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"AMNESTY_AXE_JS={given} is not a file", pytrace=False)
        return Path(given).read_text(encoding="utf-8")
    cache = _axe_cache()
    script = cache / "package" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _missing("no axe-core and no npm to fetch it: apt-get install -y npm")
        cache.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [str(npm), "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(cache)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        tarball = cache / f"axe-core-{AXE_VERSION}.tgz"
        if packed.returncode or not tarball.is_file():
            _missing(f"npm pack axe-core@{AXE_VERSION} failed: {packed.stderr.strip()[-500:]}")
        with tarfile.open(tarball) as archive:
            archive.extract("package/axe.min.js", cache, filter="data")
            archive.extract("package/LICENSE", cache, filter="data")
    return script.read_text(encoding="utf-8")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """uvicorn serving ``app`` in a thread; ``url`` is its base address."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Site:
    url: str
    world: object  # casework_world.World
    db: object  # amnesty.store.database.Database


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from casework_world import build_world

    from acting import TEST_PASSWORD
    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.users import add_user

    path = tmp_path_factory.mktemp("web") / "amnesty.duckdb"
    world = build_world(str(path))
    db = Database.open(str(path))
    add_user(db, "aud", ["auditor"], actor="admin", password=TEST_PASSWORD)
    app = create_app(db)
    app.state.certificate_dir = path.parent / "certificates"
    with Served(app) as served:
        yield Site(served.url, world, db)
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    dispose_engine(str(path))
    forget_migrated(str(path))
