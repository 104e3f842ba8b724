"""Who is calling: a session cookie (browsers) or ``Authorization: Bearer`` (scripts, the CLI).

A password login (:func:`login_with_password`) checks the password with the
credentials module, throttles failed attempts per account, and always starts a
*new* session (a session id held before the login is ended, never promoted, so
a planted id is worthless). The cookie is HttpOnly, SameSite=Lax, and Secure
when the request came over https or the settings say so. Only the SHA-256 of a
session id is stored (:mod:`amnesty.server.state`).

Unsafe requests authenticated by the cookie must carry the CSRF token
(:func:`csrf_token`) as the form field ``csrf_token`` or the header
``X-CSRF-Token``; the token is an HMAC of the session under a key kept in the
database, so every server process on it accepts it. A Bearer request carries no
ambient credential and needs no token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from amnesty.errors import PermissionDenied
from amnesty.server import state
from amnesty.server.problems import Throttled, Unauthenticated
from amnesty.server.settings import ServerSettings
from amnesty.store.database import Database
from amnesty.workflow.credentials import authenticate_password, authenticate_token
from amnesty.workflow.roles import Role
from amnesty.workflow.users import get_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the workflow's user record holds them."""

    name: str
    roles: frozenset[Role]
    facilities: tuple[str, ...]  # empty: every facility (the account's scope is unrestricted)
    via: str  # "session" | "token"

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def covers(self, facility: str | None) -> bool:
        return not self.facilities or (facility is not None and facility in self.facilities)


class CsrfRefused(PermissionDenied):
    """An unsafe cookie-authenticated request without a valid CSRF token."""


def database(request: Request) -> Database:
    db: Database = request.app.state.database
    return db


def settings(request: Request) -> ServerSettings:
    found: ServerSettings = request.app.state.settings
    return found


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _principal_of(db: Database, name: str, via: str) -> Principal | None:
    user = get_user(db, name)
    if user is None or not user.active:
        return None
    return Principal(user.name, frozenset(user.roles), tuple(user.facilities), via)


def _resolve(request: Request) -> Principal | None:
    """The caller, resolved once per request (Bearer first, then the session cookie)."""
    if hasattr(request.state, "principal"):
        found: Principal | None = request.state.principal
        return found
    db = database(request)
    principal: Principal | None = None
    token = _bearer(request)
    if token is not None:
        try:
            name = authenticate_token(db, token)
        except PermissionDenied as exc:
            raise Unauthenticated(str(exc)) from None
        principal = _principal_of(db, name, "token")
    else:
        session_id = request.cookies.get(settings(request).session_cookie)
        if session_id:
            name_or_none = state.session_user(db, session_id, settings(request).session_idle)
            if name_or_none is not None:
                principal = _principal_of(db, name_or_none, "session")
                request.state.session_hash = state.digest(session_id)
    request.state.principal = principal
    return principal


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None when the request carries no (standing) credential."""
    return _resolve(request)


def current_principal(request: Request) -> Principal:
    """The caller; a 401 problem when the request carries no standing credential."""
    principal = _resolve(request)
    if principal is None:
        raise Unauthenticated(
            "log in (POST /api/session) or send Authorization: Bearer TOKEN "
            "(amnesty user token NAME issues one)"
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _secure(request: Request) -> bool:
    configured = settings(request).secure_cookies
    if configured is not None:
        return configured
    return request.url.scheme == "https"


def login_with_password(
    request: Request, response: Response, name: str, password: str
) -> Principal:
    """Check ``name``'s password and start a fresh session on ``response`` (throttled)."""
    db = database(request)
    conf = settings(request)
    failures = state.recent_failures(db, name, conf.login_failure_window)
    if len(failures) >= conf.login_failures_allowed:
        wait = failures[0] + conf.login_failure_window - state.now()
        seconds = max(1, int(wait.total_seconds()) + 1)
        raise Throttled(
            f"too many failed logins for {name!r}; try again in {seconds} seconds", seconds
        )
    try:
        authenticate_password(db, name, password)
    except PermissionDenied:
        client = request.client.host if request.client else None
        state.record_failure(db, name, client)
        raise Unauthenticated("wrong user name or password") from None
    principal = _principal_of(db, name, "session")
    if principal is None:
        raise Unauthenticated("wrong user name or password")
    state.clear_failures(db, name)
    old = request.cookies.get(conf.session_cookie)
    if old:
        state.end_session(db, old)  # never carried over: no session fixation
    session_id = state.start_session(db, name, conf.session_lifetime)
    with db.transaction(name, action="server.login", entity=("user", name)) as tx:
        tx.audit(after={"user": name, "via": "password"})
    response.set_cookie(
        conf.session_cookie,
        session_id,
        max_age=int(conf.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    request.state.principal = principal
    request.state.session_hash = state.digest(session_id)
    return principal


def logout(request: Request, response: Response) -> None:
    """End the caller's session (if any) and drop the cookie."""
    conf = settings(request)
    session_id = request.cookies.get(conf.session_cookie)
    if session_id:
        name = state.session_user(database(request), session_id, conf.session_idle)
        state.end_session(database(request), session_id)
        if name is not None:
            with database(request).transaction(
                name, action="server.logout", entity=("user", name)
            ) as tx:
                tx.audit(after={"user": name})
    response.delete_cookie(conf.session_cookie, path="/", httponly=True, samesite="lax",
                           secure=_secure(request))  # fmt: skip
    request.state.principal = None
    if hasattr(request.state, "session_hash"):
        del request.state.session_hash


# --- CSRF ---


def _csrf_key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "csrf_key", None)
    if key is None:
        key = state.server_key(database(request), "csrf")
        request.app.state.csrf_key = key
    return key


def _binding(request: Request) -> str:
    _resolve(request)
    session_hash = getattr(request.state, "session_hash", None)
    return f"session:{session_hash}" if session_hash else "anonymous"


def _mac(key: bytes, binding: str, nonce: str) -> str:
    return hmac.new(key, f"{binding}|{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token a page puts in its forms (bound to the session, or to no session yet)."""
    nonce = secrets.token_urlsafe(12)
    return f"{nonce}.{_mac(_csrf_key(request), _binding(request), nonce)}"


def csrf_valid(request: Request, token: str | None) -> bool:
    if not token or "." not in token:
        return False
    nonce, _, mac = token.partition(".")
    return hmac.compare_digest(mac, _mac(_csrf_key(request), _binding(request), nonce))


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request that relies on the cookie and lacks a valid CSRF token."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    # Without a session there is no ambient credential to abuse, and a JSON body cannot
    # be sent cross-site without a CORS preflight (which this server never grants): the
    # scripts' JSON login needs no token. A form always does, the login form included.
    content_type = request.headers.get("content-type", "")
    if _binding(request) == "anonymous" and content_type.startswith("application/json"):
        return
    token = request.headers.get(CSRF_HEADER)
    forms = ("application/x-www-form-urlencoded", "multipart/form-data")
    if token is None and content_type.startswith(forms):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not csrf_valid(request, token):
        raise CsrfRefused(
            "this form or request lacks its CSRF token (field csrf_token or header "
            "X-CSRF-Token); reload the page and try again"
        )
