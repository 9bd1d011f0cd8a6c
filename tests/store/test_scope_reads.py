"""Scoped reads: a county scope never reads another county's households or people.

Every read of registry rows takes a :class:`Scope`; a row outside it raises ``NotFoundError``
exactly like a missing key (same class, same message shape), and listings and exports leave it
out. Runs on SQLite and PostgreSQL (the ``registry`` fixture).
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from store_factories import household, id_number, person

from dongxi.errors import NotFoundError
from dongxi.store import (
    create_household,
    create_person,
    get_household,
    get_person,
    list_households,
    session_scope,
)
from dongxi.store.exporter import export_frame
from dongxi.store.scope import Scope

LONGAN = "450123"  # 隆安县
MASHAN = "450124"  # 马山县
EVERYTHING = Scope.everything()


def _two_counties(registry: Engine) -> dict[str, str]:
    """H1, H2 in 隆安县 and H3 in 马山县, one person each; returns household → ID number."""
    numbers = {"H1": id_number(101), "H2": id_number(102), "H3": id_number(103)}
    villages = {"H1": f"{LONGAN}100200", "H2": f"{LONGAN}100201", "H3": f"{MASHAN}100300"}
    with session_scope(registry) as session:
        for code, village in villages.items():
            create_household(session, actor="t", data=household(code, village_code=village))
            create_person(session, actor="t", id_number=numbers[code], data=person(code))
    return numbers


def test_get_household_outside_scope_is_not_found(registry: Engine) -> None:
    _two_counties(registry)
    with session_scope(registry) as session:
        assert (
            get_household(session, household_code="H1", scope=Scope.region(LONGAN)).household_code
            == "H1"
        )
        with pytest.raises(NotFoundError) as outside:
            get_household(session, household_code="H3", scope=Scope.region(LONGAN))
        with pytest.raises(NotFoundError) as missing:
            get_household(session, household_code="H9", scope=Scope.region(LONGAN))
    assert str(outside.value) == str(missing.value).replace("H9", "H3")
    assert type(outside.value) is type(missing.value)


def test_get_person_outside_scope_is_not_found(registry: Engine) -> None:
    numbers = _two_counties(registry)
    with session_scope(registry) as session:
        mine = get_person(session, id_number=numbers["H2"], scope=Scope.region(LONGAN))
        assert mine.household_code == "H2"
        with pytest.raises(NotFoundError, match="No people record"):
            get_person(session, id_number=numbers["H3"], scope=Scope.region(LONGAN))
        # the same person is found by a scope that covers it, and by everything
        assert (
            get_person(session, id_number=numbers["H3"], scope=Scope.region(MASHAN)).member_no == 1
        )
        assert get_person(session, id_number=numbers["H3"], scope=EVERYTHING).household_code == "H3"


def test_partner_scope_reads_no_household(registry: Engine) -> None:
    _two_counties(registry)
    with session_scope(registry) as session:
        with pytest.raises(NotFoundError):
            get_household(session, household_code="H1", scope=Scope(partner_code="P1"))
        assert list_households(session, scope=Scope(partner_code="P1")) == []


def test_listing_is_filtered_by_scope(registry: Engine) -> None:
    _two_counties(registry)
    with session_scope(registry) as session:
        codes = {
            name: [h.household_code for h in list_households(session, scope=scope)]
            for name, scope in {
                "longan": Scope.region(LONGAN),
                "mashan": Scope.region(MASHAN),
                "village": Scope.region(f"{LONGAN}100201"),
                "province": Scope.region("450000"),
                "everything": EVERYTHING,
                "other_province": Scope.region("440000"),
            }.items()
        }
        # an explicit county filter cannot widen the scope
        widened = list_households(session, scope=Scope.region(LONGAN), county_code=MASHAN)
    assert codes == {
        "longan": ["H1", "H2"],
        "mashan": ["H3"],
        "village": ["H2"],
        "province": ["H1", "H2", "H3"],
        "everything": ["H1", "H2", "H3"],
        "other_province": [],
    }
    assert list(widened) == []


def test_export_reads_only_the_scope(registry: Engine) -> None:
    _two_counties(registry)
    households = export_frame(registry, kind="households", scope=Scope.region(MASHAN))
    people = export_frame(registry, kind="people", scope=Scope.region(LONGAN))
    everyone = export_frame(registry, kind="people", scope=EVERYTHING)
    assert list(households["户编号"]) == ["H3"]
    assert list(people["户编号"]) == ["H1", "H2"]
    assert list(everyone["户编号"]) == ["H1", "H2", "H3"]
