"""Optimistic locking: two users editing one household cannot overwrite each other."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from store_factories import household

from dongxi.errors import ConflictError
from dongxi.store import create_household, get_household, session_scope, update_household
from dongxi.store.models import Household
from dongxi.store.scope import Scope

EVERYTHING = Scope.everything()


def test_second_commit_of_a_stale_copy_conflicts(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="setup", data=household("H1"))
    first = Session(registry)
    second = Session(registry)
    try:
        one = first.get(Household, "H1")
        two = second.get(Household, "H1")
        assert one is not None and two is not None
        assert one.row_version == two.row_version == 1
        one.housing_grade = "C"
        first.commit()
        two.housing_grade = "D"
        with pytest.raises(ConflictError), session_scope(registry):
            # the stale copy is flushed inside a translated scope
            second.flush()
    finally:
        first.close()
        second.rollback()
        second.close()
    with session_scope(registry) as session:
        saved = get_household(session, scope=EVERYTHING, household_code="H1")
        assert saved.housing_grade == "C"
        assert saved.row_version == 2


def test_session_scope_translates_stale_data(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="setup", data=household("H2"))
    with pytest.raises(ConflictError), session_scope(registry) as stale:
        copy = get_household(stale, scope=EVERYTHING, household_code="H2")
        with session_scope(registry) as other:
            update_household(other, actor="b", household_code="H2", changes={"housing_grade": "A"})
        copy.housing_grade = "D"
    with session_scope(registry) as session:
        assert get_household(session, scope=EVERYTHING, household_code="H2").housing_grade == "A"


def test_expected_version_checked(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="setup", data=household("H3"))
    with session_scope(registry) as session:
        update_household(
            session,
            actor="a",
            household_code="H3",
            changes={"road_access": False},
            expected_version=1,
        )
    with pytest.raises(ConflictError, match="version 1, now 2"), session_scope(registry) as s:
        update_household(
            s, actor="b", household_code="H3", changes={"road_access": True}, expected_version=1
        )
