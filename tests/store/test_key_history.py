"""One description per kind of table: the repository and the importer log a record under one key,
and a record's history is found under the key's current and its older spelling."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from store_factories import household, income

from dongxi.intake.columns import KINDS, TABLE_KINDS
from dongxi.store import (
    change_history,
    create_household,
    record_change,
    session_scope,
    upsert_income,
)
from dongxi.store.importer import import_frame

_NET = 6750.0  # (20000 + 6000 + 200 + 3000 − 2200) / 4: the net income of store_factories.income


def _income_frame(code: str, year: int, **changes: float) -> pd.DataFrame:
    row = {"household_code": code, "year": year, **income(), "net_income_per_capita": _NET}
    row.update(changes)
    return pd.DataFrame([row])


def _household(registry: Engine, code: str) -> None:
    with session_scope(registry) as session:
        create_household(session, actor="clerk", data=household(code))


def _upsert(registry: Engine, code: str, year: int, **changes: float) -> None:
    with session_scope(registry) as session:
        data = income(**changes)
        upsert_income(session, actor="clerk", household_code=code, year=year, data=data)


def test_repository_then_import_is_one_history(registry: Engine) -> None:
    _household(registry, "K1")
    _upsert(registry, "K1", 2019)
    changed = _income_frame("K1", 2019, wage_income=20400.0, net_income_per_capita=_NET + 100)
    result = import_frame(registry, kind="income", frame=changed, actor="office")
    assert (result.created, result.updated) == (0, 1)
    with registry.connect() as conn:
        history = change_history(conn, entity="income", key="K1|2019")
    assert [(e["action"], e["actor"], e["entity_key"]) for e in history] == [
        ("create", "clerk", "K1|2019"),
        ("update", "office", "K1|2019"),
    ]
    assert history[1]["after"]["wage_income"] == 20400.0


def test_import_then_repository_is_one_history(registry: Engine) -> None:
    _household(registry, "K2")
    result = import_frame(registry, kind="income", frame=_income_frame("K2", 2018), actor="office")
    assert result.created == 1
    _upsert(registry, "K2", 2018, transfer_income=3400.0)
    with registry.connect() as conn:
        history = change_history(conn, entity="income", key="K2|2018")
    assert [(e["action"], e["actor"], e["entity_key"]) for e in history] == [
        ("create", "office", "K2|2018"),
        ("update", "clerk", "K2|2018"),
    ]


def test_history_under_the_old_import_spelling_is_found(registry: Engine) -> None:
    _household(registry, "K/3")  # a code with the old separator in it
    with registry.begin() as conn:  # what imports wrote before: the key joined by "/"
        record_change(
            conn, actor="old", action="create", entity="income", key="K/3/2017", after={"x": 1}
        )
    _upsert(registry, "K/3", 2017)
    with registry.connect() as conn:
        current = change_history(conn, entity="income", key="K/3|2017")
        legacy = change_history(conn, entity="income", key="K/3/2017")
    assert [(e["actor"], e["entity_key"]) for e in current] == [
        ("old", "K/3/2017"),
        ("clerk", "K/3|2017"),
    ]
    assert legacy == current


# the registry's kinds (department alerts are a file kind: checked, never stored as a table)
@pytest.mark.parametrize("kind", list(KINDS))
def test_single_column_keys_have_one_form(kind: str) -> None:
    table_kind = TABLE_KINDS[kind]
    if len(table_kind.key) == 1:
        assert table_kind.key_forms("A/B|C") == ("A/B|C",)
    else:  # income, income_months; a need is one per seeker and kind of need (with versions)
        assert table_kind.key in (
            ("household_code", "year"),
            ("household_code", "month"),
            ("seeker_id", "kind"),
        )


def test_income_months_key_text() -> None:
    kind = TABLE_KINDS["income_months"]
    text = kind.key_text({"household_code": "4501231012060001", "month": "2021-03"})
    assert text == "4501231012060001|2021-03"
    assert kind.key_forms(text)[0] == text


@given(
    code=st.text(st.characters(blacklist_characters="|", blacklist_categories=("Cs",)), min_size=1),
    year=st.integers(2010, 2035),
)
def test_income_key_forms_agree_for_either_spelling(code: str, year: int) -> None:
    kind = TABLE_KINDS["income"]
    text = kind.key_text({"household_code": code, "year": year})
    assert text == f"{code}|{year}"
    forms = kind.key_forms(text)
    assert forms[0] == text
    assert f"{code}/{year}" in forms
    assert kind.key_forms(f"{code}/{year}")[0] == text


def test_import_order_writes_referenced_kinds_first() -> None:
    from dongxi.store.importer import IMPORT_ORDER

    assert sorted(IMPORT_ORDER) == sorted(KINDS)
    assert set(TABLE_KINDS) - set(KINDS) == {"department_alerts"}
    for kind, description in TABLE_KINDS.items():
        for ref in description.refers_to:
            if kind in KINDS:
                assert IMPORT_ORDER.index(ref) < IMPORT_ORDER.index(kind), (kind, ref)
            assert len(TABLE_KINDS[ref].key) == 1
            assert any(c.name == TABLE_KINDS[ref].key[0] for c in description.columns)


def test_each_kinds_key_is_its_tables_primary_key() -> None:
    import sqlalchemy as sa

    from dongxi.intake.columns import FILE_KINDS, MARKET_KINDS, REGISTRY_KINDS
    from dongxi.store import ENTITIES

    # needs and offers are kept with their versions in the market's tables, not as entities;
    # department alerts are checked and open cases, they are not kept as a table
    assert sorted(ENTITIES) == sorted(REGISTRY_KINDS)
    assert sorted(REGISTRY_KINDS + MARKET_KINDS) == sorted(k for k in FILE_KINDS if k in KINDS)
    assert sorted(FILE_KINDS) == sorted(TABLE_KINDS)
    for name, model in ENTITIES.items():
        primary = tuple(str(c.key) for c in sa.inspect(model).primary_key)
        assert TABLE_KINDS[name].key == primary, name


def test_histories_of_several_records_are_each_ones_history(registry: Engine) -> None:
    from dongxi.store._changelog import change_histories

    _household(registry, "K/4")
    with registry.begin() as conn:  # an entry under the old spelling, found by both spellings
        record_change(
            conn, actor="old", action="create", entity="income", key="K/4/2017", after={"x": 1}
        )
    _upsert(registry, "K/4", 2017)
    _upsert(registry, "K/4", 2018)
    records = [
        ("households", "K/4"),
        ("income", "K/4|2017"),
        ("income", "K/4/2017"),
        ("income", "K/4|2018"),
        ("income", "K/4|2099"),  # no entry at all
    ]
    with registry.connect() as conn:
        together = change_histories(conn, records)
        one_by_one = {(e, k): change_history(conn, entity=e, key=k) for e, k in records}
    assert together == one_by_one
    assert together[("income", "K/4|2099")] == []
    assert len(together[("income", "K/4|2017")]) == 2
