"""Rendering a page: the template environment, what every page is given, error pages.

Templates are autoescaped: whatever a user typed (a review reason, a witness's
name, a file name) reaches the page as text, never as markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from amnesty.registry.snapshot import current_snapshot
from amnesty.server.auth import Principal, csrf_token, optional_principal
from amnesty.server.web.labels import (
    ENGLISH,
    LANGUAGE_NAMES,
    PROFILE_LANGUAGE,
    languages_for,
    translator,
)
from amnesty.store.database import Database
from amnesty.workflow.roles import Role

HERE = Path(__file__).parent
STATIC = HERE / "static"
LANGUAGE_COOKIE = "amnesty_lang"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def show_fact(value: Any) -> str:
    """A fact as a reader wants it: items joined, a range as its bounds, no Python reprs."""
    if isinstance(value, list | tuple):
        return ", ".join(show_fact(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {show_fact(v)}" for k, v in value.items())
    if value is None:
        return "unrecorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


environment.filters["fact"] = show_fact

# (label key, href, roles that see it; empty: everyone signed in). The pages
# themselves are guarded by their policies; the menu only leaves out what would 403.
NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("dashboard", "/", frozenset()),
    ("determinations", "/determinations", frozenset()),
    ("review", "/review", frozenset({Role.reviewer})),
    ("rosters", "/rosters", frozenset({Role.facility_officer, Role.approver, Role.admin})),
    ("audit", "/audit", frozenset({Role.auditor})),
)


def database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def registry_profile(db: Database) -> str | None:
    """The profile of the registry as imported (None before the first import)."""
    with db.connect() as conn:
        snapshot = current_snapshot(conn)
    return None if snapshot is None else str(snapshot.profile)


def language(request: Request, available: list[str]) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE) or ENGLISH
    return wanted if wanted in available else ENGLISH


def static_url(name: str) -> str:
    return f"/static/{quote(name)}"


def page(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    status: int = 200,
    section: str = "",
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` for ``principal`` in their language, with a fresh CSRF token."""
    db = database(request)
    profile = registry_profile(db)
    languages = languages_for(profile)
    lang = language(request, languages)
    nav = [
        {"key": key, "href": href}
        for key, href, roles in NAV
        if principal is not None and (not roles or principal.has(*roles))
    ]
    body = environment.get_template(template).render(
        request_path=request.url.path,
        keep_query={k: v for k, v in request.query_params.items() if k != "lang"},
        t=translator(lang),
        lang=lang,
        own_lang=PROFILE_LANGUAGE.get(profile or "", lang),
        languages=languages,
        language_names=LANGUAGE_NAMES,
        principal=principal,
        csrf=csrf_token(request),
        nav=nav,
        section=section,
        static=static_url,
        error=context.pop("error", None),
        notice=context.pop("notice", None),
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANGUAGE_COOKIE, lang, samesite="lax", max_age=365 * 86400)
    # the pages hold personal data: never kept by a shared browser's cache
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def page_error(request: Request, problem: dict[str, Any]) -> Response:
    """A problem on a page: the login form for a 401, else an error page with its status."""
    status = int(problem["status"])
    if status == 401:  # the login form, still answering 401, then back to the page asked for
        query = f"?{request.url.query}" if request.url.query else ""
        back = f"{request.url.path}{query}" if request.method == "GET" else "/"
        return page(request, "login.html", None, status=401, next=back, name="")
    principal = None
    if status != 401:
        try:
            principal = optional_principal(request)
        except Exception:  # an unusable credential: show the page as to nobody
            principal = None
    return page(
        request,
        "error.html",
        principal,
        status=status,
        code=status,
        title=problem.get("title", ""),
        detail=problem.get("detail", ""),
        rejections=problem.get("rejections", []),
    )


def install_page_errors(request: Request) -> None:
    """Router dependency: problems on pages render as pages (see problems.problem_response)."""
    if getattr(request.app.state, "page_error", None) is None:
        request.app.state.page_error = page_error


def fragment(request: Request, template: str, **context: Any) -> HTMLResponse:
    """A piece of a page for htmx to swap in (no layout), in the page's language."""
    languages = languages_for(registry_profile(database(request)))
    body = environment.get_template(template).render(
        t=translator(language(request, languages)), **context
    )
    response = HTMLResponse(body)
    response.headers["Cache-Control"] = "no-store"
    return response
