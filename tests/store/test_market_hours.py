"""Hours a day on needs and offers (migration 0015), on SQLite and PostgreSQL: ``dongxi import``
keeps 每天最多可工作小时数 / 每天工作小时数 from Chinese files, the registry refuses hours outside
0.5–24, and a registry round of workshop places leaves a carer who can give 4 hours a day out of
an 8-hour workshop, saying why in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from store_factories import BACKENDS

from dongxi.cli import main
from dongxi.errors import DongxiError
from dongxi.store.db import make_engine, upgrade
from dongxi.store.market_models import current_needs, current_offers, latest_run, save_needs

NEEDS = {
    "人员编号": ["CARER", "FREE"],
    "户编号": ["H01", "H02"],
    "县代码": ["450226", "450226"],
    "需求类型": ["就业", "就业"],
    "户类型": ["脱贫户", "脱贫户"],
    "年龄": [38, 30],
    "文化程度": ["初中", "初中"],
    "劳动技能": ["普通劳动力", "普通劳动力"],
    "每天最多可工作小时数": [4, None],
}
WORKSHOPS = {
    "岗位编号": ["W1"],
    "供给类型": ["帮扶车间"],
    "工作地代码": ["450226"],
    "月工资(元)": [2200],
    "名额": [2],
    "每天工作小时数": [8],
}


@pytest.fixture
def cli_registry(empty_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A registry at head that the command line uses (``DONGXI_DATABASE_URL``)."""
    from dongxi.settings import get_settings

    upgrade(empty_url)
    monkeypatch.setenv("DONGXI_DATABASE_URL", empty_url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield empty_url
    get_settings.cache_clear()


def _xlsx(path: Path, columns: dict[str, list[Any]]) -> Path:
    pd.DataFrame(columns).to_excel(path, index=False)
    return path


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_hours_a_day_imported_kept_and_matched(
    cli_registry: str, tmp_path: Path, capsys: Any
) -> None:
    # a cell outside 0.5–24 is reported with its row and column, nothing written
    bad = dict(NEEDS, 每天最多可工作小时数=[4, 30])
    report = tmp_path / "errors.csv"
    assert main(["import", str(_xlsx(tmp_path / "bad.xlsx", bad)), "--report", str(report)]) == 1
    rejected = pd.read_csv(report, dtype=str)
    assert list(zip(rejected["row"], rejected["column"], rejected["rule"], strict=True)) == [
        ("3", "每天最多可工作小时数", "range")
    ]

    assert main(["import", str(_xlsx(tmp_path / "需求.xlsx", NEEDS))]) == 0
    assert main(["import", str(_xlsx(tmp_path / "车间.xlsx", WORKSHOPS))]) == 0
    engine = make_engine(cli_registry)
    try:
        needs = current_needs(engine).set_index("seeker_id")["hours_per_day"]
        assert needs["CARER"] == 4.0 and pd.isna(needs["FREE"])
        offers = current_offers(engine, kind="workshop").set_index("offer_id")
        assert offers.loc["W1", "hours_per_day"] == 8.0
        # the registry itself refuses hours outside 0.5–24 (its CHECK constraint)
        with pytest.raises(DongxiError):
            save_needs(
                engine,
                pd.DataFrame([{"seeker_id": "X", "county_code": "450226", "hours_per_day": 25}]),
                actor="test",
            )
        assert "X" not in set(current_needs(engine)["seeker_id"])
    finally:
        engine.dispose()

    capsys.readouterr()
    folder = tmp_path / "第1轮"
    assert main(["match", "--kind", "workshop", "--report", str(folder)]) == 0
    placements = pd.read_excel(folder / "placements.xlsx", dtype=str, engine="calamine")
    by_person = placements.fillna("").set_index("人员编号")
    assert by_person.loc["FREE", "岗位编号"] == "W1"
    assert by_person.loc["CARER", "岗位编号"] == ""
    assert by_person.loc["CARER", "未匹配原因"] == (
        "没有双方都可接受的帮扶车间岗位：每天工作（培训）时长超过本人能投入的时长，或未写明时长"
    )
    # the round's report says the same, person by person (what 'dongxi report' shows)
    engine = make_engine(cli_registry)
    try:
        report = latest_run(engine, kind="workshop")
    finally:
        engine.dispose()
    assert report is not None
    assert report["report"]["unmatched_seekers"] == [
        {
            "seeker_id": "CARER",
            "reason_zh": "本县没有符合本人意向（就近务工、工资、时长）的帮扶车间岗位："
            "每天工作（培训）时长超过本人能投入的时长，或未写明时长",
        }
    ]
