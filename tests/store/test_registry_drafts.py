"""Needs drafted from the registry's people, on SQLite and PostgreSQL: working-age members with
labour capacity, out of school, of the households the help is for, with no need yet, get a draft
(never a stated need) within the principal's scope; the file goes back through ``dongxi import``
as stated needs, the drafts replaced."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from store_factories import household, id_number, person

from dongxi.cli import main
from dongxi.errors import InputError, NotFoundError, PermissionDeniedError
from dongxi.services import drafted_needs
from dongxi.services.principal import Principal
from dongxi.store import create_household, create_person, create_record, session_scope
from dongxi.store.market_models import current_needs, save_needs
from dongxi.store.models import Measure, Person
from dongxi.store.scope import Scope

ADMIN = Principal(name="clerk", role="admin", scope=Scope.everything())
DAY = dt.date(2026, 6, 30)
TOWNSHIP = "450123100"  # the factories' village 450123100200 lies in it
OTHER_VILLAGE = "450123101201"  # another township of the same county


def _born(age: int, *, day: dt.date = DAY) -> dt.date:
    """Born on ``day`` ``age`` years earlier: exactly ``age`` on ``day``."""
    return day.replace(year=day.year - age)


def _household(
    engine: Engine,
    members: list[dict[str, Any]],
    *,
    status: str = "escaped",
    village: str = "450123100200",
    net: bool = False,
) -> str:
    code = f"R{uuid.uuid4().hex[:10]}"
    extra: dict[str, Any] = {"year_exited": 2019} if status == "escaped" else {}
    if status == "monitored":
        extra["monitoring_category"] = "marginal"
    with session_scope(engine) as session:
        create_household(
            session, actor="clerk",
            data=household(code, status=status, village_code=village, **extra),
        )  # fmt: skip
        for no, member in enumerate(members, start=1):
            data = dict(member)
            born = data.pop("birth_date")
            create_person(
                session, actor="clerk",
                id_number=id_number(100 + (int(code[1:7], 16) + no) % 800, birth=born),
                data=person(code, no, birth_date=born, **data),
            )  # fmt: skip
        if net:
            create_record(
                session, actor="clerk", model=Measure,
                data={"measure_code": f"M{code}", "household_code": code,
                      "batch": "social_security", "subtype": "低保", "funds": 3600.0,
                      "fund_source": "west_fiscal", "status": "in_progress"},
            )  # fmt: skip
    return code


def _current(engine: Engine, codes: list[str]) -> pd.DataFrame:
    """The current needs of these households: seeker, draft, hours."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT seeker_id, draft, hours_per_day, places FROM market_needs "
                "WHERE valid_to IS NULL AND household_code IN :codes ORDER BY seeker_id"
            ).bindparams(sa.bindparam("codes", expanding=True)),
            conn,
            params={"codes": codes},
        )


def test_who_gets_a_draft(registry: Engine, tmp_path: Path) -> None:
    able = _household(
        registry,
        [
            {"birth_date": _born(40)},  # 1 drafted
            {"birth_date": _born(17), "school_status": "senior"},  # at school
            {"birth_date": _born(61), "labour_capacity": "weak"},  # 61 on the day: too old
            {"birth_date": _born(30), "labour_capacity": "skilled", "skills": "电焊",
             "education": "vocational"},  # 4 drafted
            {"birth_date": _born(35), "labour_capacity": "lost"},  # no labour capacity
            {"birth_date": _born(60), "labour_capacity": "weak"},  # 6 drafted: 60 on the day
            {"birth_date": _born(16), "school_status": "dropout"},  # 7 drafted: 16 on the day
            {"birth_date": _born(16) + dt.timedelta(days=1)},  # 15 until tomorrow
        ],
    )  # fmt: skip
    never = _household(registry, [{"birth_date": _born(40)}], status="never")
    net = _household(registry, [{"birth_date": _born(40)}], status="registered_poor", net=True)
    spoken = _household(
        registry,
        [{"birth_date": _born(40)}, {"birth_date": _born(41)}, {"birth_date": _born(42)}],
        status="monitored",
    )
    with registry.connect() as conn:
        first = conn.execute(
            sa.select(Person.id_hash).where(Person.household_code == spoken, Person.member_no == 1)
        ).scalar_one()
    # member 1 stated a training need on the household's page (seeker: the keyed hash); member
    # 2 has a stated need imported as "<household>-2"; member 3 has none
    stated = [
        {"seeker_id": first, "household_code": spoken, "county_code": "450123", "kind": "training"},
        {"seeker_id": f"{spoken}-2", "household_code": spoken, "county_code": "450123"},
    ]
    save_needs(registry, pd.DataFrame(stated), actor="cadre")

    # without --write: the file lists what would be drafted, the registry is unchanged
    dry = drafted_needs.export_registry_drafts(
        principal=ADMIN, out=tmp_path / "dry.xlsx", engine=registry, as_of=DAY
    )
    expected = sorted([f"{able}-1", f"{able}-4", f"{able}-6", f"{able}-7", f"{spoken}-3"])
    assert sorted(dry.drafted) == expected and not dry.written
    assert _current(registry, [able]).empty

    run = drafted_needs.export_registry_drafts(
        principal=ADMIN, out=tmp_path / "drafts.xlsx", write=True, engine=registry, as_of=DAY
    )
    assert sorted(run.drafted) == expected and run.written
    for name in ("dry.xlsx", "drafts.xlsx"):
        table = pd.read_excel(tmp_path / name, dtype=str, engine="calamine")
        mine = table[table["户编号"].isin([able, never, net, spoken])]
        assert mine["人员编号"].tolist() == expected
    skilled = mine.set_index("人员编号").loc[f"{able}-4"]
    assert (skilled["技能"], skilled["年龄"], skilled["县代码"]) == ("电焊", "30", "450123")
    assert (skilled["文化程度"], skilled["劳动技能"], skilled["户类型"]) == (
        "中专/中职/技校",
        "技能劳动力",
        "已脱贫户",
    )
    assert mine.set_index("人员编号").loc[f"{spoken}-3", "户类型"] == "监测对象"
    assert "待干部与农户核实确认" in skilled["具体需求"]
    # drafts, not stated needs: the matching does not see them
    assert not set(current_needs(registry)["seeker_id"]) & set(run.drafted)
    drafts = _current(registry, [able, spoken])
    assert drafts.loc[drafts["draft"].astype(bool), "seeker_id"].tolist() == expected
    with registry.connect() as conn:
        logged = conn.execute(
            sa.text(
                "SELECT count(*) FROM change_log WHERE entity = 'market_needs' "
                "AND (entity_key LIKE :a OR entity_key LIKE :b)"
            ),
            {"a": f"{able}-%", "b": f"{spoken}-3%"},
        ).scalar_one()
    assert logged == len(expected)
    # a second run drafts nothing twice; the file still lists every draft
    again = drafted_needs.export_registry_drafts(
        principal=ADMIN, out=tmp_path / "again.csv", write=True, engine=registry, as_of=DAY
    )
    assert again.drafted == [] and again.rows >= len(expected)


def test_drafts_stay_in_the_scope(registry: Engine, tmp_path: Path) -> None:
    here = _household(registry, [{"birth_date": _born(40)}])
    there = _household(registry, [{"birth_date": _born(40)}], village=OTHER_VILLAGE)
    officer = Principal(name="town", role="township_officer", scope=Scope.region(TOWNSHIP))
    run = drafted_needs.export_registry_drafts(
        principal=officer, out=tmp_path / "town.xlsx", write=True, engine=registry, as_of=DAY
    )
    assert run.drafted == [f"{here}-1"]
    table = pd.read_excel(tmp_path / "town.xlsx", dtype=str, engine="calamine")
    assert there not in set(table["户编号"])
    assert _current(registry, [there]).empty
    # a region inside the scope narrows it; one outside is refused like a missing one
    county = Principal(name="county", role="county_officer", scope=Scope.region("450123"))
    inside = drafted_needs.export_registry_drafts(
        principal=county, write=True, region=OTHER_VILLAGE[:9], engine=registry, as_of=DAY
    )
    assert inside.drafted == [f"{there}-1"] and inside.path is None
    with pytest.raises(NotFoundError):
        drafted_needs.export_registry_drafts(
            principal=officer, out=tmp_path / "x.xlsx", region="450226", engine=registry
        )
    # a wider region than the scope stays the scope
    assert Scope.region(TOWNSHIP).narrowed("450000") == Scope.region(TOWNSHIP)


def test_drafting_needs_the_permissions(registry: Engine, tmp_path: Path) -> None:
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    with pytest.raises(PermissionDeniedError):  # may read, may not write
        drafted_needs.export_registry_drafts(principal=auditor, write=True, engine=registry)
    with pytest.raises(PermissionDeniedError):  # may read, may not export
        drafted_needs.export_registry_drafts(
            principal=auditor, out=tmp_path / "x.xlsx", engine=registry
        )
    with pytest.raises(InputError, match="--out"):  # nothing asked
        drafted_needs.export_registry_drafts(principal=ADMIN, engine=registry)


def test_a_need_recorded_on_the_page_closes_the_draft(registry: Engine) -> None:
    from dongxi.services import market_desk as desk

    code = _household(registry, [{"birth_date": _born(40)}, {"birth_date": _born(38)}])
    with session_scope(registry) as session:
        rows, _ = drafted_needs.draft_registry_needs(session, ADMIN, write=True, as_of=DAY)
    assert sorted(r["seeker_id"] for r in rows) == [f"{code}-1", f"{code}-2"]
    with registry.connect() as conn:
        id_hash = conn.execute(
            sa.select(Person.id_hash).where(Person.household_code == code, Person.member_no == 2)
        ).scalar_one()
    cadre = Principal(name="cadre", role="village_officer", scope=Scope.region(TOWNSHIP))
    with session_scope(registry) as session:
        desk.record_need(
            session, cadre, household_code=code, id_hash=id_hash,
            need=desk.NeedInput(kind="employment", places=["440300"]), today=DAY,
        )  # fmt: skip
    now = _current(registry, [code]).set_index("seeker_id")["draft"].astype(bool).to_dict()
    assert now == {f"{code}-1": True, id_hash: False}  # member 2's draft closed, stated instead
    with registry.connect() as conn:
        closed = conn.execute(
            sa.text(
                "SELECT count(*) FROM change_log WHERE entity = 'market_needs' "
                "AND action = 'update' AND entity_key = :k"
            ),
            {"k": f"{code}-2/employment"},
        ).scalar_one()
    assert closed == 1
    with session_scope(registry) as session:  # and member 2 is not drafted again
        again, _ = drafted_needs.draft_registry_needs(session, ADMIN, write=True, as_of=DAY)
    assert [r["seeker_id"] for r in again if r["household_code"] == code] == []
    # the household's page names the members and marks the draft as one
    from dongxi.services.household_record import household_record

    with session_scope(registry) as session:
        record = household_record(session, cadre, household_code=code)
    shown = {(n["member_no"], n["draft"], n["current"]) for n in record.needs}
    assert shown == {(1, True, True), (2, True, False), (2, False, True)}
    assert all(n["name"] for n in record.needs)


@pytest.fixture
def cli_url(registry: Engine, registry_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from dongxi.settings import get_settings

    monkeypatch.setenv("DONGXI_DATABASE_URL", registry_url)
    get_settings.cache_clear()
    yield registry_url
    get_settings.cache_clear()


def test_drafts_confirmed_through_the_command_line(
    registry: Engine, cli_url: str, tmp_path: Path, capsys: Any
) -> None:
    code = _household(
        registry,
        [{"birth_date": _born(40, day=dt.date.today())},
         {"birth_date": _born(35, day=dt.date.today())}],
    )  # fmt: skip
    out = tmp_path / "草拟需求.xlsx"
    region = "450123100200"
    assert main(["needs", "draft", "--region", region, "--write", "--out", str(out)]) == 0
    assert "needs drafted and kept in the registry" in capsys.readouterr().out
    table = pd.read_excel(out, dtype=str, engine="calamine")
    table = table[table["户编号"] == code].reset_index(drop=True)
    assert table["人员编号"].tolist() == [f"{code}-1", f"{code}-2"]
    # the cadre confirms member 1 with the household (places, wage, a carer's hours) and
    # deletes member 2's row (not looking for work); then imports the file back
    table.loc[0, "意向务工地代码"] = "450123"
    table.loc[0, "期望月工资(元)"] = "2500"
    table["每天最多可工作小时数"] = ["4", None]
    confirmed = tmp_path / "核实后.xlsx"
    table.iloc[[0]].to_excel(confirmed, index=False)
    assert main(["import", str(confirmed)]) == 0
    now = _current(registry, [code]).set_index("seeker_id")
    assert not bool(now.loc[f"{code}-1", "draft"]) and now.loc[f"{code}-1", "hours_per_day"] == 4
    assert now.loc[f"{code}-1", "places"] == "450123"
    assert bool(now.loc[f"{code}-2", "draft"])  # deleted from the file: still a draft
    assert f"{code}-1" in set(current_needs(registry)["seeker_id"])
    with registry.connect() as conn:
        versions = conn.execute(
            sa.text(
                "SELECT draft, valid_to FROM market_needs WHERE seeker_id = :s ORDER BY need_id"
            ),
            {"s": f"{code}-1"},
        ).all()
    assert [bool(d) for d, _ in versions] == [True, False]  # the draft closed, replaced
    assert versions[0][1] is not None and versions[1][1] is None
    # a confirmed need is not drafted again
    assert main(["needs", "draft", "--region", region, "--write"]) == 0
    assert "0 needs drafted" in capsys.readouterr().out


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(dt.date(2001, 1, 1), dt.date(2035, 12, 31)),
    days_old=st.integers(0, 75 * 366),
)
def test_the_birth_date_bounds_are_the_working_ages(day: dt.date, days_old: int) -> None:
    """The query's birth-date bounds select exactly the people aged 16–60 on the day (leap days
    included)."""
    low, high = drafted_needs.WORKING_AGE
    born = day - dt.timedelta(days=days_old)
    inside = (
        drafted_needs._years_before(day, high + 1) < born <= drafted_needs._years_before(day, low)
    )
    assert inside == (low <= drafted_needs._age(born, day) <= high)
