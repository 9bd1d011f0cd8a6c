"""The HTML report: sections, numbers, inline SVG, escaping, and the XLSX beside it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import dongxi.report
from dongxi.errors import InputError
from dongxi.report import ReportData, build_report, render_html

SECTIONS = [
    "summary",
    "by-county",
    "contributions",
    "income",
    "change",
    "matching",
    "provenance",
    "appendix",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.svg_in: dict[str, int] = {}
        self.tags: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self._current = values.get("id")
            if self._current:
                self.sections[self._current] = []
        if tag == "svg" and self._current:
            self.svg_in[self._current] = self.svg_in.get(self._current, 0) + 1
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            value = values.get(key)
            if value and not value.startswith("#") and tag in ("link", "script", "img"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        if self._current and data.strip():
            self.sections[self._current].append(data.strip())


@pytest.fixture(scope="module")
def built(report_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report(report_data, folder=tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def parsed(built: Path) -> _Collector:
    parser = _Collector()
    parser.feed(built.read_text(encoding="utf-8"))
    return parser


def test_exports_are_pinned() -> None:
    assert sorted(dongxi.report.__all__) == [
        "LONG_COLUMNS",
        "ReportData",
        "build_report",
        "household_list",
        "place_name",
        "render_html",
        "write_household_list",
        "write_workbook",
    ]


def test_every_section_present_with_charts(parsed: _Collector) -> None:
    for section in SECTIONS:
        assert section in parsed.sections, section
    for section in ("by-county", "contributions", "income", "change", "matching"):
        assert parsed.svg_in.get(section, 0) >= 1, section
    assert parsed.svg_in["by-county"] == 2  # one per spec
    assert "missing" not in parsed.sections


def test_self_contained_and_escaped(built: Path, parsed: _Collector) -> None:
    text = built.read_text(encoding="utf-8")
    assert parsed.scripts == 0
    assert parsed.external == []
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_numbers_and_names_shown(report_data: ReportData, parsed: _Collector) -> None:
    county = " ".join(parsed.sections["by-county"])
    # every county of the fixture named from the packaged divisions (2023 names)
    for name in ("隆安县", "马山县", "上林县", "南丹县", "天峨县"):
        assert name in county, name
    measures = report_data.measures
    assert measures is not None
    row = measures[
        (measures["spec"] == "guangxi_rural")
        & (measures["round"] == "2019")
        & (measures["group"] == "451221")
        & (measures["measure"] == "M0")
    ].iloc[0]
    assert f"{row['estimate']:.4f}" in county
    assert f"{row['ci_low']:.4f}" in county
    income = " ".join(parsed.sections["income"])
    assert "12.3%" in income and "3,747" in income  # FGT0 0.1234 as a percentage
    matching = " ".join(parsed.sections["matching"])
    assert "23,908" in matching and "1,300.25" in matching
    provenance = " ".join(parsed.sections["provenance"])
    assert "snap-2019-b2" in provenance and "ab" * 32 not in provenance
    assert "ab" * 32 in " ".join(parsed.sections["appendix"])  # hashes in the appendix


def test_chinese_text_stays_text(built: Path) -> None:
    text = built.read_text(encoding="utf-8")
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert "调整后多维贫困指数" in svg  # not converted to paths


def test_workbook_holds_every_table(report_data: ReportData, built: Path) -> None:
    book = openpyxl.load_workbook(built.with_suffix(".xlsx"), read_only=True)
    assert set(book.sheetnames) >= {"summary", "measures", "matching_by_group", "snapshots"}
    sheet = pd.read_excel(built.with_suffix(".xlsx"), sheet_name="measures", engine="openpyxl")
    assert report_data.measures is not None
    assert len(sheet) == len(report_data.measures)


def test_missing_parts_are_reported(tmp_path: Path) -> None:
    path = build_report(
        ReportData(missing=["dongxi.market is not installed (matching skipped)"]), folder=tmp_path
    )
    parser = _Collector()
    parser.feed(path.read_text(encoding="utf-8"))
    assert "dongxi.market is not installed (matching skipped)" in parser.sections["missing"]
    assert parser.svg_in == {}
    assert any("No data for this section" in t for t in parser.sections["by-county"])


def test_bad_table_is_refused() -> None:
    with pytest.raises(InputError, match="lacks the columns"):
        ReportData(measures=pd.DataFrame({"spec": ["x"]}))


def test_render_is_deterministic_apart_from_time(report_data: ReportData) -> None:
    first = render_html(report_data).split("生成时间")[1].split("</p>", 1)[1]
    second = render_html(report_data).split("生成时间")[1].split("</p>", 1)[1]
    assert first == second


def test_enumerated_groups_are_labelled_from_the_vocabulary() -> None:
    by_status = pd.DataFrame(
        {
            "by": "status",
            "group": ["registered_poor", "never"],
            "seekers": [10, 20],
            "matched": [5, 20],
            "matched_rate": [0.5, 1.0],
        }
    )
    html = render_html(ReportData(matching={"by_group": by_status}))
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "建档立卡贫困户 registered poor (not yet exited)" in svg
    assert "一般农户 never poor" in svg
