"""Schemathesis against /openapi.json: no server error, no response that breaks the schema.

Every operation is called with generated input, as a user holding a role its
policy allows (so the handlers run, not only the refusals), on a served world.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from serving import Served, serve_world

from amnesty.server.policy import route_table
from amnesty.workflow.roles import Role

HOLDER = {
    Role.reviewer: "rev1",
    Role.approver: "appr1",
    Role.facility_officer: "off1",
    Role.analyst: "analyst",
    Role.drafter: "drafter",
    Role.auditor: "auditor",
    Role.admin: "admin",
}
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
]
EXAMPLES = 12


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    path = str(tmp_path_factory.mktemp("schema") / "amnesty.duckdb")
    found = serve_world(path)
    yield found
    found.app.state.jobs.shutdown()
    dispose_engine(path)
    forget_migrated(path)


def _caller(served: Served) -> dict[tuple[str, str], str]:
    """Who calls each operation: a holder of one of the roles its policy allows."""
    chosen = {}
    for entry in route_table(served.app):
        policy = entry.policy
        assert policy is not None
        allowed = sorted(policy.roles) if policy.roles else [Role.reviewer]
        for method in entry.methods:
            chosen[(method, entry.path)] = HOLDER[allowed[0]]
    return chosen


@pytest.mark.slow
def test_no_server_error_and_no_response_outside_the_schema(world: Served) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    callers = _caller(world)
    tokens = {user: world.headers(user) for user in set(callers.values())}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []
    for operation in operations:
        user = callers[(operation.method.upper(), operation.path)]
        run = _fuzz(operation, tokens[user], _known_values(world))
        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, headers: dict[str, str], known: dict[str, str]) -> Any:
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(), use_known=st.booleans())
    def run(case: Any, use_known: bool) -> None:
        if use_known:  # the world's real ids too, so that handlers get past "not found"
            for name in case.path_parameters or {}:
                if name in known:
                    case.path_parameters[name] = known[name]
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


def _known_values(world: Served) -> dict[str, str]:
    return {
        "run_id": world.world.run_id,
        "person_id": "P03",
        "facility_id": "F1",
        "decree_id": world.world.decree.id,
        "roster_id": "1",
    }


def test_the_schema_documents_problem_details(world: Served) -> None:
    schema = world.client.get("/openapi.json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("401", "403", "422"):
                media = operation["responses"].get(code, {}).get("content", {})
                assert "application/problem+json" in media, (method, path, code)
    assert not re.search(r"HTTPValidationError", str(schema))
