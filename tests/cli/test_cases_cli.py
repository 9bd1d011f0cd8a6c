"""``dongxi monitor cases|overdue|advance|open`` and ``dongxi notice …`` on a SQLite registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.services.cases import today
from dongxi.services.imports import import_tables
from dongxi.services.principal import Principal
from dongxi.store.db import upgrade
from dongxi.synth import generate


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A registry of 30 synthetic households; the URL and two households of one village."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cases') / 'registry.db'}"
    upgrade(url)
    data = generate(households=30, seed=5, years=(2019,))
    state = data.rounds[2019]
    import_tables(
        principal=Principal(name="t", role="admin"),
        url=url,
        frames={"helpers": data.helpers, "households": state.households, "people": state.people},
        source_name="synth",
    )
    hh = state.households
    village = hh["village_code"].iloc[0]
    codes = hh[hh["village_code"] == village]["household_code"].tolist()
    assert len(codes) >= 2
    return url, str(codes[0]), str(codes[1])


def test_a_case_from_the_command_line(
    registry: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, first, _ = registry
    assert main(["monitor", "open", first, "--channel", "self_declaration", "--url", url]) == 0
    assert "预警" in capsys.readouterr().out
    out = tmp_path / "cases.xlsx"
    assert main(["monitor", "cases", "--out", str(out), "--url", url]) == 0
    table = pd.read_excel(out, dtype=str, engine="calamine")
    assert list(table.columns)[:5] == ["案件编号", "户编号", "所在村", "程序", "当前环节"]
    row = table[table["户编号"] == first].iloc[0]
    assert (row["当前环节"], row["发现渠道"], row["是否逾期"]) == ("预警", "农户自主申报", "否")
    case = row["案件编号"]
    # the warning is due in 3 days: on the 3rd day not late, on the 4th late
    later = today() + dt.timedelta(days=4)
    csv = tmp_path / "overdue.csv"
    assert main(["monitor", "overdue", "--as-of", later.isoformat(), "--out", str(csv),
                 "--url", url]) == 0  # fmt: skip
    late = pd.read_csv(csv, dtype=str, encoding="utf-8-sig")
    assert late[late["户编号"] == first]["本环节逾期天数"].tolist() == ["1"]
    on_time = today() + dt.timedelta(days=3)
    assert main(["monitor", "overdue", "--as-of", on_time.isoformat(), "--out", str(csv),
                 "--url", url]) == 0  # fmt: skip
    assert first not in pd.read_csv(csv, dtype=str, encoding="utf-8-sig")["户编号"].tolist()
    assert main(["monitor", "advance", case, "--to", "home_visit", "--comment", "入户",
                 "--url", url]) == 0  # fmt: skip
    assert "入户核实" in capsys.readouterr().out
    # a step the procedure does not have: one message, exit status 2
    assert main(["monitor", "advance", case, "--to", "recorded", "--url", url]) == 2


def test_a_notice_from_the_command_line(
    registry: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, second = registry
    start = (today() - dt.timedelta(days=8)).isoformat()
    assert main(["notice", "create", "--kind", "exit", "--household", second, "--starts", start,
                 "--url", url]) == 0  # fmt: skip
    number = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["notice", "object", number, "--by", "村民小组长", "--text", "有异议",
                 "--url", url]) == 0  # fmt: skip
    assert main(["notice", "close", number, "--url", url]) == 2  # an objection is open
    assert "open objection" in capsys.readouterr().err
    assert main(["notice", "resolve", number, "--objection", "1", "--resolution", "已核实",
                 "--url", url]) == 0  # fmt: skip
    assert main(["notice", "close", number, "--url", url]) == 0
    out = tmp_path / "board.csv"
    assert main(["notice", "print", number, "--out", str(out), "--url", url]) == 0
    board = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert list(board.columns) == ["序号", "户编号", "户主姓名", "所在村"]
    assert board["户编号"].tolist() == [second]


def test_department_alerts_open_warning_cases(
    registry: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, first, _ = registry
    data = generate(households=30, seed=5, years=(2019,))
    people = data.rounds[2019].people
    codes = data.rounds[2019].households["household_code"].astype(str).tolist()
    third = codes[2]  # matched by a member's ID number (its keyed hash)
    member = people[people["household_code"] == third].iloc[0]
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"部门": ["医保局", "税务局"], "户编号": [codes[3], None], "身份证号": [None, None],
         "预警日期": ["2026-10-01", "2026-10-02"], "预警类型": ["大额医疗支出", "x"]}
    ).to_csv(bad, index=False)  # fmt: skip
    report = tmp_path / "report.csv"
    assert main(["monitor", "alerts", str(bad), "--report", str(report), "--url", url]) == 1
    rejected = pd.read_csv(report, dtype=str, encoding="utf-8-sig")
    assert set(rejected["rule"]) == {"domain", "alert_subject"}
    assert set(rejected["row"]) == {"3"}
    good = tmp_path / "alerts.csv"
    pd.DataFrame(
        {
            "部门": ["医保局", "民政局", "应急管理局", "教育局"],
            "户编号": [codes[3], None, first, "NO-SUCH"],
            "身份证号": [None, str(member["id_number"]), None, None],
            "预警日期": ["2026-10-01"] * 4,
            "预警类型": ["大额医疗支出", "申请低保", "房屋受灾", "辍学"],
            "金额(元)": [52000, None, None, None],
        }
    ).to_csv(good, index=False)
    capsys.readouterr()
    assert main(["monitor", "alerts", str(good), "--url", url]) == 0
    said = capsys.readouterr().out
    # the first household already has a case (opened by the first test, or opened here earlier)
    assert "4 alerts" in said and "rows 5" in said
    out = tmp_path / "cases.csv"
    assert main(["monitor", "cases", "--out", str(out), "--url", url]) == 0
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    alerts = table[table["发现渠道"] == "部门筛查预警"]
    assert {codes[3], third} <= set(alerts["户编号"])
    assert set(alerts["当前环节"]) == {"预警"}
    assert main(["monitor", "alerts", str(good), "--url", url]) == 0  # again: nothing new
    assert "0 cases opened" in capsys.readouterr().out


def test_dongxi_import_takes_department_alerts(
    registry: tuple[str, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dongxi.settings import get_settings

    url, *_ = registry
    monkeypatch.setenv("DONGXI_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        codes = generate(households=30, seed=5, years=(2019,)).rounds[2019].households
        fresh = str(codes["household_code"].iloc[-1])
        bad = tmp_path / "预警.xlsx"
        pd.DataFrame(
            {"预警部门": ["住建局", "医保局"], "户编号": [fresh, fresh],
             "预警日期": ["2026-10-01", "不是日期"], "预警类型": ["房屋鉴定为D级", "大额医疗支出"]}
        ).to_excel(bad, index=False)  # fmt: skip
        report = tmp_path / "errors.csv"
        # detected from its headers; one bad cell: nothing opened, the report lists it
        assert main(["import", str(bad), "--report", str(report)]) == 1
        assert "nothing opened" in capsys.readouterr().out
        rejected = pd.read_csv(report, dtype=str, encoding="utf-8-sig")
        assert rejected["row"].tolist() == ["3"]
        listed = tmp_path / "cases.csv"
        assert main(["monitor", "cases", "--out", str(listed), "--url", url]) == 0
        before = pd.read_csv(listed, dtype=str, encoding="utf-8-sig")
        assert fresh not in set(before["户编号"])
        good = tmp_path / "预警2.xlsx"
        pd.DataFrame(
            {"预警部门": ["住建局"], "户编号": [fresh], "预警日期": ["2026-10-01"],
             "预警类型": ["房屋鉴定为D级"]}
        ).to_excel(good, index=False)  # fmt: skip
        assert main(["import", str(good)]) == 0
        assert "1 cases opened" in capsys.readouterr().out
        assert main(["import", str(good), "--kind", "department_alerts"]) == 0  # named: same
        assert "0 cases opened" in capsys.readouterr().out
        assert main(["import", str(good), "--partial"]) == 2  # all or nothing, said so
        assert main(["monitor", "cases", "--out", str(listed), "--url", url]) == 0
        after = pd.read_csv(listed, dtype=str, encoding="utf-8-sig")
        row = after[after["户编号"] == fresh].iloc[0]
        assert (row["发现渠道"], row["当前环节"]) == ("部门筛查预警", "预警")
    finally:
        get_settings.cache_clear()


def test_needs_drafted_from_a_consented_case(
    registry: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, *_ = registry
    state = generate(households=30, seed=5, years=(2019,)).rounds[2019]
    code = str(state.households["household_code"].iloc[6])
    assert main(["monitor", "open", code, "--channel", "cadre_sweep", "--url", url]) == 0
    case = capsys.readouterr().out.split()[1]
    for to in ("home_visit", "consent"):
        assert main(["monitor", "advance", case, "--to", to, "--url", url]) == 0
    out = tmp_path / "drafts.csv"
    assert main(["monitor", "needs", "--out", str(out), "--url", url]) == 0
    said = capsys.readouterr().out
    people = state.people[state.people["household_code"].astype(str) == code]
    born = pd.to_datetime(people["birth_date"])
    now = pd.Timestamp(today())
    before_birthday = (born.dt.month > now.month) | (
        (born.dt.month == now.month) & (born.dt.day > now.day)
    )
    age = now.year - born.dt.year - before_birthday.astype(int)
    able = people[
        people["labour_capacity"].isin(["skilled", "normal", "weak"])
        & people["school_status"].isin(["not_in_school", "dropout"])
        & age.between(16, 60)
    ]
    expected = sorted(f"{code}-{int(n)}" for n in able["member_no"])
    if people["labour_capacity"].isin(["skilled", "normal", "weak"]).any():
        assert f"{len(expected)} needs drafted now" in said
        table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
        assert sorted(table[table["户编号"] == code]["人员编号"]) == expected
    else:
        assert "0 needs drafted now" in said and "1 safety-net" in said


def test_score_open_cases_needs_top(registry: tuple[str, str, str], tmp_path: Path) -> None:
    url, *_ = registry
    args = ["monitor", "score", "--year", "2019", "--out", str(tmp_path / "s.csv"), "--url", url]
    assert main([*args, "--top", "5"]) == 2  # --top without --open-cases: said, nothing done
    assert main([*args, "--open-cases"]) == 2
