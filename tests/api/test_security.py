"""Every role against every endpoint, tokens, and the sign-in flow."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api import security
from api.main import ROUTERS
from api.roles import ADMIN_CHECKED_ACTIONS, ROLE_PERMISSIONS, Permission, Role, may_check
from api.security import AuthError, User, add_user, issue_token, read_token
from graph.runner import QueryRunner
from tests.api.conftest import auth


def _api_routes() -> list[APIRoute]:
    return [route for router in ROUTERS for route in router.routes
            if isinstance(route, APIRoute)]


def _protected_routes(client: TestClient) -> list[tuple[str, str, Permission]]:
    out = []
    for route in _api_routes():
        for dep in route.dependant.dependencies:
            permission = getattr(dep.call, "permission", None)
            if permission is not None:
                for method in route.methods:
                    out.append((method, route.path, permission))
    return out


def test_every_route_but_health_and_sign_in_needs_a_permission(client: TestClient) -> None:
    protected = {path for _, path, _ in _protected_routes(client)}
    public = {route.path for route in _api_routes()} - protected
    assert public == {"/health", "/v1/auth/token"}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_its_permissions(client: TestClient, role: Role) -> None:
    routes = _protected_routes(client)
    assert routes
    for method, path, permission in routes:
        url = path.replace("{", "").replace("}", "")
        response = client.request(method, url, headers=auth(role))
        if permission in ROLE_PERMISSIONS[role]:
            assert response.status_code != 403, (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path)
            assert response.headers["content-type"] == "application/problem+json"
            assert permission.value in response.json()["detail"]


def test_without_or_with_a_forged_token_is_401(client: TestClient) -> None:
    for method, path, _ in _protected_routes(client):
        assert client.request(method, path).status_code == 401
        forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bad"}
        response = client.request(method, path, headers=forged)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_roles_fit_the_work() -> None:
    assert Permission.REVEAL_PII not in ROLE_PERMISSIONS[Role.UNDERWRITER]
    assert Permission.REVEAL_PII not in ROLE_PERMISSIONS[Role.ANALYST]
    assert Permission.READ_AUDIT in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.READ_AUDIT not in ROLE_PERMISSIONS[Role.INVESTIGATOR]
    assert Permission.SUBMIT_APPLICATION in ROLE_PERMISSIONS[Role.UNDERWRITER]


def test_sign_in_gives_a_token_that_works(client: TestClient, runner: QueryRunner) -> None:
    add_user(runner, "li.na", "correct horse battery", Role.INVESTIGATOR)
    wrong = client.post("/v1/auth/token", data={"username": "li.na", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    unknown = client.post("/v1/auth/token", data={"username": "who", "password": "x" * 12})
    assert unknown.status_code == 401
    ok = client.post("/v1/auth/token",
                     data={"username": "li.na", "password": "correct horse battery"})
    assert ok.status_code == 200 and ok.json()["role"] == "investigator"
    token = ok.json()["access_token"]
    response = client.get("/v1/graph/neighbourhood", params={"node": "Dealer:nowhere"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # authenticated and allowed; the node is missing


def test_only_an_admin_checks_policy_model_and_unmasked_export_requests(
        client: TestClient, runner: QueryRunner) -> None:
    from datetime import UTC, datetime

    from lifecycle import approvals

    for action in sorted(ADMIN_CHECKED_ACTIONS):
        request = approvals.request(runner, action, {"version": "v1"}, requested_by="ana.li",
                                    reason="reviewed offline", at=datetime.now(UTC))
        url = f"/v1/approvals/{request.approval_id}/approve"
        refused = client.post(url, headers=auth(Role.INVESTIGATOR))
        assert refused.status_code == 403 and action in refused.json()["detail"]
        assert approvals.get(runner, request.approval_id).status == "pending"
        if action == "change_policy":
            continue  # its handler needs a real policy; the refusal is what is tested here
        checked = client.post(url, headers=auth(Role.ADMIN, "admin.zhou"))
        assert checked.status_code == 200, checked.text
        assert checked.json()["decided_by"] == "admin.zhou"
    assert all(may_check(Role.ADMIN, a) for a in ADMIN_CHECKED_ACTIONS)
    assert may_check(Role.INVESTIGATOR, "watchlist_add")
    assert not may_check(Role.ANALYST, "watchlist_add")
    assert not may_check(Role.UNDERWRITER, "override_decline")


def test_a_verified_token_is_refused_once_it_expires() -> None:
    """read_token keeps tokens it has verified; a kept one still stops working at ``exp``,
    and a token signed with another secret is not taken from what was kept."""
    secret = "s" * 40
    token = issue_token(User(username="u-1", role=Role.UNDERWRITER), secret, 1)
    first = read_token(token, secret)
    assert first.username == "u-1" and first.role == Role.UNDERWRITER
    assert read_token(token, secret) == first  # from what was kept
    with pytest.raises(AuthError):
        read_token(token, "t" * 40)
    expires = int(time.time()) + 1
    short = jwt.encode({"sub": "u-2", "role": Role.UNDERWRITER.value, "exp": expires},
                       secret, algorithm=security.ALGORITHM)
    assert read_token(short, secret).username == "u-2"
    assert (secret, short) in security._verified
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(AuthError, match="expired"):
        read_token(short, secret)
    assert (secret, short) not in security._verified
