"""``amnesty serve``: the REST API and web UI (FastAPI on uvicorn) over one database handle."""

from __future__ import annotations

from typing import Annotated

import typer

from amnesty.cli.app import DbOption, app


@app.command("serve")
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool | None,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Mark the session cookie Secure (default: when the request came over https; "
            "behind a TLS proxy that sets X-Forwarded-Proto this follows it).",
        ),
    ] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers",
            help="Trust X-Forwarded-For/-Proto from the proxy in front (on loopback only).",
        ),
    ] = False,
) -> None:
    """Serve the JSON API under /api (schema at /openapi.json) and the web pages.

    One process opens the database once; on DuckDB it must be the only process using
    the file. For several processes, use PostgreSQL.
    """
    import uvicorn

    from amnesty.server.app import create_app
    from amnesty.server.settings import ServerSettings
    from amnesty.store.database import Database

    database = Database.open(db, create=True)
    application = create_app(database, settings=ServerSettings(secure_cookies=secure_cookies))
    uvicorn.run(
        application,
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        log_level="info",
    )
