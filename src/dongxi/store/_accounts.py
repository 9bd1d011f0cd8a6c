"""Accounts in the registry: users, API tokens, browser sessions (SQL only, no policy).

Callers hand in hashes, never secrets; every change to a user or token is written to the change
log without its hash. The rules (who may add users, lock-out, expiry) live in
:mod:`dongxi.services.accounts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dongxi.errors import InputError, NotFoundError
from dongxi.store._changelog import record_change
from dongxi.store.account_models import ApiToken, User, WebSession
from dongxi.store.db import translate_errors

__all__ = [
    "add_token",
    "add_user",
    "add_web_session",
    "find_token",
    "find_web_session",
    "get_user",
    "list_users",
    "revoke_tokens",
    "revoke_web_session",
    "update_user",
    "user_values",
]

_LOGGED = ("role", "region_prefix", "partner_code", "disabled", "locked_until")


def user_values(user: User) -> dict[str, Any]:
    """What the change log keeps of a user (never the password hash)."""
    return {name: getattr(user, name) for name in _LOGGED}


def get_user(session: Session, *, username: str) -> User:
    """One user by name (``NotFoundError`` when absent)."""
    with translate_errors("Reading users"):
        user = session.get(User, username)
    if user is None:
        raise NotFoundError(
            "No such user.", fix="Check the user name, or list users with 'dongxi user list'."
        )
    return user


def list_users(session: Session) -> Sequence[User]:
    """Every user, by name."""
    with translate_errors("Listing users"):
        return session.scalars(sa.select(User).order_by(User.username)).all()


def add_user(
    session: Session,
    *,
    actor: str,
    username: str,
    password_hash: str,
    role: str,
    region_prefix: str | None,
    partner_code: str | None,
    at: dt.datetime,
) -> User:
    """Insert a user (refuses an existing name) and log it."""
    with translate_errors("Adding a user"):
        if session.get(User, username) is not None:
            raise InputError(
                "A user with this name exists already.",
                column="username",
                value=username,
                rule="duplicate",
                fix="Choose another name, or reset the existing user's password.",
            )
        user = User(
            username=username,
            password_hash=password_hash,
            role=role,
            region_prefix=region_prefix,
            partner_code=partner_code,
            disabled=False,
            failed_logins=0,
            password_changed_at=at,
        )
        session.add(user)
        session.flush()
        record_change(
            session.connection(),
            actor=actor,
            action="create",
            entity="users",
            key=username,
            after=user_values(user),
        )
    return user


def update_user(
    session: Session, *, actor: str | None, user: User, changes: dict[str, Any]
) -> User:
    """Change a user's fields; logged unless ``actor`` is None (login counters only)."""
    before = user_values(user)
    for name, value in changes.items():
        setattr(user, name, value)
    with translate_errors("Updating a user"):
        session.flush()
        after = user_values(user)
        if actor is not None and (after != before or "password_hash" in changes):
            record_change(
                session.connection(),
                actor=actor,
                action="update",
                entity="users",
                key=user.username,
                before=before,
                after={**after, "password_changed": "password_hash" in changes},
            )
    return user


def add_token(
    session: Session,
    *,
    actor: str,
    token_hash: str,
    username: str,
    label: str | None,
    at: dt.datetime,
    expires_at: dt.datetime | None,
) -> ApiToken:
    """Store a token's hash and log its creation (by its first 8 hex characters)."""
    with translate_errors("Creating a token"):
        token = ApiToken(
            token_hash=token_hash,
            username=username,
            label=label,
            created_at=at,
            expires_at=expires_at,
        )
        session.add(token)
        session.flush()
        record_change(
            session.connection(),
            actor=actor,
            action="create",
            entity="api_tokens",
            key=token_hash[:8],
            after={"username": username, "label": label, "expires_at": expires_at},
        )
    return token


def find_token(session: Session, *, token_hash: str) -> ApiToken | None:
    """The token with this hash, if any."""
    with translate_errors("Reading tokens"):
        return session.get(ApiToken, token_hash)


def revoke_tokens(
    session: Session, *, actor: str, username: str, prefix: str | None, at: dt.datetime
) -> int:
    """Revoke a user's live tokens (all, or the one whose hash starts with ``prefix``)."""
    query = sa.select(ApiToken).where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
    if prefix:
        query = query.where(ApiToken.token_hash.startswith(prefix, autoescape=True))
    with translate_errors("Revoking tokens"):
        tokens = session.scalars(query).all()
        for token in tokens:
            token.revoked_at = at
            record_change(
                session.connection(),
                actor=actor,
                action="revoke",
                entity="api_tokens",
                key=token.token_hash[:8],
                after={"username": username},
            )
        session.flush()
    return len(tokens)


def add_web_session(
    session: Session,
    *,
    session_hash: str,
    csrf_hash: str,
    username: str,
    at: dt.datetime,
    expires_at: dt.datetime,
) -> WebSession:
    """Store a browser session's hash."""
    with translate_errors("Starting a session"):
        row = WebSession(
            session_hash=session_hash,
            username=username,
            csrf_hash=csrf_hash,
            created_at=at,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
    return row


def find_web_session(session: Session, *, session_hash: str) -> WebSession | None:
    """The session with this hash, if any."""
    with translate_errors("Reading sessions"):
        return session.get(WebSession, session_hash)


def revoke_web_session(session: Session, *, session_hash: str, at: dt.datetime) -> None:
    """End one browser session (logout)."""
    with translate_errors("Ending a session"):
        row = session.get(WebSession, session_hash)
        if row is not None and row.revoked_at is None:
            row.revoked_at = at
            session.flush()
