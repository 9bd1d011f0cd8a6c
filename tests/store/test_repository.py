"""Repository functions: create/get/update households, people, income; errors translated."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import household, id_number, income, person

from dongxi.errors import InputError, NotFoundError
from dongxi.store import (
    change_history,
    create_household,
    create_person,
    create_record,
    get_household,
    get_person,
    list_households,
    reveal_id_number,
    session_scope,
    update_household,
    update_person,
    upsert_income,
)
from dongxi.store.models import HouseholdStatus, Partner, Person
from dongxi.store.scope import Scope

EVERYTHING = Scope.everything()


def test_household_life_cycle_with_status_history(registry: Engine) -> None:
    with session_scope(registry) as session:
        created = create_household(
            session, actor="clerk", data=household("H10"), effective_date=dt.date(2015, 10, 1)
        )
        assert created.county_code == "450123"
        assert created.row_version == 1
    with session_scope(registry) as session:
        update_household(
            session,
            actor="clerk",
            household_code="H10",
            changes={"status": "escaped", "year_exited": 2019},
            effective_date=dt.date(2019, 12, 1),
            reason="income above the line",
        )
    with session_scope(registry) as session:
        current = get_household(session, scope=EVERYTHING, household_code="H10")
        assert (current.status, current.year_exited, current.row_version) == ("escaped", 2019, 2)
        history = session.scalars(
            sa.select(HouseholdStatus.status)
            .where(HouseholdStatus.household_code == "H10")
            .order_by(HouseholdStatus.effective_date)
        ).all()
        assert list(history) == ["registered_poor", "escaped"]
        assert [
            h.household_code
            for h in list_households(session, scope=EVERYTHING, county_code="450123")
        ] == ["H10"]
        assert list_households(session, scope=EVERYTHING, status="registered_poor") == []
    with registry.connect() as conn:
        entries = change_history(conn, entity="households", key="H10")
    assert [e["action"] for e in entries] == ["create", "update"]
    assert entries[1]["before"]["status"] == "registered_poor"
    assert entries[1]["after"]["status"] == "escaped"


def test_person_stored_encrypted_hashed_masked(registry: Engine) -> None:
    number = id_number(123)
    with session_scope(registry) as session:
        create_household(session, actor="clerk", data=household("H20"))
        created = create_person(session, actor="clerk", id_number=number, data=person("H20"))
        key = created.id_hash
    with registry.connect() as conn:
        row = conn.execute(sa.select(Person.__table__)).mappings().one()
        logged = conn.execute(sa.text("SELECT after FROM change_log ORDER BY seq DESC")).first()
    assert row["id_masked"] == "4501" + "*" * 14
    assert number.encode() not in bytes(row["id_encrypted"])
    assert number not in str(dict(row))
    assert logged is not None and number not in logged[0] and "测试人" not in logged[0]
    with session_scope(registry) as session:
        assert get_person(session, scope=EVERYTHING, id_number=number.lower()).id_hash == key
        assert reveal_id_number(session, actor="auditor", id_hash=key, reason="court order") == (
            number
        )
        update_person(session, actor="clerk", id_hash=key, changes={"health": "chronic"})
    with registry.connect() as conn:
        actions = [e["action"] for e in change_history(conn, entity="people", key=key)]
    assert actions == ["create", "unmask", "update"]


def test_duplicate_person_refused_without_showing_the_number(registry: Engine) -> None:
    number = id_number(125)
    with session_scope(registry) as session:
        create_household(session, actor="clerk", data=household("H30"))
        create_person(session, actor="clerk", id_number=number, data=person("H30"))
    with pytest.raises(InputError) as info, session_scope(registry) as session:
        create_person(session, actor="clerk", id_number=number, data=person("H30", 2))
    assert info.value.rule == "duplicate"
    assert number not in str(info.value)


def test_integrity_errors_translated(registry: Engine) -> None:
    with pytest.raises(InputError) as info, session_scope(registry) as session:
        create_person(session, actor="clerk", id_number=id_number(127), data=person("NOPE"))
    assert info.value.rule == "integrity"
    with pytest.raises(InputError), session_scope(registry) as session:
        create_household(session, actor="clerk", data=household("H40", housing_grade="Z"))
    with pytest.raises(InputError, match="Unknown or read-only"), session_scope(registry) as s:
        create_household(s, actor="clerk", data=household("H41", colour="red"))
    with pytest.raises(NotFoundError), session_scope(registry) as session:
        get_household(session, scope=EVERYTHING, household_code="NONE")


def test_income_computed_and_checked(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="clerk", data=household("H50"))
        row = upsert_income(session, actor="clerk", household_code="H50", year=2019, data=income())
        assert row.net_income_per_capita == pytest.approx((29200 - 2200) / 4)
    with session_scope(registry) as session:
        row = upsert_income(
            session,
            actor="clerk",
            household_code="H50",
            year=2019,
            data=income(wage_income=24000.0),
        )
        assert row.row_version == 2
        assert row.net_income_per_capita == pytest.approx((33200 - 2200) / 4)
    with pytest.raises(InputError) as info, session_scope(registry) as session:
        upsert_income(
            session,
            actor="clerk",
            household_code="H50",
            year=2020,
            data=income(net_income_per_capita=9999.0),
        )
    assert info.value.column == "net_income_per_capita"


def test_generic_records(registry: Engine) -> None:
    with session_scope(registry) as session:
        create_record(
            session,
            actor="clerk",
            model=Partner,
            data={
                "partner_code": "P1",
                "name": "深圳某企业",
                "kind": "enterprise",
                "region_code": "440300",
                "contact": "李先生",
            },
        )
    with pytest.raises(InputError, match="exists already"), session_scope(registry) as s:
        create_record(
            s,
            actor="clerk",
            model=Partner,
            data={"partner_code": "P1", "name": "x", "kind": "enterprise"},
        )
