"""Principals and scopes: roles as data, region prefixes, the explicit unrestricted scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dongxi.errors import InputError, PermissionDeniedError
from dongxi.services import PERMISSIONS, ROLES, Principal
from dongxi.store.scope import Scope


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("450000", "45"),
        ("450100", "4501"),
        ("450102", "450102"),
        ("450102000000", "450102"),
        ("450102003000", "450102003"),
        ("450102003004", "450102003004"),
        ("45", "45"),
    ],
)
def test_region_scope_from_code(code: str, prefix: str) -> None:
    assert Scope.region(code).region_prefix == prefix


@pytest.mark.parametrize("code", ["", "4501x", "4501020", "12345678901234"])
def test_bad_region_code_is_refused(code: str) -> None:
    with pytest.raises(InputError) as info:
        Scope.region(code)
    assert info.value.rule == "scope"


def test_scope_must_name_something() -> None:
    with pytest.raises(InputError):
        Scope()
    with pytest.raises(InputError):
        Scope(region_prefix="45", unrestricted=True)


def test_covers_region() -> None:
    county = Scope.region("450102")
    assert county.covers_region("450102003004")
    assert not county.covers_region("450103001001")
    assert not county.covers_region(None)
    assert Scope.everything().covers_region("440000000000")
    assert not Scope(partner_code="P1").covers_region("450102003004")


def test_where_clauses_render() -> None:
    column = sa.column("village_code")
    sql = str(
        Scope.region("4501").where_region(column).compile(compile_kwargs={"literal_binds": True})
    )
    assert "4501" in sql and "LIKE" in sql.upper()
    assert str(Scope.everything().where_region(column).compile()) == "true"
    assert str(Scope(partner_code="P1").where_region(column).compile()) == "false"


def test_every_role_has_permissions_as_data() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    assert "pii:reveal" not in PERMISSIONS["east_partner"]
    assert "pii:reveal" not in PERMISSIONS["analyst"]
    assert "registry:read" not in PERMISSIONS["east_office"]


def test_require_refuses_what_the_role_lacks() -> None:
    analyst = Principal(name="a1", role="analyst", scope=Scope.region("45"))
    analyst.require("measure:run")
    with pytest.raises(PermissionDeniedError):
        analyst.require("pii:reveal")


def test_local_operator_is_explicit() -> None:
    me = Principal.local_operator()
    assert me.role == "admin"
    assert me.scope.unrestricted
    assert me.name.startswith("os:")
    assert me.actor == f"{me.name} (admin)"


def test_unknown_role_refused() -> None:
    with pytest.raises(InputError):
        Principal(name="x", role="king")  # type: ignore[arg-type]


def test_roles_are_the_vocabulary_and_each_has_permissions() -> None:
    from dongxi.vocab import USER_ROLES

    assert tuple(USER_ROLES.codes) == ROLES
    assert set(PERMISSIONS) == set(USER_ROLES.codes)
