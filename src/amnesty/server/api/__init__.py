"""The JSON API, mounted under ``/api``: one router per area, as the CLI's commands."""

from __future__ import annotations

from fastapi import APIRouter

from amnesty.server.api import session

router = APIRouter()
router.include_router(session.router)

# Areas are added one by one as they land (see docs/server.md for the table).
for _name in ("decrees", "registry", "runs", "determinations", "casework", "audit", "reports"):
    try:
        _module = __import__(f"amnesty.server.api.{_name}", fromlist=["router"])
    except ModuleNotFoundError as _missing:
        if _missing.name != f"amnesty.server.api.{_name}":
            raise
        continue
    router.include_router(_module.router)
