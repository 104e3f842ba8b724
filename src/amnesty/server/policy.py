"""Who may call what: one declaration per route, checked on every request and by a test.

Every route, of the API and of the pages, declares its policy with a dependency
made here::

    @router.get("/reviews/{run_id}")
    def queue(principal: Annotated[Principal, allow(Role.reviewer)], ...)

    @router.get("/rosters/{roster_id}", dependencies=[allow(Role.facility_officer,
                 Role.approver, facility_of=roster_facility)])

:func:`allow` refuses (403, audited) a caller who holds none of the roles, or
whose facility scope does not cover the facility the request is about (named by
a path or query parameter, ``facility_param``, or found by ``facility_of``);
with ``health=True`` it lets only :data:`HEALTH_ROLES` through and writes an
audit event for the read (who, which person or path) before the route runs.
:func:`public` marks the few routes anyone may call (the login, the schema).
It also checks the CSRF token of unsafe cookie-authenticated requests.

``tests/server/test_route_table.py`` enumerates ``app.routes`` and fails for a
route without a policy, and calls each with a role outside its policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount

from amnesty.errors import PermissionDenied
from amnesty.server.auth import (
    CsrfRefused,
    Principal,
    current_principal,
    database,
    verify_csrf,
)
from amnesty.workflow.roles import Role

# Who reads a person's health data (assessments, and explanations that quote them):
# the reviewer deciding a referred case and the approver signing the roster it is on.
HEALTH_ROLES = frozenset({Role.reviewer, Role.approver})

FacilityOf = Callable[[Any, Request], "str | None"]


@dataclass(frozen=True)
class Policy:
    roles: frozenset[Role]  # empty with public=False: any authenticated user
    public: bool = False
    health: bool = False
    facility_param: str | None = None
    facility_of: FacilityOf | None = None

    def describe(self) -> str:
        if self.public:
            return "anyone"
        who = ", ".join(sorted(r.value for r in self.roles)) or "any authenticated user"
        if self.facility_param or self.facility_of:
            who += " (facility scope)"
        if self.health:
            who += " (health read, logged)"
        return who


POLICY_ATTRIBUTE = "__amnesty_policy__"


# The answer to a caller outside the facility scope of a request: it names no facility,
# so that an officer of another facility does not learn where a person is held (the
# audit event of the refusal keeps the full reason).
OUT_OF_SCOPE = "not within your facility scope"
# The answer to any other refusal whose reason the server did not write itself (one
# from the workflow's checks, which may name a facility).
REFUSED = "permission denied: your roles or facility scope do not cover this request"


def _refuse(principal: Principal, request: Request, reason: str, public: str) -> None:
    db = database(request)
    db.audit_refusal(principal.name, f"server:{request.method} {_template(request)}",
                     ("route", request.url.path), reason)  # fmt: skip
    raise refusal(reason, public, audited=True)


def refusal(reason: str, public: str, *, audited: bool = False) -> PermissionDenied:
    """A refusal whose answer is ``public`` (what the caller may be told) while
    ``reason`` is what an audit event records."""
    denied = PermissionDenied(reason)
    denied.public_detail = public  # type: ignore[attr-defined]
    denied.audited = audited  # type: ignore[attr-defined]
    return denied


def public_detail(denied: PermissionDenied) -> str:
    """What a refused caller is told: a reason written for them (a CSRF refusal's own
    message is one), else :data:`REFUSED`."""
    if isinstance(denied, CsrfRefused):
        return str(denied)
    return str(getattr(denied, "public_detail", None) or REFUSED)


def _template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def allow(
    *roles: Role,
    health: bool = False,
    facility_param: str | None = None,
    facility_of: FacilityOf | None = None,
) -> Any:
    """The policy of a route: any of ``roles`` (none given: any authenticated user)."""
    if health:
        extra = set(roles) - HEALTH_ROLES
        if extra or not roles:
            raise ValueError(f"a health read is for {sorted(HEALTH_ROLES)} only, not {extra}")
    policy = Policy(frozenset(roles), False, health, facility_param, facility_of)

    def guard(
        request: Request,
        principal: Principal = Depends(current_principal),  # noqa: B008
        _csrf: None = Depends(verify_csrf),
    ) -> Principal:
        if policy.roles and not principal.has(*policy.roles):
            need = " or ".join(sorted(r.value for r in policy.roles))
            reason = f"user {principal.name!r} lacks the role {need}"
            _refuse(principal, request, reason, reason)
        facility: str | None = None
        if policy.facility_param is not None:
            facility = request.path_params.get(policy.facility_param) or request.query_params.get(
                policy.facility_param
            )
        if policy.facility_of is not None and principal.facilities:
            facility = policy.facility_of(database(request), request)
        if (
            (policy.facility_param or policy.facility_of)
            and principal.facilities
            and (facility is None or not principal.covers(facility))
        ):
            scope = ", ".join(principal.facilities)
            _refuse(
                principal,
                request,
                f"user {principal.name!r} acts for {scope}, not for facility {facility}",
                f"user {principal.name!r}: {OUT_OF_SCOPE}",
            )
        if policy.health:
            log_health_read(request, principal)
        return principal

    setattr(guard, POLICY_ATTRIBUTE, policy)
    return Depends(guard)


def public() -> Any:
    """The policy of a route anyone may call (still CSRF-checked when it is unsafe)."""

    def guard(_csrf: None = Depends(verify_csrf)) -> None:
        return None

    setattr(guard, POLICY_ATTRIBUTE, Policy(frozenset(), public=True))
    return Depends(guard)


def log_health_read(request: Request, principal: Principal) -> None:
    """An audit event for one read of a person's health data (before it is read)."""
    person = request.path_params.get("person_id") or request.query_params.get("person_id")
    entity = ("person", str(person)) if person else ("route", request.url.path)
    with database(request).transaction(principal.name, action="health.read", entity=entity) as tx:
        tx.audit(after={"path": request.url.path, "query": str(request.query_params),
                        "via": principal.via})  # fmt: skip


def policy_of(route: BaseRoute) -> Policy | None:
    """The policy a route declared (searching its dependencies), or None."""
    if isinstance(route, Mount):
        found: Policy | None = getattr(route, POLICY_ATTRIBUTE, None)
        return found
    if not isinstance(route, APIRoute):
        return None
    return _search(route.dependant)


@dataclass(frozen=True)
class RouteEntry:
    path: str
    methods: frozenset[str]
    policy: Policy | None
    route: BaseRoute


def route_table(app: Any) -> list[RouteEntry]:
    """Every route the app answers (included routers flattened), with its policy."""
    from fastapi.routing import iter_route_contexts

    table = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        policy = policy_of(original)
        if policy is None and isinstance(original, APIRoute):
            effective = getattr(context, "dependant", None)  # router-level dependencies too
            if effective is not None:
                policy = _search(effective)
        methods = frozenset(context.methods or ())
        table.append(RouteEntry(str(context.path or ""), methods, policy, original))
    return table


def _search(dependant: Any) -> Policy | None:
    stack = [dependant]
    while stack:
        found = stack.pop()
        policy = getattr(found.call, POLICY_ATTRIBUTE, None)
        if policy is not None:
            return policy
        stack.extend(found.dependencies)
    return None


def public_mount(mount: Mount) -> Mount:
    """Declare a mounted app (static assets) public."""
    setattr(mount, POLICY_ATTRIBUTE, Policy(frozenset(), public=True))
    return mount


__all__ = [
    "HEALTH_ROLES",
    "OUT_OF_SCOPE",
    "REFUSED",
    "Policy",
    "RouteEntry",
    "allow",
    "policy_of",
    "public",
    "public_detail",
    "refusal",
    "route_table",
]
