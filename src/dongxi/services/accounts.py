"""Accounts: users, passwords, lock-out, bearer tokens and browser sessions.

Passwords are hashed with argon2id (``argon2-cffi``); tokens and session ids are 256-bit random
values handed to the client once and stored as their SHA-256. After
``DONGXI_LOGIN_MAX_FAILURES`` failed logins in a row a user is locked for
``DONGXI_LOGIN_LOCKOUT_MINUTES``; a wrong user name and a wrong password get the same answer.
Every account change is written to the change log (never a hash or a secret).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dongxi.errors import InputError, NotFoundError
from dongxi.services.principal import ROLES, Principal
from dongxi.settings import get_settings
from dongxi.store import _accounts as accounts
from dongxi.store.account_models import User
from dongxi.store.base import utcnow
from dongxi.store.db import session_scope
from dongxi.store.scope import REGION_PREFIX_LENGTHS, Scope

__all__ = [
    "AuthenticationError",
    "Login",
    "UserView",
    "add_user",
    "authenticate",
    "create_token",
    "csrf_token_for",
    "disable_user",
    "list_users",
    "logout",
    "principal_for_session",
    "principal_for_token",
    "principal_of",
    "registry_session",
    "reset_password",
    "revoke_tokens",
    "start_session",
]

log = logging.getLogger(__name__)

_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
_MIN_PASSWORD = 12
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Region level each west officer role is scoped to (prefix length of the division code).
_OFFICER_LEVEL: dict[str, str] = {
    "village_officer": "village",
    "township_officer": "township",
    "county_officer": "county",
    "city_officer": "city",
    "province_officer": "province",
}
# one fixed hash to verify against when the user does not exist (same time as a real check)
_DUMMY_HASH = _HASHER.hash("dongxi: no such user")


class AuthenticationError(InputError):
    """Login failed (wrong name or password, locked, disabled, expired or revoked credentials).

    The message is the same for every cause so that it tells an outsider nothing.
    """

    def __init__(self) -> None:
        super().__init__(
            "The user name or password is wrong, or the account is locked or disabled.",
            rule="authentication",
            fix="Check the name and password; after repeated failures wait before trying again.",
        )


@dataclass(frozen=True)
class UserView:
    """A user as shown to administrators (no hash)."""

    username: str
    role: str
    region_prefix: str | None
    partner_code: str | None
    disabled: bool
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class Login:
    """A started browser session: the cookie value and the CSRF token (both secret)."""

    session_id: str
    csrf_token: str
    expires_at: dt.datetime
    principal: Principal


@contextmanager
def registry_session(url: str | None = None) -> Iterator[Session]:
    """A session (one transaction) on the registry at ``url`` for the command line.

    Refuses a registry that is not at the current schema (run ``dongxi db upgrade``).
    """
    from dongxi.services._registry import registry

    with registry(url) as engine, session_scope(engine) as session:
        yield session


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _view(user: User) -> UserView:
    return UserView(
        username=user.username,
        role=user.role,
        region_prefix=user.region_prefix,
        partner_code=user.partner_code,
        disabled=user.disabled,
        locked_until=user.locked_until,
    )


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD:
        raise InputError(
            f"The password is shorter than {_MIN_PASSWORD} characters.",
            column="password",
            rule="password_length",
            fix=f"Choose a password of at least {_MIN_PASSWORD} characters.",
        )


def _check_scope(role: str, region: str | None, partner: str | None) -> str | None:
    """The region prefix a new user of ``role`` gets (validated against the role)."""
    if role not in ROLES:
        raise InputError(
            "Unknown role.",
            column="role",
            value=role,
            rule="role",
            fix=f"Use one of: {', '.join(ROLES)}.",
        )
    prefix = None if region is None else Scope.region(region).region_prefix
    level = _OFFICER_LEVEL.get(role)
    if level is not None:
        want = REGION_PREFIX_LENGTHS[level]
        if prefix is None or len(prefix) != want:
            raise InputError(
                f"A {role} is scoped to one {level}: give its division code.",
                column="region",
                value=region,
                rule="scope",
                fix=f"Pass --region with the code of the {level} ({want} significant digits).",
            )
    if role == "east_partner" and not partner:
        raise InputError(
            "An east partner user needs the partner it belongs to.",
            column="partner",
            rule="scope",
            fix="Pass --partner with the partner's code (dongxi export partners lists them).",
        )
    if role != "east_partner" and partner:
        raise InputError(
            "Only east partner users belong to a partner.",
            column="partner",
            value=partner,
            rule="scope",
            fix="Leave --partner out for this role.",
        )
    if role == "east_office" and prefix is None:
        raise InputError(
            "An east collaboration office user needs its own (eastern) division code.",
            column="region",
            rule="scope",
            fix="Pass --region with the office's city or province code.",
        )
    return prefix


def principal_of(user: User) -> Principal:
    """The principal a user acts as (role and scope from the account)."""
    if user.region_prefix or user.partner_code:
        scope = Scope(region_prefix=user.region_prefix, partner_code=user.partner_code)
    else:
        scope = Scope.everything()
    return Principal(name=user.username, role=user.role, scope=scope)


def add_user(
    session: Session,
    principal: Principal,
    *,
    username: str,
    password: str,
    role: str,
    region: str | None = None,
    partner: str | None = None,
) -> UserView:
    """Create a user (administrators only); the password is hashed with argon2id."""
    principal.require("users:manage")
    name = username.strip()
    if (
        not name
        or len(name) > 64
        or not name.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise InputError(
            "A user name is 1–64 ASCII letters, digits, '.', '-' or '_'.",
            column="username",
            value=username,
            rule="username",
            fix="Choose a name such as 'wang.li' or 'county_4501'.",
        )
    _check_password(password)
    prefix = _check_scope(role, region, partner)
    user = accounts.add_user(
        session,
        actor=principal.actor,
        username=name,
        password_hash=_HASHER.hash(password),
        role=role,
        region_prefix=prefix,
        partner_code=partner or None,
        at=utcnow(),
    )
    return _view(user)


def list_users(session: Session, principal: Principal) -> list[UserView]:
    """Every user (administrators only)."""
    principal.require("users:manage")
    return [_view(u) for u in accounts.list_users(session)]


def disable_user(session: Session, principal: Principal, *, username: str) -> UserView:
    """Disable a user: no login, every token and session stops working at once."""
    principal.require("users:manage")
    user = accounts.get_user(session, username=username)
    accounts.update_user(session, actor=principal.actor, user=user, changes={"disabled": True})
    accounts.revoke_tokens(
        session, actor=principal.actor, username=user.username, prefix=None, at=utcnow()
    )
    return _view(user)


def reset_password(
    session: Session, principal: Principal, *, username: str, password: str
) -> UserView:
    """Set a new password (unlocks the user; other sessions and tokens stay valid)."""
    principal.require("users:manage")
    _check_password(password)
    user = accounts.get_user(session, username=username)
    accounts.update_user(
        session,
        actor=principal.actor,
        user=user,
        changes={
            "password_hash": _HASHER.hash(password),
            "failed_logins": 0,
            "locked_until": None,
            "password_changed_at": utcnow(),
        },
    )
    return _view(user)


def authenticate(session: Session, *, username: str, password: str) -> Principal:
    """Check a user's password, counting failures and locking after too many."""
    now = utcnow()
    try:
        user = accounts.get_user(session, username=username.strip())
    except NotFoundError:
        _verify(_DUMMY_HASH, password)  # same work as for a real user
        raise AuthenticationError() from None
    locked = user.locked_until is not None and _aware(user.locked_until) > now
    if user.disabled or locked:
        _verify(_DUMMY_HASH, password)
        raise AuthenticationError()
    if not _verify(user.password_hash, password):
        _note_failure(session, user.username, now)
        raise AuthenticationError()
    if user.failed_logins or user.locked_until is not None:
        accounts.update_user(
            session, actor=None, user=user, changes={"failed_logins": 0, "locked_until": None}
        )
    return principal_of(user)


def _note_failure(session: Session, username: str, now: dt.datetime) -> None:
    """Count a failed login in a transaction of its own (it stays when the request fails)."""
    settings = get_settings()
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with session_scope(engine) as own:
        user = accounts.get_user(own, username=username)
        failures = user.failed_logins + 1
        if failures < settings.login_max_failures:
            accounts.update_user(own, actor=None, user=user, changes={"failed_logins": failures})
            return
        until = now + dt.timedelta(minutes=settings.login_lockout_minutes)
        accounts.update_user(
            own,
            actor="dongxi:lockout",
            user=user,
            changes={"failed_logins": 0, "locked_until": until},
        )
        log.warning("a user was locked after %d failed logins", failures)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def create_token(
    session: Session, principal: Principal, *, username: str, label: str | None = None
) -> str:
    """A new bearer token for ``username`` (returned once; only its hash is kept)."""
    principal.require("users:manage")
    user = accounts.get_user(session, username=username)
    if user.disabled:
        raise InputError(
            "The user is disabled.",
            column="username",
            rule="disabled",
            fix="Enable the user first.",
        )
    token = "dxt_" + secrets.token_urlsafe(32)
    days = get_settings().token_days
    now = utcnow()
    accounts.add_token(
        session,
        actor=principal.actor,
        token_hash=_sha256(token),
        username=user.username,
        label=label,
        at=now,
        expires_at=now + dt.timedelta(days=days) if days else None,
    )
    return token


def revoke_tokens(
    session: Session, principal: Principal, *, username: str, prefix: str | None = None
) -> int:
    """Revoke a user's tokens (all, or the one whose hash starts with ``prefix``)."""
    principal.require("users:manage")
    user = accounts.get_user(session, username=username)
    return accounts.revoke_tokens(
        session, actor=principal.actor, username=user.username, prefix=prefix, at=utcnow()
    )


def principal_for_token(session: Session, token: str) -> Principal:
    """The principal of a bearer token (``AuthenticationError`` unless live and enabled)."""
    row = accounts.find_token(session, token_hash=_sha256(token))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and _aware(row.expires_at) <= now)
    ):
        raise AuthenticationError()
    user = accounts.get_user(session, username=row.username)
    if user.disabled:
        raise AuthenticationError()
    return principal_of(user)


def csrf_token_for(session_id: str) -> str:
    """The CSRF token of a browser session: an HMAC of the session id under a key derived from
    the registry's look-up key, so that a page can put it into its forms without storing it
    (every server process computes the same token; only its hash is stored with the session)."""
    from dongxi.pii.protect import _derive

    key = _derive(get_settings().id_keys().lookup, b"dongxi csrf v1")
    return hmac.new(key, session_id.encode("utf-8"), hashlib.sha256).hexdigest()


def start_session(session: Session, *, username: str, password: str) -> Login:
    """Log in with a password and start a browser session."""
    principal = authenticate(session, username=username, password=password)
    session_id = secrets.token_urlsafe(32)
    csrf = csrf_token_for(session_id)
    now = utcnow()
    expires = now + dt.timedelta(hours=get_settings().session_hours)
    accounts.add_web_session(
        session,
        session_hash=_sha256(session_id),
        csrf_hash=_sha256(csrf),
        username=principal.name,
        at=now,
        expires_at=expires,
    )
    return Login(session_id=session_id, csrf_token=csrf, expires_at=expires, principal=principal)


def principal_for_session(
    session: Session, session_id: str, *, csrf_token: str | None = None, check_csrf: bool = False
) -> Principal:
    """The principal of a live browser session; with ``check_csrf`` the CSRF token must match."""
    row = accounts.find_web_session(session, session_hash=_sha256(session_id))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= utcnow():
        raise AuthenticationError()
    if check_csrf and (
        csrf_token is None or not hmac.compare_digest(row.csrf_hash, _sha256(csrf_token))
    ):
        raise AuthenticationError()
    user = accounts.get_user(session, username=row.username)
    if user.disabled:
        raise AuthenticationError()
    return principal_of(user)


def logout(session: Session, session_id: str) -> None:
    """End a browser session (the cookie stops working at once)."""
    accounts.revoke_web_session(session, session_hash=_sha256(session_id), at=utcnow())
