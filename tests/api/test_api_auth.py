"""The API's front door: health, login/logout, cookies, CSRF, tokens, headers, error shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from api_fixtures import PASSWORD
from fastapi.testclient import TestClient

from dongxi.api.app import SECURITY_HEADERS
from dongxi.api.problems import MEDIA_TYPE


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_is_served(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/auth/login" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text  # Swagger UI is vendored, never from a CDN
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/api/v1/auth/me"), client.get("/nope")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, name
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in SECURITY_HEADERS["Content-Security-Policy"]


def test_unauthenticated_is_a_problem_in_chinese_by_default(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "需要登录或凭据无效"
    assert body["rule"] == "authentication"
    english = client.get("/api/v1/auth/me", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json()["title"] == "Not authenticated"
    assert client.get("/api/v1/nope").json()["title"] == "记录不存在"
    page = client.get("/nope")  # outside the API: a page in words, not problem+json
    assert page.status_code == 404 and "没有找到" in page.text


def test_bad_request_body_is_a_problem(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"username": ""})
    assert response.status_code == 422
    body = response.json()
    assert body["rule"] == "request_validation"
    assert body["field"] in {"username", "password"}


def test_login_sets_a_strict_httponly_cookie_and_logout_revokes(
    client: TestClient, make_user: Callable[..., tuple[str, str]]
) -> None:
    username, _ = make_user("analyst")
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP in the test; over TLS it is set
    csrf = response.json()["csrf_token"]
    assert client.get("/api/v1/auth/me").json()["username"] == username
    # a write authenticated by cookie needs the CSRF token
    assert client.post("/api/v1/auth/logout").status_code == 401
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    client.cookies.set("dongxi_session", cookie.split(";")[0].split("=", 1)[1])
    assert client.get("/api/v1/auth/me").status_code == 401  # revoked, even if replayed


def test_secure_cookie_over_tls(
    api_registry: object, make_user: Callable[..., tuple[str, str]]
) -> None:
    from dongxi.api.app import create_app

    username, _ = make_user("analyst")
    with TestClient(create_app(api_registry), base_url="https://testserver") as tls:  # type: ignore[arg-type]
        response = tls.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_bearer_token(client: TestClient, make_user: Callable[..., tuple[str, str]]) -> None:
    username, token = make_user("auditor")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {
        "username": username,
        "role": "auditor",
        "region_prefix": None,
        "partner_code": None,
    }
    wrong = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer dxt_wrong"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_login_rate_limited_per_address(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dongxi.api.routes import auth
    from dongxi.settings import get_settings

    monkeypatch.setattr(auth, "_LIMITER", auth._RateLimiter())
    monkeypatch.setenv("DONGXI_LOGIN_RATE_PER_MINUTE", "3")
    get_settings.cache_clear()
    try:
        codes = [
            client.post(
                "/api/v1/auth/login", json={"username": "ghost", "password": "x" * 12}
            ).status_code
            for _ in range(5)
        ]
    finally:
        monkeypatch.delenv("DONGXI_LOGIN_RATE_PER_MINUTE")
        get_settings.cache_clear()
    assert codes == [401, 401, 401, 429, 429]
