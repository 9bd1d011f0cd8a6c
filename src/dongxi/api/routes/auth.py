"""Logging in and out (browser sessions) and who am I."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from dongxi.api.deps import COOKIE, CurrentPrincipal, DbSession
from dongxi.errors import RateLimitedError
from dongxi.services import accounts
from dongxi.settings import get_settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class LoginBody(BaseModel):
    """A login request."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginResult(BaseModel):
    """A started session: send ``csrf_token`` as ``X-CSRF-Token`` with every write."""

    username: str
    role: str
    csrf_token: str
    expires_at: dt.datetime


class Me(BaseModel):
    """The acting user."""

    username: str
    role: str
    region_prefix: str | None
    partner_code: str | None


class _RateLimiter:
    """Login attempts per client address in a sliding minute (per process)."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, limit: int) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > 60.0:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not v]:
                    del self._hits[k]
            return True


_LIMITER = _RateLimiter()


@router.post(
    "/login",
    response_model=LoginResult,
    summary="Log in with a password (sets the session cookie)",
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Rate limited"}},
)
def login(body: LoginBody, request: Request, response: Response, db: DbSession) -> LoginResult:
    """Start a browser session: an HttpOnly, SameSite=Strict cookie (Secure over TLS)."""
    client = request.client.host if request.client else "unknown"
    if not _LIMITER.check(client, get_settings().login_rate_per_minute):
        raise RateLimitedError(
            "Too many login attempts from this address.", fix="Wait a minute and try again."
        )
    started = accounts.start_session(db, username=body.username, password=body.password)
    response.set_cookie(
        COOKIE,
        started.session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or get_settings().secure_cookies,
        max_age=get_settings().session_hours * 3600,
        path="/",
    )
    return LoginResult(
        username=started.principal.name,
        role=started.principal.role,
        csrf_token=started.csrf_token,
        expires_at=started.expires_at,
    )


@router.post("/logout", status_code=204, summary="End the browser session")
def logout(request: Request, response: Response, db: DbSession, me: CurrentPrincipal) -> None:
    """Revoke the session of the cookie (bearer tokens are revoked with `dongxi token revoke`)."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        accounts.logout(db, cookie)
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", response_model=Me, summary="Who am I")
def me(principal: CurrentPrincipal) -> Me:
    """The acting user's name, role and scope."""
    return Me(
        username=principal.name,
        role=principal.role,
        region_prefix=principal.scope.region_prefix,
        partner_code=principal.scope.partner_code,
    )
