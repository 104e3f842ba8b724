"""What a server deployment may tune; the defaults suit a server behind a TLS proxy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSettings:
    # None: the session cookie is Secure when the request came over https (directly or,
    # behind a proxy started with --proxy-headers, as X-Forwarded-Proto says).
    secure_cookies: bool | None = None
    session_cookie: str = "amnesty_session"
    # A session ends after this long idle, and at the latest after ``session_lifetime``.
    session_idle: dt.timedelta = dt.timedelta(minutes=30)
    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    # Failed logins for one name (from any address) within the window; past the limit
    # every attempt for that name is refused until the window has passed.
    login_failures_allowed: int = 5
    login_failure_window: dt.timedelta = dt.timedelta(minutes=15)
    # Page size of list endpoints unless the client asks for less (never more).
    max_page_size: int = 1000
