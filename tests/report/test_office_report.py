"""``dongxi report`` on a registry's own data: what an official reads (names, percentages with
户 and 人, terms in words, the spec's own "poor" cutoff, no internal names), scoped, from
snapshots or from the registry itself, bilingual or Chinese only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.errors import NotFoundError, PermissionDeniedError
from dongxi.measure import identify, load_spec
from dongxi.report import place_name
from dongxi.services import Principal, Scope
from dongxi.services.imports import import_tables
from dongxi.services.measurement import measure_snapshot, person_frame, read_snapshot, spec_params
from dongxi.services.reporting import make_report, region_prefix
from dongxi.services.snapshots import take_snapshot
from dongxi.store.db import make_engine, upgrade
from dongxi.synth import SynthData, generate

ROUNDS = (2016, 2019)
PROVINCE = "450000"
#: Internal names an official must never read in a report.
INTERNAL = (
    "china_official",
    "guangxi_rural",
    "matched_rate",
    "match_rate",
    "acceptable_pairs",
    "blocking_pairs",
    "total_welfare",
    "escaped",
    "by_group",
    "county_code",
    "township_code",
    "pctb",
    "poor_k",
    "registered_poor",
    "household_code",
    "net_income_per_capita",
    "snapshot_id",
    "sha256",
    "poverty_line",
)


@dataclass(frozen=True)
class Office:
    url: str
    data: SynthData
    snapshots: dict[int, Path]
    county: str


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    root = tmp_path_factory.mktemp("office")
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade(url)
    engine = make_engine(url)
    data = generate(households=120, seed=11, years=ROUNDS)
    admin = Principal.local_operator()
    folders = {}
    try:
        for year in ROUNDS:
            state = data.rounds[year]
            frames = {
                "households": state.households,
                "people": state.people,
                "income": state.income,
            }
            if year == ROUNDS[0]:
                frames = {"partners": data.partners, "helpers": data.helpers, **frames}
            results = import_tables(
                principal=admin, engine=engine, frames=frames, source_name=f"synth-{year}"
            )
            assert all(r.ok for r in results.values())
            info = take_snapshot(principal=admin, folder=root / "snap" / str(year), engine=engine)
            folders[year] = Path(info.folder)
    finally:
        engine.dispose()
    county = str(data.rounds[2019].households["county_code"].iloc[0])
    return Office(url=url, data=data, snapshots=folders, county=county)


class _Text(HTMLParser):
    """The text a reader sees (no style, no attribute), per section; SVG text kept apart."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.svg: list[str] = []
        self.captions: list[str] = []
        self._section = "head"
        self._skip = 0
        self._in_svg = 0
        self._caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._section = dict(attrs).get("id") or "?"
        if tag in ("style", "title"):
            self._skip += 1
        if tag == "svg":
            self._in_svg += 1
        if tag == "figcaption":
            self._caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1
        if tag == "svg":
            self._in_svg -= 1
        if tag == "figcaption":
            self._caption = False

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text or self._skip:
            return
        if self._in_svg:
            self.svg.append(text)
            return
        if self._caption:
            self.captions.append(text)
        self.sections.setdefault(self._section, []).append(text)

    def visible(self) -> str:
        return "\n".join("\n".join(v) for v in self.sections.values())


def _read(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def county_report(office: Office, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    args = ["report", "--out", str(out), "--region", office.county]
    for year in ROUNDS:
        args += ["--snapshot", str(office.snapshots[year])]
    assert main(args) == 0
    return out


def _poor_counts(office: Office, spec_name: str, year: int) -> tuple[int, int]:
    """Poor households and poor people at the spec's headline cutoff, computed here."""
    spec = load_spec(spec_name)
    tables = read_snapshot(office.snapshots[year]).tables
    frame = person_frame(tables, year)
    params = spec_params(spec, year=year, province=PROVINCE)
    import datetime as dt

    units = identify(frame, spec, params=params, reference_date=dt.date(year, 12, 31))
    column = "poor_union" if spec.headline_k == "union" else f"poor_k{spec.headline_k:g}"
    poor = set(units.loc[units[column], "household_code"])
    people = frame[frame["household_code"].isin(poor)]
    return len(poor), len(people)


def test_county_report_names_rates_and_counts(office: Office, county_report: Path) -> None:
    text = _read(county_report / "report.html")
    shown = text.visible()
    county_name = place_name(office.county)
    assert county_name != office.county and county_name in shown
    township = str(office.data.rounds[2019].households["village_code"].iloc[0])[:9]
    by_area = "\n".join(text.sections["by-county"])
    assert place_name(township) in by_area  # a county's report is by township, named
    assert "分乡镇" in by_area
    for spec_name in ("china_official", "guangxi_rural"):
        spec = load_spec(spec_name)
        result = measure_snapshot(
            principal=Principal.local_operator(),
            snapshot=office.snapshots[2019],
            spec=spec,
            year=2019,
            province=PROVINCE,
        ).result
        k = spec.cutoffs([spec.headline_k])[0].percent
        h = result[
            (result["by"] == "")
            & (result["measure"] == "H")
            & (result["indicator"] == "")
            & ((result["k"] - k).abs() < 1e-9)
        ].iloc[0]
        rate = f"{h['estimate'] * 100:.1f}% [{h['ci_low'] * 100:.1f}%, {h['ci_high'] * 100:.1f}%]"
        assert rate in by_area, (spec_name, rate)
        poor_households, poor_people = _poor_counts(office, spec_name, 2019)
        summary = "\n".join(text.sections["summary"])
        assert f"{poor_households:,} 户 · {poor_people:,} 人" in summary
        assert spec.title_zh and spec.title_zh in by_area
    households = len(office.data.rounds[2019].households)
    assert f"{households:,}" in by_area


def test_headline_cutoff_is_the_one_the_docs_call_poor(county_report: Path) -> None:
    by_area = "\n".join(_read(county_report / "report.html").sections["by-county"])
    assert "加权剥夺得分达到 33.33% 即为贫困" in by_area  # guangxi_rural: k = 1/3, not 20 %
    assert "k = 20%" not in by_area
    assert "任一项标准未达到即为贫困（并集）" in by_area  # china_official: the union, in words
    assert "k = 20.00" not in by_area


def test_terms_explained_and_no_internal_names(county_report: Path) -> None:
    text = _read(county_report / "report.html")
    shown = text.visible() + "\n" + "\n".join(text.svg)
    for term in (
        "调整后多维贫困指数 M0：",
        "贫困发生率 H：",
        "平均剥夺强度 A：",
        "贫困临界值 k：",
        "贡献率：",
    ):
        assert term in shown, term
    for name in INTERNAL:
        assert name not in shown, name
    assert not re.search(r"\b\d{6}\b(?!\s*[户人%])", "\n".join(text.sections["by-county"]))


def test_chinese_first_in_legends_and_hashes_in_the_appendix(
    office: Office, county_report: Path
) -> None:
    text = _read(county_report / "report.html")
    cjk = re.compile(r"^[\u3000-\u303f\u4e00-\u9fff]")
    assert text.captions and all(cjk.match(c) for c in text.captions[::2])
    manifest = read_snapshot(office.snapshots[2019]).manifest
    digest = manifest["tables"]["households"]["sha256"]
    assert digest in "\n".join(text.sections["appendix"])
    assert digest not in "\n".join(text.sections["provenance"])


def test_change_in_points_and_percent(county_report: Path) -> None:
    change = "\n".join(_read(county_report / "report.html").sections["change"])
    assert "2016 → 2019" in change
    assert "相对变化" in change and re.search(r"[+-]\d+\.\d%", change)
    assert "与 mpitbR 相同" in change


def test_print_layout_keeps_tables_whole(county_report: Path) -> None:
    html = (county_report / "report.html").read_text(encoding="utf-8")
    print_css = html[html.index("@media print") :]
    assert ".scroll { overflow: visible; max-height: none; }" in print_css
    assert "thead { display: table-header-group; }" in print_css
    assert "max-height: 32rem" not in html  # no scroll box cutting rows, on screen either


def test_workbook_holds_the_counts(office: Office, county_report: Path) -> None:
    book = openpyxl.load_workbook(county_report / "report.xlsx", read_only=True)
    assert {"summary", "measures", "counts", "change", "snapshots"} <= set(book.sheetnames)
    counts = pd.read_excel(county_report / "report.xlsx", sheet_name="counts", engine="openpyxl")
    row = counts[(counts["spec"] == "china_official") & (counts["round"] == 2019)].iloc[0]
    assert (int(row["poor_households"]), int(row["poor_people"])) == _poor_counts(
        office, "china_official", 2019
    )


def test_chinese_only(office: Office, tmp_path: Path) -> None:
    outcome = make_report(
        principal=Principal.local_operator(),
        folder=tmp_path,
        snapshots=[office.snapshots[2019]],
        lang="zh",
    )
    html = outcome.html.read_text(encoding="utf-8")
    text = _read(outcome.html)
    shown = text.visible() + "\n".join(text.svg)
    for english in ("Headcount ratio", "Summary", "county", "households", "confidence"):
        assert english not in shown, english
    assert 'class="en"' not in html
    assert "贫困发生率" in shown and place_name(office.county) in shown
    assert "少于两个年度的数据" in "\n".join(text.sections["change"])  # one round only


def test_report_from_the_registry_itself(office: Office, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--url", office.url, "--year", "2019"]) == 0
    assert (out / "snapshot" / "manifest.json").is_file()
    summary = "\n".join(_read(out / "report.html").sections["summary"])
    assert "2019 年贫困发生率" in summary
    assert f"{len(office.data.rounds[2019].households)}" in summary


def test_scope_bounds_the_report(office: Office, tmp_path: Path) -> None:
    own = Principal(name="li", role="county_officer", scope=Scope(region_prefix=office.county))
    outcome = make_report(
        principal=own, folder=tmp_path / "a", snapshots=[office.snapshots[2019]], region="450000"
    )
    assert outcome.region == office.county  # the province asked, the county given
    other = Principal(name="wu", role="county_officer", scope=Scope(region_prefix="450102"))
    with pytest.raises(NotFoundError):
        make_report(principal=other, folder=tmp_path / "b", snapshots=[office.snapshots[2019]])
    with pytest.raises(NotFoundError):
        make_report(
            principal=own,
            folder=tmp_path / "c",
            snapshots=[office.snapshots[2019]],
            region="450102",
        )
    village = Principal(name="z", role="village_officer", scope=Scope(region_prefix=office.county))
    with pytest.raises(PermissionDeniedError):
        make_report(principal=village, folder=tmp_path / "d", snapshots=[office.snapshots[2019]])


@pytest.mark.parametrize(
    ("code", "prefix"),
    [("450000", "45"), ("451200", "4512"), ("451221", "451221"), (None, None), ("45", "45")],
)
def test_region_codes(code: str | None, prefix: str | None) -> None:
    assert region_prefix(code) == prefix
