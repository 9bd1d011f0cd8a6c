"""Needs and offers as a county office holds them: Chinese XLSX through ``dongxi import`` and
``dongxi match`` (every rejected cell reported; valid files written with their change log, then
matched in rounds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dongxi.cli import main

NEEDS_OK = {
    "人员编号": ["P001", "P002", "P003", "P004"],
    "户编号": ["H01", "H01", "H02", "H03"],
    "县代码": ["450226", "450226", "450226", "450226"],
    "需求类型": ["就业", "就业", "务工", "技能培训"],
    "户类型": ["脱贫户", "建档立卡贫困户", "监测户", "脱贫户"],
    "年龄": [35, 28, 40, 45],
    "文化程度": ["初中", "高中", "小学", "初中"],
    "劳动技能": ["普通劳动力", "技能劳动力", "普通劳动力", "弱劳动力"],
    "意向务工地代码": ["440100", "440100;440300", "440300", "450226"],
    "期望月工资(元)": [3000, 3500, 2800, 0],
    "需要住宿": ["是", "否", "是", "否"],
}
OFFERS_OK = {
    "岗位编号": ["J1", "J2", "T1"],
    "供给类型": ["岗位", "岗位", "培训名额"],
    "东部帮扶单位编号": ["E01", "E02", "E01"],
    "工作地代码": ["440100", "440300", "450226"],
    "行业": ["制造业", "服务业", "制造业"],
    "月工资(元)": [4200, 3900, 0],
    "名额": [1, 2, 20],
    "最低年龄": [18, 18, 16],
    "最高年龄": [45, 50, 60],
    "最低文化程度": ["初中", "小学", "小学"],
    "提供住宿": ["是", "是", "否"],
}


def _xlsx(path: Path, columns: dict[str, list[Any]]) -> Path:
    pd.DataFrame(columns).to_excel(path, index=False)
    return path


@pytest.fixture()
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from dongxi.settings import get_settings

    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    assert main(["db", "upgrade"]) == 0
    yield url
    get_settings.cache_clear()


def test_every_error_of_chinese_needs_and_offers_is_reported(
    tmp_path: Path, registry: str, capsys: Any
) -> None:
    needs = dict(NEEDS_OK)
    needs["县代码"] = ["450226", "450226", "45022X", "450226"]  # row 4
    needs["需求类型"] = ["就业", "就业", "务工", "开飞机"]  # row 5
    needs["年龄"] = [35, 12, 40, 45]  # row 3
    needs["期望月工资(元)"] = [3000, 3500, "很多", 0]  # row 4
    path = _xlsx(tmp_path / "需求.xlsx", needs)
    report = tmp_path / "errors.csv"
    assert main(["import", str(path), "--report", str(report)]) == 1
    rejected = pd.read_csv(report, dtype=str, keep_default_na=False)
    got = set(zip(rejected["row"], rejected["column"], rejected["rule"], strict=True))
    assert got == {
        ("3", "年龄", "range"),
        ("4", "县代码", "code_format"),
        ("4", "期望月工资(元)", "type_float"),
        ("5", "需求类型", "domain"),
    }
    by_rule = dict(zip(rejected["rule"], rejected["message_zh"], strict=True))
    assert by_rule["range"] == "超出允许范围 [16, 70]。"
    assert by_rule["type_float"] == "应为数字。"
    assert "就业(employment)" in by_rule["domain"]
    assert "nothing written" in capsys.readouterr().out

    offers = dict(OFFERS_OK)
    offers["岗位编号"] = ["J1", "J2", "J2"]  # row 4 repeats row 3
    offers["名额"] = [1, -2, 20]  # row 3
    offers["最低年龄"] = [18, 18, 50]  # row 4: 50 > 最高年龄 40
    offers["最高年龄"] = [45, 50, 40]
    offers["工作地代码"] = ["440100", "999999", "450226"]  # row 3: no such region
    path = _xlsx(tmp_path / "岗位.xlsx", offers)
    assert main(["import", str(path), "--report", str(report)]) == 1
    rejected = pd.read_csv(report, dtype=str, keep_default_na=False)
    got = set(zip(rejected["row"], rejected["column"], rejected["rule"], strict=True))
    assert got == {
        ("3", "名额", "range"),
        ("3", "工作地代码", "region_unknown"),
        ("4", "最低年龄", "age_order"),
        ("4", "岗位编号", "duplicate_key"),
    }
    assert "与第 3 行重复。" in set(rejected["message_zh"])
    # all or nothing: the registry holds no need and no offer
    from dongxi.store import make_engine
    from dongxi.store.market_models import current_needs, current_offers

    engine = make_engine(registry)
    assert current_needs(engine).empty
    assert current_offers(engine).empty


def test_table_mode_reports_every_error_of_chinese_files(tmp_path: Path, capsys: Any) -> None:
    needs = dict(NEEDS_OK)
    needs["年龄"] = [35, 12, 40, 200]
    offers = dict(OFFERS_OK)
    offers["名额"] = [1, "两个", 20]
    args = [
        "match",
        "--needs",
        str(_xlsx(tmp_path / "needs.xlsx", needs)),
        "--offers",
        str(_xlsx(tmp_path / "offers.xlsx", offers)),
    ]
    assert main(args) == 2
    out = capsys.readouterr().out
    # both files checked, every cell reported: 年龄 of rows 3 and 5, 名额 of row 3
    assert "rejected cells (3)" in out
    assert out.count("超出允许范围 [16, 70]") == 2 and "应为整数" in out
    assert "needs.xlsx" in out and "offers.xlsx" in out

    _xlsx(tmp_path / "needs.xlsx", NEEDS_OK)
    _xlsx(tmp_path / "offers.xlsx", OFFERS_OK)
    out_file = tmp_path / "m.csv"
    assert main([*args, "--out", str(out_file), "--report", str(tmp_path / "rep")]) == 0
    pairs = pd.read_csv(out_file, dtype=str, keep_default_na=False)
    # every kind present is matched on its own: employment needs with job posts, the training
    # need with the training seats (one placement per person per kind)
    by_kind = pairs.groupby("kind")["seeker_id"].apply(sorted).to_dict()
    assert by_kind == {"job": ["P001", "P002", "P003"], "training": ["P004"]}
    assert pairs.set_index("seeker_id").loc["P004", "offer_id"] == "T1"
    overall = pd.read_csv(tmp_path / "rep" / "overall.csv")
    assert list(overall["method"]) == ["stable", "stable"]  # --method decides what is shown
    assert list(overall["kind"]) == ["job", "training"]
    # --kind restricts the round to some kinds
    assert main([*args, "--out", str(out_file), "--kind", "training"]) == 0
    only = pd.read_csv(out_file, dtype=str, keep_default_na=False)
    assert only[["kind", "seeker_id", "offer_id"]].values.tolist() == [["training", "P004", "T1"]]


def test_imported_needs_and_offers_go_through_rounds(
    tmp_path: Path, registry: str, capsys: Any
) -> None:
    assert main(["import", str(_xlsx(tmp_path / "需求.xlsx", NEEDS_OK))]) == 0
    assert main(["import", str(_xlsx(tmp_path / "岗位.xlsx", OFFERS_OK))]) == 0
    from dongxi.store import make_engine
    from dongxi.store.market_models import current_needs, current_offers, proposal_history

    engine = make_engine(registry)
    needs = current_needs(engine).set_index("seeker_id")
    assert list(needs.index) == ["P001", "P002", "P003"]  # employment; P004 asked for training
    assert needs.loc["P002", "status"] == "registered_poor"
    assert needs.loc["P002", "places"] == "440100;440300"
    assert list(current_offers(engine)["offer_id"]) == ["J1", "J2"]
    assert list(current_offers(engine, kind="training")["offer_id"]) == ["T1"]
    with engine.connect() as conn:
        logged = pd.read_sql(
            "SELECT entity, action, COUNT(*) AS n FROM change_log "
            "WHERE entity LIKE 'market_%' GROUP BY entity, action",
            conn,
        )
    assert set(zip(logged["entity"], logged["n"], strict=True)) == {
        ("market_needs", 4),
        ("market_offers", 3),
    }
    capsys.readouterr()
    assert main(["match", "--report", str(tmp_path / "第1轮")]) == 0
    text = capsys.readouterr().out
    placements = pd.read_excel(
        tmp_path / "第1轮" / "placements.xlsx", dtype=str, engine="calamine"
    ).fillna("")
    by_person = placements.set_index("人员编号")
    assert by_person.loc["P002", "县"] == "三江侗族自治县"  # names, not codes
    assert by_person.loc["P002", "岗位编号"] == "J1"
    assert by_person.loc["P002", "工作地"].endswith("广州市")
    assert float(by_person.loc["P002", "月工资(元)"]) == 4200
    assert by_person.loc["P001", "岗位编号"] == ""
    assert by_person.loc["P001", "未匹配原因"].startswith("名额已满")
    assert "深圳市" in text and "J1" in text  # the terminal shows the round by name too
    # the training need is matched with the training seats in the same round, its own run
    trained = placements[placements["类型"] == "培训名额"].set_index("人员编号")
    assert trained.loc["P004", "岗位编号"] == "T1" and list(trained.index) == ["P004"]
    assert ", training, 1 proposals stored" in text
    run_id = text.split("run ")[1].split(":")[0].strip()
    history = proposal_history(engine, [run_id]).set_index("seeker_id")
    # J1 (广州, one place) goes to the registered-poor P002 first; P003 to J2 (深圳)
    assert history["offer_id"].to_dict() == {"P002": "J1", "P003": "J2"}
    declined = str(int(history.loc["P002", "proposal_id"]))
    answer = ["proposal", "respond", declined, "declined_by_seeker", "--actor", "c", "--role"]
    assert main([*answer, "cadre"]) == 0
    assert main(["match", "--after", run_id]) == 0
    text = capsys.readouterr().out
    assert "round 2" in text
    assert ", training, 1 proposals stored" in text  # the training chain goes on too
    run2 = text.split("run ")[1].split(":")[0].strip()
    again = proposal_history(engine, [run2]).set_index("seeker_id")["offer_id"].to_dict()
    # the declined pair is never proposed again: J1 goes to P001, P002 to its other place
    assert again == {"P001": "J1", "P002": "J2", "P003": "J2"}
