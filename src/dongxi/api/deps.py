"""Typed dependencies of the API: the database session of a request and the acting principal.

``DbSession`` is one transaction per request (committed when the route returns, rolled back on
error). ``CurrentPrincipal`` comes from a bearer token (``Authorization: Bearer …``) or from the
session cookie; a state-changing request authenticated by cookie must carry the session's CSRF
token in the ``X-CSRF-Token`` header (or the form field ``csrf_token``), else 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dongxi.services import accounts
from dongxi.services.accounts import AuthenticationError
from dongxi.services.principal import Principal
from dongxi.store.db import session_scope

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "CurrentPrincipal",
    "DbSession",
    "csrf_token",
    "get_db",
    "get_principal",
]

COOKIE = "dongxi_session"
CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Iterator[Session]:
    """One session (transaction) per request: committed when the route returns, rolled back on
    error, database errors translated (:func:`dongxi.store.db.session_scope`)."""
    with session_scope(request.app.state.engine) as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client that acts on
# the answer at once (a browser following the login redirect) finds what was written
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def csrf_token(request: Request) -> str | None:
    """The CSRF token sent with a request: the header, else a form's ``csrf_token`` field."""
    header = request.headers.get(CSRF_HEADER)
    if header is not None or request.method in _SAFE:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def get_principal(
    request: Request, db: DbSession, csrf: Annotated[str | None, Depends(csrf_token)]
) -> Principal:
    """The authenticated principal of this request (401 problem otherwise).

    A plain function on purpose: FastAPI runs it in the thread pool. As a coroutine its database
    look-up would block the event loop, and under load (more requests than pooled connections)
    the loop would wait for a connection that only the loop itself can give back.
    """
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError()
        return accounts.principal_for_token(db, token.strip())
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise AuthenticationError()
    unsafe = request.method not in _SAFE
    return accounts.principal_for_session(db, cookie, csrf_token=csrf, check_csrf=unsafe)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
