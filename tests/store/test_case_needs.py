"""Needs drafted from monitoring cases, on SQLite and PostgreSQL: a consented development
household gets a draft per working-age member with labour capacity (out of school), none for a
safety-net household (no labour capacity, or a 低保/特困 measure), none before consent or after
'not included'; drafts stay out of matching, a second run drafts nothing twice, and importing the
drafts' file back makes them stated needs."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import household, id_number, person

from dongxi.errors import PermissionDeniedError
from dongxi.services import case_needs, cases
from dongxi.services.imports import import_file
from dongxi.services.principal import Principal
from dongxi.store import create_household, create_person, create_record, session_scope
from dongxi.store.market_models import current_needs
from dongxi.store.models import Measure
from dongxi.store.scope import Scope

ADMIN = Principal(name="clerk", role="admin", scope=Scope.everything())
TODAY = cases.today()


def _born(age: int) -> dt.date:
    return dt.date(TODAY.year - age, 1, 1)


def _household(engine: Engine, members: list[dict[str, object]], *, net: bool = False) -> str:
    code = f"N{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        create_household(session, actor="clerk", data=household(code, status="escaped",
                                                                year_exited=2019))  # fmt: skip
        for no, extra in enumerate(members, start=1):
            born = extra.pop("birth_date")  # type: ignore[arg-type]
            create_person(
                session, actor="clerk",
                id_number=id_number(100 + (int(code[1:7], 16) + no) % 800, birth=born),  # type: ignore[arg-type]
                data=person(code, no, birth_date=born, **extra),
            )  # fmt: skip
        if net:
            create_record(
                session, actor="clerk", model=Measure,
                data={"measure_code": f"M{code}", "household_code": code,
                      "batch": "social_security", "subtype": "低保", "funds": 3600.0,
                      "fund_source": "west_fiscal", "status": "in_progress"},
            )  # fmt: skip
    return code


def _case(engine: Engine, code: str, steps: list[str]) -> None:
    with session_scope(engine) as session:
        case = cases.open_case(
            session, ADMIN, household_code=code, procedure="identification",
            channel="cadre_sweep", category="unstable_escaped", opened_on=TODAY,
        )  # fmt: skip
        for to in steps:
            cases.advance(session, ADMIN, case_id=case.id, to=to, on_date=TODAY)


def test_drafted_needs_from_consented_cases(registry: Engine, tmp_path: Path) -> None:
    able = _household(
        registry,
        [
            {"birth_date": _born(40)},  # drafted
            {"birth_date": _born(17), "school_status": "senior"},  # at school
            {"birth_date": _born(70), "labour_capacity": "weak"},  # beyond working age
            {
                "birth_date": _born(30),
                "labour_capacity": "skilled",
                "skills": "电焊",
                "education": "vocational",
            },  # drafted
            {"birth_date": _born(35), "labour_capacity": "lost"},  # no labour capacity
        ],
    )
    no_labour = _household(registry, [{"birth_date": _born(50), "labour_capacity": "none"}])
    net = _household(registry, [{"birth_date": _born(45)}], net=True)
    early = _household(registry, [{"birth_date": _born(45)}])
    refused = _household(registry, [{"birth_date": _born(45)}])
    _case(registry, able, ["home_visit", "consent", "data_check"])
    _case(registry, no_labour, ["home_visit", "consent"])
    _case(registry, net, ["home_visit", "consent"])
    _case(registry, early, ["home_visit"])
    _case(registry, refused, ["home_visit", "consent", "not_included"])

    out = tmp_path / "drafts.xlsx"
    run = case_needs.export_draft_needs(principal=ADMIN, out=out, engine=registry)
    assert sorted(run.drafted) == [f"{able}-1", f"{able}-4"]
    assert sorted(run.safety_net) == sorted([no_labour, net])
    table = pd.read_excel(out, dtype=str, engine="calamine")
    assert table["人员编号"].tolist() == [f"{able}-1", f"{able}-4"]
    skilled = table.iloc[1]
    county = str(household(able)["village_code"])[:6]
    assert (skilled["技能"], skilled["年龄"], skilled["县代码"]) == ("电焊", "30", county)
    assert "文化程度" in table.columns and "具体需求" in table.columns
    # a draft is not a stated need: the matching does not see it
    assert not set(current_needs(registry)["seeker_id"]) & set(run.drafted)
    # a second run drafts nothing twice; the file still lists the drafts
    again = case_needs.export_draft_needs(principal=ADMIN, out=tmp_path / "d2.csv", engine=registry)
    assert again.drafted == [] and again.rows == 2
    with registry.connect() as conn:
        logged = conn.execute(
            sa.text(
                "SELECT count(*) FROM change_log WHERE entity = 'market_needs' "
                "AND entity_key LIKE :k"
            ),
            {"k": f"{able}-%"},
        ).scalar_one()
    assert logged == 2
    # the cadre confirms one (deletes the other row) and imports the file back
    confirmed = tmp_path / "confirmed.xlsx"
    table.iloc[[1]].to_excel(confirmed, index=False)
    outcome = import_file(principal=ADMIN, file=confirmed, engine=registry)
    assert not outcome.errors
    stated = current_needs(registry)
    assert set(stated["seeker_id"]) & set(run.drafted) == {f"{able}-4"}
    with registry.connect() as conn:
        drafts = (
            conn.execute(
                sa.text(
                    "SELECT seeker_id FROM market_needs WHERE draft = :t AND valid_to IS NULL "
                    "AND household_code = :h"
                ),
                {"t": True, "h": able},
            )
            .scalars()
            .all()
        )
    assert drafts == [f"{able}-1"]


def test_drafting_needs_a_cadre(registry: Engine, tmp_path: Path) -> None:
    auditor = Principal(name="au", role="auditor", scope=Scope.everything())
    with pytest.raises(PermissionDeniedError):
        case_needs.export_draft_needs(principal=auditor, out=tmp_path / "x.csv", engine=registry)
