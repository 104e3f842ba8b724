"""One shape for every API error: RFC 9457 problem details (``application/problem+json``).

A problem has ``type`` (a URN naming the kind of problem, stable for scripts),
``title`` (that kind in words), ``status``, ``detail`` (this occurrence, the
same message the CLI prints after ``Error:``) and ``instance`` (the request
path). Some kinds add members: ``errors`` (validation and decree problems, each
located), ``rejections`` (an import's refused rows, with table/row/column).
amnesty's own errors map to a status by their class (:data:`STATUS`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from amnesty.errors import (
    AmnestyError,
    AuditError,
    ConfigError,
    Conflict,
    DecreeError,
    DecreeErrors,
    EngineError,
    IllegalTransition,
    ImportRejected,
    PermissionDenied,
    RegistryError,
    WorkflowError,
)

MEDIA_TYPE = "application/problem+json"
PREFIX = "urn:amnesty:problem:"


class NotFound(AmnestyError):
    """The thing named in the path does not exist (or is outside the caller's scope)."""


class Unauthenticated(AmnestyError):
    """No credential, or one that no longer works (expired session, revoked token)."""


class Throttled(AmnestyError):
    """Too many failed logins for this name; wait and try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# Most specific first: the first class an error is an instance of decides.
STATUS: list[tuple[type[Exception], int, str, str]] = [
    (Unauthenticated, 401, "unauthenticated", "Authentication required"),
    (Throttled, 429, "login-throttled", "Too many failed logins"),
    (NotFound, 404, "not-found", "Not found"),
    (PermissionDenied, 403, "permission-denied", "Permission denied"),
    (IllegalTransition, 409, "illegal-transition", "Step not allowed in the current state"),
    (Conflict, 409, "conflict", "Changed by someone else first"),
    (WorkflowError, 409, "workflow-refused", "Step refused"),
    (ImportRejected, 422, "import-rejected", "Rows rejected"),
    (RegistryError, 422, "registry-error", "Registry cannot be used"),
    (DecreeError, 422, "decree-error", "Decree cannot be used"),
    (AuditError, 409, "audit-error", "The audit chain does not verify"),
    (EngineError, 500, "engine-error", "The engine failed"),
    (ConfigError, 400, "bad-request", "Bad request"),
    (AmnestyError, 400, "refused", "Refused"),
]


class Problem(BaseModel):
    """RFC 9457 problem details, as every API error is returned."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


# For routes' ``responses=``: the problem schema documented in the OpenAPI for errors.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": text}
    for code, text in [
        (400, "Bad request"),
        (401, "Authentication required"),
        (403, "Permission denied (role, facility scope or CSRF token)"),
        (404, "Not found"),
        (409, "Refused in the current state"),
        (422, "Invalid input"),
        (503, "Busy: every database connection stayed in use (Retry-After)"),
    ]
}


def problem_response(
    request: Request,
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The problem as JSON; for a page (outside ``/api``) the web UI's error page, if
    it set one as ``app.state.page_error`` (called with the request and the problem dict).
    """
    body: dict[str, Any] = {
        "type": PREFIX + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extra)
    page_error = getattr(request.app.state, "page_error", None)
    if page_error is not None and not request.url.path.startswith(("/api", "/openapi")):
        response: Response = page_error(request, body)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def classify(exc: Exception) -> tuple[int, str, str]:
    for cls, status, kind, title in STATUS:
        if isinstance(exc, cls):
            return status, kind, title
    return 500, "internal", "Internal server error"


def _amnesty_error(request: Request, exc: Exception) -> Response:
    status, kind, title = classify(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] | None = None
    if isinstance(exc, ImportRejected):
        extra["rejections"] = [
            {"table": r.table, "row": r.row, "column": r.column, "value": r.value, "rule": r.rule}
            for r in exc.rejections[:1000]
        ]
    if isinstance(exc, DecreeErrors):
        extra["errors"] = [_decree_problem(e) for e in exc.errors]
    elif isinstance(exc, DecreeError):
        extra["errors"] = [_decree_problem(exc)]
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="amnesty"'}
    detail = str(exc)
    if isinstance(exc, PermissionDenied):
        from amnesty.server.policy import public_detail

        detail = public_detail(exc)
    return problem_response(request, status, kind, title, detail, headers, **extra)


def _decree_problem(error: DecreeError) -> dict[str, Any]:
    where = error.position
    return {
        "message": error.message,
        "code": error.code,
        "hint": error.hint,
        "file": where.file if where else None,
        "line": where.line if where else None,
        "column": where.column if where else None,
    }


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "location": ".".join(str(p) for p in e.get("loc", ())),
            "message": str(e.get("msg", "")),
            "kind": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
    return problem_response(request, 422, "invalid-request", "Invalid request", detail,
                            errors=errors)  # fmt: skip


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {401: "unauthenticated", 403: "forbidden", 404: "not-found",
             405: "method-not-allowed", 409: "conflict", 429: "throttled"}  # fmt: skip
    kind = kinds.get(exc.status_code, f"http-{exc.status_code}")
    from http import HTTPStatus

    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, kind, title, detail, headers)


def _busy(request: Request, exc: Exception) -> Response:
    """The database's connection pool stayed exhausted: the server is overloaded, not broken."""
    return problem_response(
        request, 503, "busy", "Server busy",
        "every database connection stayed in use; try again in a few seconds",
        {"Retry-After": "5"},
    )  # fmt: skip


def install(app: FastAPI) -> None:
    """Route every error of the app through problem details."""
    import sqlalchemy.exc

    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _busy)
    app.add_exception_handler(AmnestyError, _amnesty_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
