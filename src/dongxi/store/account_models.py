"""Accounts of the service: users, their API tokens and browser sessions.

Secrets are never stored: passwords as argon2id hashes, tokens and session ids as SHA-256 of the
random value handed to the client (a database reader cannot log in with what it reads). A user's
role and scope (region prefix, partner) decide what the data layer returns to them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dongxi.store.base import Base, Timestamped, Versioned
from dongxi.vocab import USER_ROLES

__all__ = ["ApiToken", "User", "WebSession"]


def _role_check() -> sa.CheckConstraint:
    quoted = ", ".join(f"'{r}'" for r in USER_ROLES)
    return sa.CheckConstraint(f"role IN ({quoted})", name="role")


class User(Versioned, Timestamped, Base):
    """One person who logs in: role, scope, password hash, lock-out state."""

    __tablename__ = "users"
    __table_args__ = (_role_check(),)

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    region_prefix: Mapped[str | None] = mapped_column(sa.String(12))
    partner_code: Mapped[str | None] = mapped_column(sa.String(32))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the API (stored as its SHA-256); revocable."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("users.username"), index=True
    )
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class WebSession(Base):
    """A browser session (cookie value stored as its SHA-256) with its CSRF secret's hash."""

    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        sa.String(64), sa.ForeignKey("users.username"), index=True
    )
    csrf_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
