"""Accounts: argon2id hashes, scope rules per role, lock-out, tokens, sessions, audit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from api_fixtures import ADMIN, PASSWORD
from sqlalchemy.engine import Engine

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.services import accounts
from dongxi.services.accounts import AuthenticationError
from dongxi.services.principal import Principal
from dongxi.settings import get_settings
from dongxi.store.db import session_scope
from dongxi.store.scope import Scope


def _add(engine: Engine, username: str, role: str = "county_officer", **kw: str) -> None:
    kw.setdefault("region", "450123") if role == "county_officer" else None
    with session_scope(engine) as session:
        accounts.add_user(session, ADMIN, username=username, password=PASSWORD, role=role, **kw)


def test_password_is_stored_as_argon2id(api_registry: Engine) -> None:
    _add(api_registry, "hash.check")
    with api_registry.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM users WHERE username = 'hash.check'")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_change_log_records_the_user_without_its_hash(api_registry: Engine) -> None:
    _add(api_registry, "log.check")
    with api_registry.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT actor, action, after FROM change_log "
                "WHERE entity = 'users' AND entity_key = 'log.check'"
            )
        ).one()
    assert row.actor == "test-admin (admin)"
    assert row.action == "create"
    assert "argon2" not in row.after
    assert '"role":"county_officer"' in row.after.replace(" ", "")


@pytest.mark.parametrize(
    ("role", "kw", "rule"),
    [
        ("county_officer", {}, "scope"),  # no region
        ("county_officer", {"region": "4501"}, "scope"),  # a city, not a county
        ("village_officer", {"region": "450123"}, "scope"),  # a county, not a village
        ("east_partner", {}, "scope"),  # no partner
        ("analyst", {"partner": "P1"}, "scope"),  # partner on a non-partner role
        ("east_office", {}, "scope"),
        ("king", {}, "role"),
    ],
)
def test_scope_must_fit_the_role(
    api_registry: Engine, role: str, kw: dict[str, str], rule: str
) -> None:
    with pytest.raises(InputError) as info, session_scope(api_registry) as session:
        accounts.add_user(session, ADMIN, username="x1", password=PASSWORD, role=role, **kw)
    assert info.value.rule == rule


def test_short_password_and_bad_name_refused(api_registry: Engine) -> None:
    with pytest.raises(InputError) as info, session_scope(api_registry) as session:
        accounts.add_user(session, ADMIN, username="ok", password="short", role="analyst")
    assert info.value.rule == "password_length"
    with pytest.raises(InputError) as info, session_scope(api_registry) as session:
        accounts.add_user(session, ADMIN, username="../x", password=PASSWORD, role="analyst")
    assert info.value.rule == "username"


def test_only_administrators_manage_users(api_registry: Engine) -> None:
    officer = Principal(name="o", role="county_officer", scope=Scope.region("450123"))
    with pytest.raises(PermissionDeniedError), session_scope(api_registry) as session:
        accounts.add_user(session, officer, username="y1", password=PASSWORD, role="analyst")


def test_authenticate_gives_role_and_scope(api_registry: Engine) -> None:
    _add(api_registry, "scoped.one")
    with session_scope(api_registry) as session:
        who = accounts.authenticate(session, username="scoped.one", password=PASSWORD)
    assert who.role == "county_officer"
    assert who.scope.region_prefix == "450123"
    assert not who.scope.unrestricted


def test_lockout_after_repeated_failures(api_registry: Engine) -> None:
    _add(api_registry, "lock.me")
    limit = get_settings().login_max_failures
    for _ in range(limit):
        with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
            accounts.authenticate(session, username="lock.me", password="wrong password!")
    # locked now: even the right password is refused, with the same message
    with pytest.raises(AuthenticationError) as info, session_scope(api_registry) as session:
        accounts.authenticate(session, username="lock.me", password=PASSWORD)
    assert "locked" in info.value.message
    with session_scope(api_registry) as session:
        accounts.reset_password(session, ADMIN, username="lock.me", password=PASSWORD + "!")
    with session_scope(api_registry) as session:
        who = accounts.authenticate(session, username="lock.me", password=PASSWORD + "!")
    assert who.name == "lock.me"


def test_unknown_user_and_wrong_password_look_the_same(api_registry: Engine) -> None:
    _add(api_registry, "same.answer")
    messages = []
    for name in ("same.answer", "nobody.here"):
        with pytest.raises(AuthenticationError) as info, session_scope(api_registry) as session:
            accounts.authenticate(session, username=name, password="not the password")
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_tokens_are_stored_hashed_and_revocable(
    api_registry: Engine, make_user: Callable[..., tuple[str, str]]
) -> None:
    username, token = make_user("analyst")
    with api_registry.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT token_hash FROM api_tokens WHERE username = :u"), {"u": username}
        ).scalar_one()
    assert token not in stored and len(stored) == 64
    with session_scope(api_registry) as session:
        assert accounts.principal_for_token(session, token).name == username
        assert accounts.revoke_tokens(session, ADMIN, username=username) == 1
    with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
        accounts.principal_for_token(session, token)


def test_disabling_a_user_stops_tokens_and_sessions(
    api_registry: Engine, make_user: Callable[..., tuple[str, str]]
) -> None:
    username, token = make_user("analyst")
    with session_scope(api_registry) as session:
        login = accounts.start_session(session, username=username, password=PASSWORD)
        accounts.disable_user(session, ADMIN, username=username)
    with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
        accounts.principal_for_token(session, token)
    with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
        accounts.principal_for_session(session, login.session_id)
    with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
        accounts.authenticate(session, username=username, password=PASSWORD)


def test_session_needs_its_csrf_token_for_writes(
    api_registry: Engine, make_user: Callable[..., tuple[str, str]]
) -> None:
    username, _ = make_user("analyst")
    with session_scope(api_registry) as session:
        login = accounts.start_session(session, username=username, password=PASSWORD)
        assert accounts.principal_for_session(session, login.session_id).name == username
        ok = accounts.principal_for_session(
            session, login.session_id, csrf_token=login.csrf_token, check_csrf=True
        )
        assert ok.name == username
    for bad in (None, "x" * 43):
        with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
            accounts.principal_for_session(
                session, login.session_id, csrf_token=bad, check_csrf=True
            )
    with session_scope(api_registry) as session:
        accounts.logout(session, login.session_id)
    with pytest.raises(AuthenticationError), session_scope(api_registry) as session:
        accounts.principal_for_session(session, login.session_id)
