"""An office's own policy figures: ``--policy FILE`` on every command that reads policy, the
precedence of the figures, and error messages that name only options that exist."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import typer

from dongxi.cli import app, main
from dongxi.errors import NotFoundError
from dongxi.policy import PolicyValue, get_parameter, load_overrides
from dongxi.policy._lookup import POLICY_COMMANDS
from dongxi.synth import generate

_BELOW_LINE = (
    '{ how = "max", column = "net_income_per_capita", '
    'deprived = { op = "<", value = { param = "poverty_line" } } }'
)
SPEC = f"""
name = "line_only"
k = [50]
missing = "listwise"
[unit]
household = "household_code"
analysis = "people"
[[dimensions]]
name = "income"
[[dimensions.indicators]]
name = "income_below_line"
aggregate = {_BELOW_LINE}
[[dimensions]]
name = "school"
[[dimensions.indicators]]
name = "no_school"
rule = {{ column = "education", op = "in", value = ["none"] }}
aggregate = {{ how = "all" }}
"""


def _options(path: tuple[str, ...]) -> set[str]:
    command = typer.main.get_command(app)
    for part in path:
        command = command.commands[part]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_every_command_the_message_names_has_the_option() -> None:
    for name in POLICY_COMMANDS:
        words = tuple(name.split()[1:])
        assert "--policy" in _options(words), name


def _files(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC, encoding="utf-8")
    data = tmp_path / "people.csv"
    rows = ["household_code,member_no,net_income_per_capita,education"]
    for i in range(40):
        rows.append(
            f"H{i // 2},{i % 2 + 1},{4000 + 150 * (i // 2)},{'none' if i % 5 else 'junior'}"
        )
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return spec, data


def test_measure_after_2020_names_a_real_option_then_works_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, data = _files(tmp_path)
    # 2021: no poverty line, the national monitoring line (6,000 yuan) is the income line
    first = ["measure", "--spec", str(spec), "--data", str(data), "--year", "2021", "--no-se"]
    assert main(first) == 0
    out = capsys.readouterr().out
    assert "按防返贫监测线识别" in out and "6,000" in out
    # 2023: no line applies to Guangxi (only another locality's example)
    args = ["measure", "--spec", str(spec), "--data", str(data), "--year", "2023", "--no-se"]
    assert main([*args, "--province", "450000"]) != 0
    err = capsys.readouterr().err
    assert "--policy FILE" in err and "dongxi measure" in err
    assert "monitoring_line" in err  # what replaced the poverty line after 2020
    assert "--policy" in _options(("measure",))
    policy = tmp_path / "guangxi.csv"
    policy.write_text(
        "参数,区划代码,数值,年度,来源\npoverty_line,450000,6000,2023,本县文件\n", encoding="gb18030"
    )
    assert main([*args, "--province", "450000", "--policy", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "H" in out and "本单位政策文件给出的 2023 年贫困线" in out
    # the province's figure does not apply to another province
    assert main([*args, "--province", "440000", "--policy", str(policy)]) != 0


def _user(scope: str, value: float, year: int, start: str | None = None) -> PolicyValue:
    begin = datetime.date.fromisoformat(start) if start else datetime.date(year, 1, 1)
    return PolicyValue(
        name="monitoring_line",
        scope=scope,
        value=value,
        unit="yuan per person per year",
        effective_from=begin,
        effective_to=datetime.date(year, 12, 31),
        status="user",
        source="test",
        note="",
    )


def test_override_precedence_for_the_monitoring_line() -> None:
    overrides = [
        _user("450000", 6500, 2021),
        _user("451026", 7000, 2021),
        _user("450000", 6800, 2021, start="2021-07-01"),
    ]
    # the county's own line wins over the province's
    assert (
        get_parameter("monitoring_line", year=2021, scope="451026", overrides=overrides).value
        == 7000
    )
    # within the province, the figure that started last wins
    assert (
        get_parameter("monitoring_line", year=2021, scope="451022", overrides=overrides).value
        == 6800
    )
    # elsewhere the built-in national line (verified) applies
    national = get_parameter("monitoring_line", year=2021, scope="440300", overrides=overrides)
    assert (national.value, national.status) == (6000, "verified")
    # a year without any figure: the message says what exists and how to add one
    with pytest.raises(NotFoundError, match="--policy FILE"):
        get_parameter("monitoring_line", year=2024, scope="451026")


def test_synth_uses_the_office_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        "name,scope,value,year,source\n"
        "monitoring_line,450000,6300,2022,test\n"
        "monitoring_line,451026,9000,2022,test\n",
        encoding="utf-8",
    )
    overrides = load_overrides(path)
    plain = generate(scale="village", seed=2, years=(2020,), through=2022)
    county = str(plain.households["county_code"].iloc[0])
    path.write_text(
        f"name,scope,value,year,source\nmonitoring_line,{county},12000,2022,test\n",
        encoding="utf-8",
    )
    raised = generate(
        scale="village", seed=2, years=(2020,), through=2022, overrides=load_overrides(path)
    )
    assert plain.relapse is not None and raised.relapse is not None
    assert list(raised.relapse["line"]) == [6000.0, 12000.0]
    assert raised.relapse["eligible"].iloc[1] > plain.relapse["eligible"].iloc[1]
    assert overrides[1].value == 9000  # the file's figures carry the user status
    assert {v.status for v in overrides} == {"user"}
