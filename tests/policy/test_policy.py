"""Policy parameters: built-in figures, scope resolution, overrides and their errors."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest

import dongxi.policy as policy
from dongxi.errors import InputError, NotFoundError, ValidationReportError
from dongxi.policy import PolicyValue, get_parameter, load_overrides


def test_exports_are_pinned() -> None:
    assert sorted(policy.__all__) == [
        "LAST_POVERTY_LINE_YEAR",
        "NATIONAL",
        "OVERRIDE_COLUMNS",
        "PolicyValue",
        "STATUSES",
        "all_parameters",
        "describe_parameters",
        "get_parameter",
        "income_line",
        "load_overrides",
        "normalise_scope",
        "parameter_names",
        "scope_chain",
    ]


@pytest.mark.parametrize(
    ("year", "value", "status"),
    [
        (2010, 2300, "verified"),
        (2013, 2736, "verified"),
        (2015, 2855, "verified"),
        (2017, 2952, "unverified"),
        (2020, 4000, "approximate"),
    ],
)
def test_poverty_line_by_year(year: int, value: float, status: str) -> None:
    got = get_parameter("poverty_line", year=year)
    assert got.value == value
    assert got.status == status
    assert got.unit == "yuan per person per year"
    assert got.scope == "national"


def test_poverty_line_applies_to_a_guangxi_county_through_national() -> None:
    assert get_parameter("poverty_line", year=2016, scope="450123").value == 2952


def test_every_builtin_carries_status_and_a_known_status() -> None:
    values = policy.all_parameters()
    assert len(values) >= 20
    for v in values:
        assert v.status in policy.STATUSES
        assert v.status != "user"
        if v.status in ("verified", "approximate", "example"):
            assert v.source, v


def test_shared_files_copied_unchanged(shared_dir: Path) -> None:
    root = Path(policy.__file__).parent / "data"
    for name in ("poverty_lines.csv", "monitoring_lines.csv"):
        ours = (root / name).read_bytes()
        assert ours == (shared_dir / "data" / "policy" / name).read_bytes()


def test_water_and_other_criteria() -> None:
    expected = {
        "water_litres_per_person_day": 35,
        "water_litres_per_person_day_dry_area": 20,
        "water_fetch_minutes": 20,
        "water_source_horizontal_m": 800,
        "water_source_vertical_m": 80,
        "water_outage_days_per_year": 36,
        "compulsory_school_age_from": 6,
        "compulsory_school_age_to": 15,
    }
    for name, value in expected.items():
        assert get_parameter(name, year=2020, scope="45").value == value


def test_monitoring_line_national_then_local_examples() -> None:
    line = get_parameter("monitoring_line", year=2021, scope="450000")
    assert (line.value, line.status) == (6000, "verified")
    local = get_parameter("monitoring_line", year=2022, scope="420381")  # a county of Shiyan
    assert (local.value, local.status, local.scope) == (6900, "example", "420300")
    with pytest.raises(NotFoundError, match=r"2022.*450000") as info:
        get_parameter("monitoring_line", year=2022, scope="450000")
    assert "420300 2022 (example)" in str(info.value)
    assert "override" in str(info.value)


def test_missing_year_names_the_years_and_the_fix() -> None:
    with pytest.raises(NotFoundError) as info:
        get_parameter("poverty_line", year=2025)
    text = str(info.value)
    assert "2025" in text
    assert "national 2010–2020" in text
    assert "load_overrides" in text


def test_unknown_name() -> None:
    with pytest.raises(NotFoundError, match="poverty_line"):
        get_parameter("povrety_line", year=2015)


def _value(
    scope: str, value: float, *, year: int = 2025, name: str = "poverty_line"
) -> PolicyValue:
    return PolicyValue(
        name=name,
        scope=scope,
        value=value,
        unit="yuan per person per year",
        effective_from=datetime.date(year, 1, 1),
        effective_to=datetime.date(year, 12, 31),
        status="user",
        source="test",
        note="",
    )


def test_scope_resolution_most_specific_and_overrides_win() -> None:
    overrides = [_value("national", 4500), _value("450000", 5000), _value("450100", 5200)]
    assert (
        get_parameter("poverty_line", year=2025, scope="450102", overrides=overrides).value == 5200
    )
    assert (
        get_parameter("poverty_line", year=2025, scope="450203", overrides=overrides).value == 5000
    )
    assert (
        get_parameter("poverty_line", year=2025, scope="440300", overrides=overrides).value == 4500
    )
    village = "450102001001"
    assert (
        get_parameter("poverty_line", year=2025, scope=village, overrides=overrides).value == 5200
    )
    # an override for a year the built-ins cover wins over the built-in figure
    over = [_value("national", 3000, year=2015)]
    assert get_parameter("poverty_line", year=2015, overrides=over).value == 3000
    # the built-in figure is still there for other years
    assert get_parameter("poverty_line", year=2014, overrides=over).value == 2800


def test_scope_chain_and_normalisation() -> None:
    assert policy.scope_chain("450102001001") == [
        "450102001001",
        "450102001",
        "450102",
        "450100",
        "450000",
        "national",
    ]
    assert policy.scope_chain("45") == ["450000", "national"]
    assert policy.normalise_scope("4501") == "450100"
    assert policy.normalise_scope("全国") == "national"
    with pytest.raises(InputError, match="scope"):
        policy.normalise_scope("45x")


def test_describe_parameters() -> None:
    table = policy.describe_parameters(name="poverty_line")
    assert list(table["years"])[:2] == ["2010", "2011"]
    assert set(table["name"]) == {"poverty_line"}
    assert {"status", "source", "note", "unit"} <= set(table.columns)
    assert "monitoring_line" in policy.parameter_names()
    with pytest.raises(NotFoundError):
        policy.describe_parameters(name="nope")


def test_load_overrides_csv_gb18030_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "省定标准.csv"
    text = (
        "参数,区划代码,数值,年度,来源,备注\n"
        'poverty_line,450000,"4,800",2021,桂政办发 example,省定标准\n'
        "monitoring_line,45,7000,2022,,\n"
    )
    path.write_bytes(text.encode("gb18030"))
    values = load_overrides(path)
    assert [(v.name, v.scope, v.value) for v in values] == [
        ("poverty_line", "450000", 4800.0),
        ("monitoring_line", "450000", 7000.0),
    ]
    assert all(v.status == "user" for v in values)
    assert values[0].unit == "yuan per person per year"
    assert values[1].source.endswith("row 3")
    got = get_parameter("monitoring_line", year=2022, scope="450921", overrides=values)
    assert got.value == 7000


def test_load_overrides_xlsx_with_dates(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    pd.DataFrame(
        {
            "name": ["water_litres_per_person_day", "village_income_target"],
            "scope": ["450000", "national"],
            "value": [40, 12000],
            "unit": ["", "yuan per village per year"],
            "effective_from": ["2023-01-01", "2024-01-01"],
            "effective_to": ["", "2024-12-31"],
        }
    ).to_excel(path, index=False)
    values = load_overrides(path)
    assert values[0].effective_to is None
    assert values[0].unit == "litres per person per day"
    assert (
        get_parameter(
            "water_litres_per_person_day", year=2030, scope="450102", overrides=values
        ).value
        == 40
    )
    assert (
        get_parameter(
            "water_litres_per_person_day", year=2030, scope="440102", overrides=values
        ).value
        == 35
    )
    assert get_parameter("village_income_target", year=2024, overrides=values).value == 12000


def test_load_overrides_reports_every_row_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,scope,value,year\n"
        "poverty_line,45x,4000,2021\n"  # row 2: bad scope
        "poverty_line,450000,-1,2021\n"  # row 3: negative value
        "poverty_line,450000,4000,20x1\n"  # row 4: bad year
        "new_thing,national,3,2021\n"  # row 5: unknown name without unit
        "poverty_line,450100,4000,2021\n"  # row 6 ok
        "poverty_line,450100,4100,2021\n",  # row 7 overlaps row 6
        encoding="utf-8",
    )
    with pytest.raises(ValidationReportError) as info:
        load_overrides(path)
    err = info.value
    assert err.file == str(path)
    got = {(e.row, e.column, e.rule) for e in err.errors}
    assert got == {
        (2, "scope", "scope"),
        (3, "value", "number"),
        (4, "year", "year"),
        (5, "unit", "required"),
        (7, "effective_from", "overlap"),
    }
    assert "row 2" in str(err)


def test_load_overrides_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("name,value\npoverty_line,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="scope") as info:
        load_overrides(path)
    assert info.value.file == str(path)
