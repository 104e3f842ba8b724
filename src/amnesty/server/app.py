"""The FastAPI application: one database handle, the API under ``/api``, the web pages.

``create_app(Database.open(url))`` is what ``amnesty serve`` runs under uvicorn.
Endpoints are plain ``def`` functions, so FastAPI runs them in its threadpool and
the blocking workflow calls never stall the event loop; they share the handle's
pooled connections as the CLI's commands do (DuckDB: cursors of the process's one
instance, writers serialised by the store's lock).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from amnesty import __version__
from amnesty.server import problems, state
from amnesty.server.policy import public
from amnesty.server.settings import ServerSettings
from amnesty.store.database import Database

DESCRIPTION = """\
The amnesty case-work API: decrees, registry imports, runs, determinations,
explanations, review, rosters, undertakings, releases, certificates, audit.

Authenticate with `Authorization: Bearer TOKEN` (a personal token: `amnesty user
token NAME`), or log in with `POST /api/session` for a session cookie; cookie
requests that change state carry the `X-CSRF-Token` header. Every error is an RFC
9457 problem (`application/problem+json`). See docs/server.md.
"""


def create_app(database: Database, *, settings: ServerSettings | None = None) -> FastAPI:
    """The server over ``database`` (an open, migrated handle)."""
    app = FastAPI(
        title="amnesty",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=None,  # served below, under a declared policy like every route
        docs_url=None,
        redoc_url=None,
        responses=problems.PROBLEM_RESPONSES,
    )
    app.state.database = database
    app.state.settings = settings or ServerSettings()
    app.state.csrf_key = state.server_key(database, "csrf")
    problems.install(app)

    from amnesty.server.api import router as api_router
    from amnesty.server.jobs import JobRunner

    app.state.jobs = JobRunner(database)
    app.include_router(api_router, prefix="/api")

    # The web UI: server-rendered pages, whose errors are pages too (problems.install
    # hands any error outside /api to app.state.page_error).
    from amnesty.server.web import router as web_router
    from amnesty.server.web.render import page_error

    app.state.page_error = page_error
    app.include_router(web_router)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[public()])
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """Errors in the schema are problem+json, including FastAPI's own 422."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "Invalid input",
                        "content": {problems.MEDIA_TYPE: {
                            "schema": {"$ref": "#/components/schemas/Problem"}}},
                    }  # fmt: skip
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
