"""``dongxi measure --households-out``: the cadres' list of who is poor and why, in Chinese words,
with flags for exited households that fail a criterion and never-registered ones that are poor;
the terminal table at 80 columns; the headline cutoff each built-in spec's docs call "poor"."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.errors import SpecError
from dongxi.measure import load_spec
from dongxi.report import place_name

YEAR = 2019  # the poverty line of Guangxi (450000): 3,218 yuan
VILLAGE = "451422202210"  # 宁明县 寨安乡 下店村委会 (2023 divisions)
OK4 = (True, True, True, True)

# household: status, income, housing grade, water (quantity, quality, convenience, guarantee),
# members: (birth year, school status, insured)
HOUSEHOLDS = {
    # exited, and now below the line, in a C-grade house with unsafe water quality: relapse?
    "4514222022100001": ("escaped", 2950.0, "C", (True, False, True, True), [(1970, "n", True)]),
    # never registered, all met: not poor, no flag
    "4514222022100002": ("never", 9000.0, "A", OK4, [(1980, "n", True), (1982, "n", True)]),
    # never registered, two members uninsured: poor under the union — missed?
    "4514222022100003": (
        "never",
        8000.0,
        "B",
        OK4,
        [(1960, "n", False), (1990, "n", False), (1992, "n", True)],
    ),
    # registered poor, a 12-year-old dropped out, water too far: poor, no flag
    "4514222022100004": (
        "registered_poor",
        5000.0,
        "D",
        (True, True, False, True),
        [(1985, "n", True), (2007, "dropout", True)],
    ),
}


def _data(tmp_path: Path) -> Path:
    rows = []
    for code, (status, income, grade, water, members) in HOUSEHOLDS.items():
        for no, (birth, school, insured) in enumerate(members, start=1):
            rows.append(
                {
                    "household_code": code,
                    "village_code": VILLAGE,
                    "county_code": VILLAGE[:6],
                    "status": status,
                    "member_no": no,
                    "relation": "head" if no == 1 else "child",
                    "birth_year": birth,
                    "school_status": "dropout" if school == "dropout" else "not_in_school",
                    "medical_insurance": insured,
                    "net_income_per_capita": income,
                    "housing_grade": grade,
                    "water_quantity_ok": water[0],
                    "water_quality_ok": water[1],
                    "water_convenience_ok": water[2],
                    "water_guarantee_ok": water[3],
                }
            )
    path = tmp_path / "office.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path, str]:
    tmp_path = tmp_path_factory.mktemp("list")
    out = tmp_path / "清单.xlsx"
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        code = main(
            [
                "measure",
                "--spec",
                "china_official",
                "--data",
                str(_data(tmp_path)),
                "--year",
                str(YEAR),
                "--province",
                "450000",
                "--by",
                "county_code",
                "--households-out",
                str(out),
            ]
        )
    assert code == 0
    frame = pd.read_excel(out, engine="openpyxl", dtype=str).fillna("")
    return frame.set_index("户编号"), out, shown.getvalue()


def test_each_unmet_criterion_in_words(listing: tuple[pd.DataFrame, Path, str]) -> None:
    frame, _, _ = listing
    first = frame.loc["4514222022100001"]
    assert first["未达标项"].split("；") == [
        "人均纯收入 2,950 元，低于当年线 3,218 元",
        "住房不安全 (C级)",
        "饮水水质不达标",
    ]
    assert frame.loc["4514222022100003", "未达标项"] == "2 名成员未参加基本医疗保险"
    assert frame.loc["4514222022100004", "未达标项"].split("；") == [
        "有义务教育阶段适龄儿童失学辍学",
        "住房不安全 (D级)",
        "取水不方便",
    ]
    assert frame.loc["4514222022100002", "未达标项"] == ""
    assert list(frame["是否识别为贫困"]) == ["是", "否", "是", "是"]
    assert list(frame["未达标项数"]) == ["3", "0", "1", "3"]


def test_names_status_and_flags(listing: tuple[pd.DataFrame, Path, str]) -> None:
    frame, _, _ = listing
    assert set(frame["县"]) == {place_name(VILLAGE[:6])} == {"宁明县"}
    assert set(frame["乡镇"]) == {place_name(VILLAGE[:9])} and set(frame["村"]) == {
        place_name(VILLAGE)
    }
    assert list(frame["户类型"]) == ["已脱贫户", "一般农户", "一般农户", "建档立卡贫困户"]
    assert frame.loc["4514222022100001", "提示"].startswith("已脱贫户有未达标项")
    assert frame.loc["4514222022100003", "提示"].startswith("一般农户识别为贫困")
    assert frame.loc["4514222022100002", "提示"] == frame.loc["4514222022100004", "提示"] == ""
    assert "户主姓名" not in frame.columns  # the data hold no names


def test_workbook_has_chinese_headers_and_a_filter(listing: tuple[pd.DataFrame, Path, str]) -> None:
    _, path, _ = listing
    sheet = openpyxl.load_workbook(path)["户清单"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["县", "乡镇", "村", "户编号"]
    assert sheet.auto_filter.ref == sheet.dimensions
    assert sheet.freeze_panes == "A2"


def test_terminal_table_fits_80_columns(listing: tuple[pd.DataFrame, Path, str]) -> None:
    _, _, text = listing
    lines = text.splitlines()
    assert max(len(line) + sum(1 for ch in line if ord(ch) > 0x2E80) for line in lines) <= 80
    assert "宁明县" in text and "任一项未达标即为贫困" in text
    assert "k = 20.00" not in text
    # H of the 4 households' 8 people: 6 poor (households 1, 3 and 4) = 75.0 %
    h_row = next(line for line in lines if line.startswith("全部 all") and " H " in line)
    assert "75.0%" in h_row and "4 户/8 人" in h_row
    assert "标准误 SE" in text  # the SE column is there


def test_headline_cutoffs_of_the_builtin_specs() -> None:
    assert load_spec("guangxi_rural").headline_k == 33.33  # its docs: poor at k = 1/3
    assert load_spec("china_official").headline_k == "union"
    assert load_spec("global_mpi").headline_k == 33.33
    with pytest.raises(SpecError, match="poor_k"):
        load_spec(
            {
                "name": "x",
                "k": [20, 40],
                "poor_k": 33,
                "dimensions": [{"name": "d", "indicators": [{"name": "a", "column": "a"}]}],
            }
        )
