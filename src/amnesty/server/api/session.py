"""Login, logout and who am I: ``/api/session`` and ``/api/me``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from amnesty.server import auth
from amnesty.server.auth import Principal
from amnesty.server.policy import allow, public

router = APIRouter(tags=["session"])


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    name: str
    roles: list[str]
    facilities: list[str] = Field(description="empty: every facility")
    via: str
    csrf_token: str | None = Field(
        None, description="for a session: send it as X-CSRF-Token on unsafe requests"
    )


def _me(request: Request, principal: Principal) -> dict[str, Any]:
    return {
        "name": principal.name,
        "roles": sorted(r.value for r in principal.roles),
        "facilities": list(principal.facilities),
        "via": principal.via,
        "csrf_token": auth.csrf_token(request) if principal.via == "session" else None,
    }


@router.post("/session", dependencies=[public()], response_model=Me, status_code=201)
def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
    """Log in with a password: sets the session cookie (HttpOnly, SameSite=Lax)."""
    principal = auth.login_with_password(request, response, body.name, body.password)
    return _me(request, principal)


@router.delete("/session", status_code=204, dependencies=[public()])
def logout_route(request: Request, response: Response) -> Response:
    """End this session (a no-op without one)."""
    auth.logout(request, response)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me)
def me(request: Request, principal: Annotated[Principal, allow()]) -> dict[str, Any]:
    """The caller: name, roles, facility scope; and the CSRF token of a session."""
    return _me(request, principal)


class TokenRequest(BaseModel):
    label: str = Field("", max_length=200, description="what the token is for, e.g. a host")


class IssuedToken(BaseModel):
    credential_id: str
    user_name: str
    token: str = Field(description="shown once; send it as Authorization: Bearer TOKEN")


@router.post("/tokens", response_model=IssuedToken, status_code=201)
def issue_token(
    body: TokenRequest, request: Request, principal: Annotated[Principal, allow()]
) -> dict[str, Any]:
    """A personal API token for the caller (``amnesty remote login`` asks for one)."""
    from amnesty.workflow.credentials import issue_token as issue

    issued = issue(auth.database(request), principal.name, actor=principal.name, label=body.label)
    return {"credential_id": issued.credential_id, "user_name": issued.user_name,
            "token": issued.secret}  # fmt: skip


@router.delete("/tokens/current", status_code=204)
def revoke_current_token(request: Request, principal: Annotated[Principal, allow()]) -> Response:
    """Revoke the token this request was made with (``amnesty remote logout``)."""
    from amnesty.server.problems import NotFound
    from amnesty.workflow.credentials import revoke_token, token_id

    header = request.headers.get("authorization", "")
    if principal.via != "token" or not header.lower().startswith("bearer "):
        raise NotFound("this request carries no token to revoke")
    db = auth.database(request)
    revoke_token(db, token_id(db, header[7:]), actor=principal.name)
    return Response(status_code=204)
