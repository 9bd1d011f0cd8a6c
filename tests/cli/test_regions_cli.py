"""``dongxi regions search`` and ``dongxi export regions``: the packaged divisions, found and
written, through the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi.cli import main
from dongxi.services.regions import search_regions


def test_search_by_name_prints_code_level_full_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regions", "search", "隆安"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["450123", "县级", "广西壮族自治区 南宁市 隆安县"]
    # a village whose name holds the text, with its whole chain of parents
    assert "450981118202\t村级\t广西壮族自治区 玉林市 北流市 扶新镇 隆安村委会" in lines


def test_search_by_code_prefix_and_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regions", "search", "450123", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "450123\t县级\t广西壮族自治区 南宁市 隆安县"
    assert lines[1] == "450123100\t乡级\t广西壮族自治区 南宁市 隆安县 城厢镇"
    total = len(search_regions("450123", limit=None))
    assert lines[2].startswith(f"… {total - 2} more (共 {total} 个)")


def test_search_vintage_2017_finds_codes_changed_since() -> None:
    # 田阳县 became 百色市田阳区 (451003) in 2019: only the 2017 codes hold the county
    old = search_regions("田阳县", vintage=2017)
    assert [m.code for m in old if m.level == "county"] == ["451021"]
    assert [m.code for m in search_regions("田阳区", vintage=2023) if m.level == "county"] == [
        "451003"
    ]


def test_search_without_match_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regions", "search", "不存在的地方"]) == 1
    assert "no division of 2023 matches" in capsys.readouterr().out


def test_search_refuses_unknown_vintage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regions", "search", "南宁", "--vintage", "2020"]) == 2
    assert "2017 and 2023 vintages only" in capsys.readouterr().err


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["南宁", "隆安", "4501", "45", "街道", "社区", "44030", "镇"]))
def test_every_match_contains_the_text_and_ends_with_its_name(text: str) -> None:
    for match in search_regions(text, limit=20):
        assert match.code.startswith(text) if text.isdigit() else text in match.name
        assert match.full_name.endswith(match.name)
        province = "广西壮族自治区" if match.code.startswith("45") else "广东省"
        assert match.full_name.startswith(province)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_regions_with_chinese_headers(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"regions{suffix}"
    assert main(["export", "regions", "--out", str(out)]) == 0
    if suffix == ".csv":
        frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        frame = pd.read_excel(out, dtype=str, keep_default_na=False, engine="openpyxl")
    assert list(frame.columns) == ["区划代码", "名称", "级别", "上级代码", "全称", "版本年份"]
    row = frame.set_index("区划代码").loc["450123"]
    assert row["名称"] == "隆安县"
    assert row["级别"] == "县级"
    assert row["上级代码"] == "450100"
    assert row["全称"] == "广西壮族自治区 南宁市 隆安县"
    assert row["版本年份"] == "2023"
    assert frame.set_index("区划代码").loc["450000", "上级代码"] == ""
    assert f"{len(frame)} divisions of 2023 written to" in capsys.readouterr().out
    assert len(frame) == 46834
