"""The web UI: server-rendered pages (Jinja2) with a little htmx, for case work.

Every page is a route of :data:`router` and declares its policy with
:func:`amnesty.server.policy.allow` like the API's routes; the pages call the
workflow as the signed-in principal, never as a name the browser sends. Every
asset ships in the package (``static/``: our stylesheet and script, and htmx,
vendored with its licence); no page loads anything from another origin.
See docs/web.md.
"""

from __future__ import annotations

from amnesty.server.web import casework as _casework  # noqa: F401  (adds its routes)
from amnesty.server.web import runs as _runs  # noqa: F401  (adds its routes)
from amnesty.server.web.pages import router

__all__ = ["router"]
