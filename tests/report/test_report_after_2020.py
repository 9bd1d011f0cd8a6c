"""Identification after 2020 (no poverty line; the relapse-monitoring line 防返贫监测线 instead):
``dongxi report`` and ``dongxi measure`` on a small synthetic snapshot of 2023 with monthly
income, with and without the office's monitoring line, and the one rule that chooses the line
(:func:`dongxi.policy.income_line`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dongxi.policy as policy
from dongxi.cli import main
from dongxi.errors import NotFoundError
from dongxi.measure import identify, load_spec
from dongxi.policy import PolicyValue, get_parameter, income_line, load_overrides
from dongxi.services import Principal
from dongxi.services._lines import STATUS_WORDS, choose_line
from dongxi.services.imports import import_tables
from dongxi.services.measurement import measure_snapshot, person_frame, read_snapshot, spec_params
from dongxi.services.reporting import make_report
from dongxi.services.snapshots import take_snapshot
from dongxi.store.db import make_engine, upgrade
from dongxi.synth import generate

YEAR = 2023
PROVINCE = "450000"
LINE = 6615.0  # the office's monitoring line of 2023 in the test's policy file


@dataclass(frozen=True)
class Snap:
    folder: Path
    policy: Path


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snap:
    """A registry of 120 synthetic households of Guangxi: their state of 2023, the yearly income
    of 2019–2023 and the monthly income of 2021–2023; its snapshot; a policy file with the
    province's monitoring lines of 2022 and 2023."""
    root = tmp_path_factory.mktemp("after2020")
    data = generate(households=120, seed=5, years=(2019, 2020), through=YEAR)
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    state = data.rounds[YEAR]
    income = pd.concat([data.rounds[y].income for y in range(2019, YEAR + 1)], ignore_index=True)
    try:
        results = import_tables(
            principal=Principal.local_operator(),
            engine=engine,
            frames={
                "partners": data.partners,
                "helpers": data.helpers,
                "households": state.households,
                "people": state.people,
                "income": income,
                "income_months": data.income_months,
            },
            source_name="synth-2023",
        )
        assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}
        info = take_snapshot(
            principal=Principal.local_operator(), folder=root / "snap", engine=engine
        )
    finally:
        engine.dispose()
    path = root / "policy.csv"
    path.write_text(
        "name,scope,value,unit,year,source\n"
        f"monitoring_line,{PROVINCE},6300,yuan per person per year,2022,自治区文件（测试）\n"
        f"monitoring_line,{PROVINCE},{LINE},yuan per person per year,{YEAR},自治区文件（测试）\n",
        encoding="utf-8",
    )
    return Snap(folder=Path(info.folder), policy=path)


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._current = dict(attrs).get("id")
            if self._current:
                self.text[self._current] = []

    def handle_data(self, data: str) -> None:
        if self._current and data.strip():
            self.text[self._current].append(data.strip())


def _sections(path: Path) -> dict[str, str]:
    parser = _Sections()
    parser.feed(path.read_text(encoding="utf-8"))
    return {k: " ".join(v) for k, v in parser.text.items()}


# ---- the report -------------------------------------------------------------------------------


def test_report_of_2023_identifies_with_the_monitoring_line(snap: Snap, tmp_path: Path) -> None:
    outcome = make_report(
        principal=Principal.local_operator(),
        folder=tmp_path,
        snapshots=[snap.folder],
        policy=snap.policy,
    )
    assert outcome.years == (YEAR,)
    text = _sections(outcome.html)
    words = text["by-county"]
    assert "2020 年后无贫困线：按防返贫监测线识别" in words
    assert f"{YEAR} 年监测线 {LINE:,.0f} 元/人·年" in words and "广西壮族自治区" in words
    assert "监测对象的收入条件" in words
    assert "自治区文件（测试）" in words  # the source, as the file gives it
    assert "由本单位政策文件提供" in words  # how sure: the office's own figure, not checked
    assert "No poverty line after 2020" in words  # and in English
    assert "missing" not in text, text.get("missing")
    assert "monitoring" in text
    # the engine was given the monitoring line: the report's counts are identify()'s with it
    overrides = load_overrides(snap.policy)
    tables = read_snapshot(snap.folder).tables
    frame = person_frame(tables, YEAR)
    counts = pd.read_excel(outcome.workbook, sheet_name="counts", engine="openpyxl")
    for name in ("china_official", "guangxi_rural"):
        spec = load_spec(name)
        params = spec_params(spec, year=YEAR, province=PROVINCE, overrides=overrides)
        assert params["poverty_line"] == LINE
        units = identify(frame, spec, params=params, reference_date=dt.date(YEAR, 12, 31))
        column = "poor_union" if spec.headline_k == "union" else f"poor_k{spec.headline_k:g}"
        row = counts[(counts["spec"] == name) & (counts["by"].isna())].iloc[0]
        assert int(row["poor_households"]) == int(units[column].sum()), name
    # income poverty against the same line: FGT0 = people-weighted share below it
    lines = pd.read_excel(outcome.workbook, sheet_name="poverty_lines", engine="openpyxl")
    assert lines["line_kind"].tolist() == ["monitoring_line"] and lines["line"].tolist() == [LINE]
    fgt = pd.read_excel(outcome.workbook, sheet_name="income_measures", engine="openpyxl")
    fgt0 = fgt[(fgt["measure"] == "FGT0") & fgt["by"].isna()]["estimate"].iloc[0]
    inc = tables["income"][tables["income"]["year"].astype(int) == YEAR]
    size = inc["household_size"].astype(float)
    below = inc["net_income_per_capita"].astype(float) < LINE
    assert fgt0 == pytest.approx(float((size * below).sum() / size.sum()), abs=1e-12)
    sheet = pd.read_excel(outcome.workbook, sheet_name="income_lines", engine="openpyxl")
    assert sheet[["line_kind", "status"]].values.tolist() == [["monitoring_line", "user"]]


def test_a_year_without_any_line_is_said_in_words_and_the_report_goes_on(
    snap: Snap, tmp_path: Path
) -> None:
    outcome = make_report(
        principal=Principal.local_operator(), folder=tmp_path, snapshots=[snap.folder]
    )
    text = _sections(outcome.html)
    words = text["by-county"]
    assert f"{YEAR} 年无可用的收入线：2020 年后无贫困线，应按防返贫监测线识别" in words
    assert "--policy" in words and f"No income line for {YEAR}" in words
    assert f"{YEAR} 年贫困识别与收入贫困：无可用的收入线" in text["missing"]
    # the rest is there: the summary, the sections, the workbook
    assert "登记户数" in text["summary"] and "provenance" in text and "appendix" in text
    sheet = pd.read_excel(outcome.workbook, sheet_name="income_lines", engine="openpyxl")
    assert sheet["line_kind"].tolist() == ["none"] and np.isnan(sheet["line"].iloc[0])
    assert outcome.workbook.is_file()


def test_the_report_and_measure_use_the_same_line(snap: Snap, tmp_path: Path) -> None:
    """``dongxi measure`` on the same snapshot: the same H as the report, and the line in
    words; without a line for the year, a message that names the monitoring line and --policy."""
    outcome = make_report(
        principal=Principal.local_operator(),
        folder=tmp_path / "r",
        snapshots=[snap.folder],
        policy=snap.policy,
    )
    ours = pd.read_excel(outcome.workbook, sheet_name="measures", engine="openpyxl")
    spec = load_spec("china_official")
    direct = measure_snapshot(
        principal=Principal.local_operator(),
        snapshot=snap.folder,
        spec=spec,
        year=YEAR,
        province=PROVINCE,
        policy=snap.policy,
    ).result

    def headline(frame: pd.DataFrame) -> float:
        by = frame["by"].fillna("").astype(str)
        indicator = frame["indicator"].fillna("").astype(str)
        rows = frame[
            (frame["spec"] == "china_official")
            & (by == "")
            & (frame["measure"] == "H")
            & (indicator == "")
        ]
        return float(rows["estimate"].iloc[0])

    assert headline(ours) == pytest.approx(headline(direct), abs=1e-12)


def test_measure_cli_after_2020_says_the_line_or_what_is_missing(
    snap: Snap, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["measure", "--spec", "china_official", "--data", str(snap.folder), "--no-se"]
    args += ["--year", str(YEAR), "--province", PROVINCE]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert f"{YEAR} 年没有可用的收入线" in err and "monitoring_line" in err
    assert "--policy FILE" in err
    assert main([*args, "--policy", str(snap.policy)]) == 0
    out = capsys.readouterr().out
    assert "2020 年后无贫困线：按防返贫监测线识别" in out and f"{LINE:,.0f}" in out


# ---- the rule ---------------------------------------------------------------------------------


def _user(name: str, scope: str, value: float, year: int) -> PolicyValue:
    return PolicyValue(
        name=name,
        scope=scope,
        value=value,
        unit="yuan per person per year",
        effective_from=dt.date(year, 1, 1),
        effective_to=dt.date(year, 12, 31),
        status="user",
        source="test",
        note="",
    )


def test_income_line_by_year() -> None:
    assert income_line(2020).name == "poverty_line" and income_line(2020).value == 4000
    first = income_line(2021, scope="450123")  # the national line of 2021 applies to a county
    assert (first.name, first.value, first.status) == ("monitoring_line", 6000, "verified")
    shiyan = income_line(2022, scope="420381")  # one locality's example, for its own region
    assert (shiyan.value, shiyan.status) == (6900, "example")
    with pytest.raises(NotFoundError) as info:
        income_line(2022, scope=PROVINCE)  # no other locality's example for Guangxi
    text = str(info.value)
    assert "2022 年没有可用的收入线" in text and "420300 2022 (example)" in text
    assert "--policy FILE" in text
    # the office's own figures win: its poverty line of a later year, else its monitoring line
    own = [_user("monitoring_line", PROVINCE, 7000, 2024)]
    assert income_line(2024, scope="450123", overrides=own).value == 7000
    own.append(_user("poverty_line", PROVINCE, 5000, 2024))
    assert income_line(2024, scope="450123", overrides=own).name == "poverty_line"
    assert income_line(2024, scope="450123", overrides=own).value == 5000


@settings(max_examples=60, deadline=None)
@given(
    year=st.integers(min_value=2005, max_value=2035),
    scope=st.sampled_from(["national", "450000", "450123", "420381", "532328", "440300"]),
)
def test_through_2020_the_line_is_the_poverty_line_after_it_the_monitoring_line(
    year: int, scope: str
) -> None:
    """Invariant: through 2020 the income line is exactly the poverty line of the year (so every
    figure of those years is unchanged); after 2020 it is the monitoring line of the year, and a
    year is either given a line or refused — never given another year's or region's."""
    name = "poverty_line" if year <= 2020 else "monitoring_line"
    try:
        expected = get_parameter(name, year=year, scope=scope)
    except NotFoundError:
        with pytest.raises(NotFoundError):
            income_line(year, scope=scope)
        choice = choose_line(year, scope=scope)
        assert not choice.found and choice.kind == "none"
        assert "无可用的收入线" in choice.words()[0] or "没有" in choice.problem
        return
    got = income_line(year, scope=scope)
    assert got == expected
    choice = choose_line(year, scope=scope)
    assert choice.value == expected
    zh, en = choice.words()
    assert f"{expected.value:,.0f} 元/人·年" in zh and f"{expected.value:,.0f} yuan" in en
    assert STATUS_WORDS[expected.status][0] in zh
    assert ("按防返贫监测线识别" in zh) == (year > 2020)


def test_every_status_has_words() -> None:
    assert set(STATUS_WORDS) == set(policy.STATUSES)
    example = choose_line(2023, scope="532328").words()
    assert "示例：某一地方的数值" in example[0] and "an example" in example[1]
    approximate = choose_line(2020, scope=PROVINCE).words()
    assert "近似值" in approximate[0] and "approximate" in approximate[1]
