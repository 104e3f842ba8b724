"""``amnesty remote ...``: the case work of a facility officer (and reviewer, approver)
through ``amnesty serve``, so that they never hold database credentials.

The server is ``--server URL`` or ``$AMNESTY_SERVER``; the credential is
``$AMNESTY_TOKEN`` or the token ``amnesty remote login`` kept (0600, in the same
file as ``amnesty login``'s, under the key ``server:URL``). The server checks
everything (roles, facility scope, separation of duties) and audits it; a
refusal prints the server's problem detail after ``Error:`` and exits 1.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from amnesty.cli.app import ForceOption, FormatOption, group
from amnesty.cli.output import Format, check_out, emit_document, private_file
from amnesty.errors import ConfigError, PermissionDenied

remote_app = group(
    "remote", "Case work through an amnesty server (--server URL): no database credentials."
)
review_app = typer.Typer(help="The review queue, on the server.", no_args_is_help=True)
roster_app = typer.Typer(help="Rosters, on the server.", no_args_is_help=True)
release_app = typer.Typer(help="Undertakings and releases, on the server.", no_args_is_help=True)
remote_app.add_typer(review_app, name="review")
remote_app.add_typer(roster_app, name="roster")
remote_app.add_typer(release_app, name="release")

ServerOption = Annotated[
    str | None,
    typer.Option("--server", help="The server's URL (else $AMNESTY_SERVER).", show_default=False),
]
RunOption = Annotated[str, typer.Option("--run", help="Run id.")]


class _Key:
    """What the token file is keyed by for a server (it holds databases' tokens too)."""

    def __init__(self, server: str) -> None:
        self.server = server

    def __str__(self) -> str:
        return f"server:{self.server}"


def _server(server: str | None) -> str:
    url = (server or os.environ.get("AMNESTY_SERVER") or "").rstrip("/")
    if not url:
        raise ConfigError("give the server: --server URL, or set AMNESTY_SERVER")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--server {url!r}: expected http://HOST:PORT or https://HOST")
    return url


def _token(server: str) -> str:
    from amnesty.cli.login_store import saved_token

    token = os.environ.get("AMNESTY_TOKEN") or saved_token(cast(Any, _Key(server)))
    if not token:
        raise PermissionDenied(
            f"no token for {server}: run amnesty remote login --server {server} --as NAME, "
            "or set AMNESTY_TOKEN"
        )
    return token


def _call(server: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """One request as the token's holder; a problem answer becomes amnesty's error."""
    import httpx2 as httpx

    url = _server(server)
    headers = {"Authorization": f"Bearer {_token(url)}", "Accept": "application/json"}
    try:
        answer = httpx.request(method, url + path, headers=headers, timeout=600, **kwargs)
    except httpx.HTTPError as exc:
        raise ConfigError(f"{url}: cannot reach the server ({exc})") from None
    _raise_for_problem(answer)
    return answer


def _raise_for_problem(answer: Any) -> None:
    if answer.status_code < 400:
        return
    try:
        problem = answer.json()
        detail = str(problem.get("detail") or problem.get("title"))
    except ValueError:
        detail = answer.text[:200]
    if answer.status_code in (401, 403):
        raise PermissionDenied(detail)
    raise ConfigError(f"{detail} (HTTP {answer.status_code})")


def _date(text: str, option: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected a date YYYY-MM-DD") from None


@remote_app.command("login")
def login(
    as_user: Annotated[str, typer.Option("--as", help="Your user name.")],
    server: ServerOption = None,
) -> None:
    """Log in with your password; a token is issued and kept for this server."""
    import httpx2 as httpx

    from amnesty.cli.login_store import save_token

    url = _server(server)
    password = os.environ.get("AMNESTY_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ConfigError("no password: type it at a terminal, or set AMNESTY_PASSWORD")
        password = getpass.getpass(f"password for {as_user} on {url}: ")
    with httpx.Client(base_url=url, timeout=60) as client:
        session = client.post("/api/session", json={"name": as_user, "password": password})
        _raise_for_problem(session)
        csrf = session.json()["csrf_token"]
        issued = client.post(
            "/api/tokens",
            json={"label": f"amnesty remote login from {os.uname().nodename}"},
            headers={"X-CSRF-Token": csrf},
        )
        _raise_for_problem(issued)
        client.request("DELETE", "/api/session", headers={"X-CSRF-Token": csrf})
    path = save_token(cast(Any, _Key(url)), issued.json()["token"])
    print(f"logged in to {url} as {as_user}; token kept in {path}", file=sys.stderr)


@remote_app.command("logout")
def logout(server: ServerOption = None) -> None:
    """Revoke the token kept for this server and forget it."""
    from amnesty.cli.login_store import forget_token

    url = _server(server)
    _call(url, "DELETE", "/api/tokens/current")
    forget_token(cast(Any, _Key(url)))
    print(f"logged out of {url}", file=sys.stderr)


@remote_app.command("whoami")
def whoami(server: ServerOption = None, fmt: FormatOption = Format.table) -> None:
    """Who the token kept for this server (or $AMNESTY_TOKEN) belongs to."""
    emit_document(
        _call(server, "GET", "/api/me").json(), Format.json if fmt is Format.table else fmt
    )


@review_app.command("decide")
def review_decide(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    outcome: Annotated[str, typer.Argument(help="eligible or ineligible")],
    reason: Annotated[str, typer.Option("--reason", help="Written reason (required).")],
    server: ServerOption = None,
) -> None:
    """Decide one review case, with a written reason."""
    body = {"outcome": outcome, "reason": reason}
    record = _call(server, "POST", f"/api/runs/{run}/reviews/{person}", json=body).json()
    print(f"{person}: decided {record['outcome']} (version {record['version']})")


@roster_app.command("check")
def roster_check(
    roster: Annotated[int, typer.Argument(help="Roster id.")],
    date: Annotated[str, typer.Option("--date", help="Release date YYYY-MM-DD.")],
    server: ServerOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """How many on the roster are ready for release on --date, and what blocks the rest."""
    params = {"date": _date(date, "--date")}
    doc = _call(server, "GET", f"/api/rosters/{roster}/check", params=params).json()
    if fmt is not Format.table:
        emit_document(doc, fmt)
        return
    print(
        f"roster {roster} ({doc['status']}), release date {date}: {doc['persons']:,} persons, "
        f"{doc['ready']:,} ready, {doc['already_released']:,} already released, "
        f"{doc['blocked']:,} blocked"
    )
    for reason in doc.get("by_reason", []):
        print(f"  {reason}")


@roster_app.command("approve")
def roster_approve(
    roster: Annotated[int, typer.Argument(help="Roster id.")], server: ServerOption = None
) -> None:
    """Approve a roster someone else prepared."""
    done = _call(server, "POST", f"/api/rosters/{roster}/approve").json()
    print(f"roster {done['roster_id']} approved by {done['approved_by']}")


@release_app.command("undertake")
def release_undertake(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    undertaking: Annotated[str, typer.Argument(help="Undertaking id from the decree.")],
    signed_on: Annotated[str | None, typer.Option("--signed-on", help="YYYY-MM-DD")] = None,
    witness: Annotated[str | None, typer.Option("--witness", help="Who witnessed it.")] = None,
    refused: Annotated[bool, typer.Option("--refused", help="The person refused to sign.")] = False,
    server: ServerOption = None,
) -> None:
    """Record an undertaking as signed (date, witness) or refused."""
    body: dict[str, Any] = {"undertaking_id": undertaking, "witness": witness, "refused": refused}
    if signed_on:
        body["signed_on"] = _date(signed_on, "--signed-on")
    row = _call(server, "POST", f"/api/runs/{run}/undertakings/{person}", json=body).json()
    print(f"{person}: undertaking {undertaking} {row['status']}")


@release_app.command("import-undertakings")
def release_import_undertakings(
    file: Annotated[
        Path,
        typer.Argument(help="CSV or Excel: person_id, undertaking_id, status, signed_on, witness."),
    ],
    roster: Annotated[int, typer.Option("--roster", help="The roster the persons are on.")],
    server: ServerOption = None,
) -> None:
    """Record a file of undertakings at once; one bad row refuses all."""
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    with file.open("rb") as handle:
        files = {"file": (file.name, handle, "application/octet-stream")}
        applied = _call(server, "POST", f"/api/rosters/{roster}/undertakings-file", files=files)
    print(f"{file}: {applied.json()['records']:,} undertaking(s) recorded for roster {roster}")


@release_app.command("execute")
def release_execute(
    date: Annotated[str, typer.Option("--date", help="Release date YYYY-MM-DD.")],
    run: Annotated[str | None, typer.Option("--run", help="Run id, with --person.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id, with --run.")] = None,
    roster: Annotated[int | None, typer.Option("--roster", help="A whole roster.")] = None,
    override_reason: Annotated[
        str | None, typer.Option("--override-reason", help="Why a date outside the window.")
    ] = None,
    server: ServerOption = None,
) -> None:
    """Release one person (--run, --person) or a whole approved roster (--roster)."""
    body: dict[str, Any] = {"date": _date(date, "--date"), "override_reason": override_reason}
    if roster is not None:
        report = _call(server, "POST", f"/api/rosters/{roster}/release", json=body).json()
        print(
            f"roster {roster}: {len(report['released']):,} released, "
            f"{len(report['already']):,} already, {len(report['stopped']):,} stopped by the "
            f"re-check, {len(report['waiting']):,} not ready"
        )
        for stop in report["stopped"][:20]:
            print(f"  stopped {stop['person_id']}: {stop['reason']}")
        return
    if not (run and person):
        raise ConfigError("give --run RUN --person PERSON, or --roster ROSTER")
    done = _call(server, "POST", f"/api/runs/{run}/releases/{person}", json=body).json()
    state = "already released" if done["already"] else "released"
    print(f"{person}: {state}, certificate {done['certificate_no']}")


@remote_app.command("certificate")
def certificate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDF.")],
    run: Annotated[str | None, typer.Option("--run", help="Run id, with --person.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id, with --run.")] = None,
    roster: Annotated[int | None, typer.Option("--roster", help="A roster's batch.")] = None,
    force: ForceOption = False,
    server: ServerOption = None,
) -> None:
    """Download a release certificate (--run, --person) or a roster's batch (--roster).

    A PDF of the same name already in the folder is refused unless --force, before the
    server is asked (the server records every certificate it prints)."""
    from amnesty.workflow.certificates import pdf_name

    if roster is not None:
        path, name = f"/api/rosters/{roster}/certificates", f"certificates-roster-{roster}"
    elif run and person:
        path, name = f"/api/runs/{run}/releases/{person}/certificate", f"certificate-{person}"
    else:
        raise ConfigError("give --run RUN --person PERSON, or --roster ROSTER")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: is a file; give a folder")
    target = out / pdf_name(name)
    if out.is_dir():
        check_out(target, force=force)
    elif not out.parent.is_dir():
        raise ConfigError(f"--out {out}: folder {out.parent} does not exist; create it first")
    pdf = _call(server, "GET", path).content
    out.mkdir(mode=0o700, exist_ok=True)
    with private_file(target, "wb", force=force) as handle:  # 0600; O_EXCL unless --force
        handle.write(pdf)
    print(target)
