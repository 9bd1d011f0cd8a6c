"""Cells and headers that used to get through, or to be reported misleadingly (pure intake)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from dongxi.errors import InputError
from dongxi.intake.headers import check_header_row, detect_kind, to_canonical
from dongxi.intake.validate import RegistryView, validate_frame
from dongxi.pii.idnumber import build_id, check_character
from dongxi.services.imports import write_report
from dongxi.tables import read_table


def income_rows(**overrides: str) -> pd.DataFrame:
    row = {
        "户编号": "H1",
        "年度": "2019",
        "工资性收入": "20000",
        "生产经营性收入": "6000",
        "财产性收入": "200",
        "转移性收入": "3000",
        "生产经营性支出": "2200",
        "家庭人口": "3",
    }
    return pd.DataFrame([row | overrides])


def errors_of(
    frame: pd.DataFrame, kind: str, **view: object
) -> list[tuple[int | None, str | None, str | None, str]]:
    canon, headers = to_canonical(frame, kind)  # type: ignore[arg-type]
    registry = RegistryView(check_regions=False, **view)  # type: ignore[arg-type]
    checked = validate_frame(canon, kind=kind, registry=registry, headers=headers)  # type: ignore[arg-type]
    return [(e.row, e.column, e.value, e.rule) for e in checked.errors]


@pytest.mark.parametrize("text", ["inf", "-Infinity", "1e400", "nan", "NaN", " -nan "])
def test_non_finite_incomes_are_refused(text: str) -> None:
    got = errors_of(income_rows(工资性收入=text), "income", households=frozenset({"H1"}))
    assert got == [(2, "工资性收入", text, "number_finite")]


def test_typed_infinite_numbers_are_refused_too() -> None:
    frame = pd.DataFrame(
        {
            "household_code": ["H1"],
            "year": [2019],
            "wage_income": [float("inf")],
            "operating_income": [1.0],
            "property_income": [0.0],
            "transfer_income": [0.0],
            "production_costs": [0.0],
            "household_size": [2],
        }
    )
    checked = validate_frame(
        frame, kind="income", registry=RegistryView(households=frozenset({"H1"}))
    )
    assert [(e.column, e.rule) for e in checked.errors] == [("wage_income", "number_finite")]


def test_whole_numbers_beyond_the_registry_integer_are_refused() -> None:
    got = errors_of(income_rows(家庭人口="99999999999"), "income", households=frozenset({"H1"}))
    assert (2, "家庭人口", "99999999999", "range") in got


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\ufffe"])
def test_control_characters_are_refused_and_the_report_stays_writable(
    char: str, tmp_path: Path
) -> None:
    frame = pd.DataFrame([{"帮扶责任人编号": "P1", "姓名": f"王{char}五", "单位": f"乡{char}府"}])
    canon, headers = to_canonical(frame, "helpers")
    checked = validate_frame(
        canon, kind="helpers", registry=RegistryView(check_regions=False), headers=headers
    )
    got = [(e.row, e.column, e.value, e.rule) for e in checked.errors if e.rule == "control_char"]
    # the name is never shown; the other cell, escaped (乡\\u00XX府, 8 characters), is cut to its
    # first character like any Chinese text in a message (docs/security.md: a shifted file can
    # put a name under any header)
    shown = "乡" + "*" * 7
    assert sorted(got, key=str) == sorted(
        [(2, "姓名", None, "control_char"), (2, "单位", shown, "control_char")], key=str
    )
    report = write_report(checked.errors, tmp_path / "report.xlsx")
    assert read_table(report, as_text=True)["value"].dropna().tolist() == [shown]


def _id_with_region(region: str) -> str:
    first17 = f"{region}19900101122"
    return first17 + check_character(first17)


def people_row(id_number: str, **overrides: str) -> pd.DataFrame:
    row = {
        "户编号": "H1",
        "成员序号": "1",
        "身份证号": id_number,
        "姓名": "测试",
        "与户主关系": "户主",
        "性别": "女",  # the ID numbers below end their sequence in an even digit
        "出生日期": "1990-01-01",
        "民族": "壮族",
        "文化程度": "初中",
        "在校生状况": "非在校生",
        "健康状况": "健康",
        "参加城乡居民基本医疗保险": "是",
        "参加城乡居民基本养老保险": "是",
        "劳动技能": "普通劳动力",
        "务工状况": "省外务工",
        "务工地代码": "440300",
    }
    return pd.DataFrame([row | overrides])


def test_id_number_with_no_province_is_refused_though_its_check_digit_is_valid() -> None:
    fake = _id_with_region("000000")
    got = errors_of(people_row(fake), "people", households=frozenset({"H1"}))
    assert [(r, c, rule) for r, c, _v, rule in got] == [(2, "身份证号", "id_region")]
    real = build_id(region_code="450123", birth_date=dt.date(1990, 1, 1), sequence=122)
    assert errors_of(people_row(real), "people", households=frozenset({"H1"})) == []


@pytest.mark.parametrize(
    "as_number",
    ["4.50102199001011E+17", "4.50102199001011e17", "450102199001011234.0", "45010219900101123"],
)
def test_id_number_stored_as_a_number_says_the_column_must_be_text(as_number: str) -> None:
    got = errors_of(people_row(as_number), "people", households=frozenset({"H1"}))
    assert [(c, rule) for _r, c, _v, rule in got if c == "身份证号"] == [
        ("身份证号", "id_as_number")
    ]


def test_work_region_must_have_a_province_prefix() -> None:
    real = build_id(region_code="450123", birth_date=dt.date(1990, 1, 1), sequence=122)
    got = errors_of(people_row(real, 务工地代码="000000"), "people", households=frozenset({"H1"}))
    assert got == [(2, "务工地代码", "000000", "region_province")]


# --- recognising the kind -----------------------------------------------------------------------


def test_missing_required_column_is_named() -> None:
    headers = ["户编号", "成员序号", "姓名", "与户主关系", "性别"]  # no 身份证号
    with pytest.raises(InputError, match=r"look like people but the required column\(s\) 身份证号"):
        detect_kind(headers)


def test_doubled_column_is_named() -> None:
    headers = ["户编号", "户码", "村代码", "户类型"]
    with pytest.raises(InputError, match="Two columns, '户编号' and '户码'") as info:
        detect_kind(headers)
    assert info.value.rule == "duplicate_header"


def test_title_row_above_the_headers_is_recognised() -> None:
    frame = pd.DataFrame(
        [["户编号", "年度", "工资性收入"], ["H1", "2019", "100"]],
        columns=["隆安县2019年收入表", "Unnamed: 1", "Unnamed: 2"],
    )
    with pytest.raises(InputError, match="Row 1 holds only a title") as info:
        detect_kind([str(c) for c in frame.columns], next_row=frame.iloc[0].tolist())
    assert (info.value.rule, info.value.row) == ("title_row", 1)
    assert "Delete row 1" in str(info.value.fix)
    with pytest.raises(InputError, match="Row 1 holds only a title"):
        check_header_row(frame)
    # a table whose second row is data, not headers, is left alone
    check_header_row(pd.DataFrame([["H1"]], columns=["户编号"]))
