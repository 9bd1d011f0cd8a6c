"""A stale edit names the fields changed since the version the user saw (from the change log)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from store_factories import household, id_number, person

from dongxi.errors import ConflictError
from dongxi.store import create_household, session_scope, update_household
from dongxi.store._repository import changed_fields_since, create_person, get_record, update_person
from dongxi.store.models import Household, Person


def test_fields_changed_since_each_version(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="setup", data=household("CF1", housing_grade="B"))
    for changes in ({"housing_grade": "C"}, {"road_access": False, "electricity": False}):
        with session_scope(registry) as session:
            update_household(session, actor="t", household_code="CF1", changes=changes)
    with session_scope(registry) as session:
        record = get_record(session, model=Household, key="CF1")
        assert record.row_version == 3
        assert changed_fields_since(session, record, 1) == [
            "electricity",
            "housing_grade",
            "road_access",
        ]
        assert changed_fields_since(session, record, 2) == ["electricity", "road_access"]
        assert changed_fields_since(session, record, 3) == []
    with pytest.raises(ConflictError) as caught, session_scope(registry) as session:
        update_household(
            session,
            actor="t",
            household_code="CF1",
            changes={"housing_grade": "A"},
            expected_version=2,
        )
    assert caught.value.fields == ("electricity", "road_access")
    assert "changed: electricity, road_access" in caught.value.message


def test_a_redacted_change_is_named_as_a_possible_one(registry: Engine) -> None:
    """The log keeps a name as its first character: 测试人 → 测二人 looks unchanged there, so the
    editable fields the log redacts (name, birth date) are named instead of nothing."""
    with session_scope(registry) as session:
        create_household(session, actor="setup", data=household("CF2"))
        created = create_person(
            session, actor="setup", id_number=id_number(321), data=person("CF2")
        )
        key = created.id_hash
    with session_scope(registry) as session:
        update_person(session, actor="t", id_hash=key, changes={"name": "测二人"})
    with session_scope(registry) as session:
        record = get_record(session, model=Person, key=key)
        assert changed_fields_since(session, record, 1) == ["birth_date", "name"]
