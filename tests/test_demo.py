"""``dongxi demo`` end to end, in-process, on a small synthetic registry."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from dongxi.cli import main
from dongxi.demo import POLICY_FILE, run_demo

SECTIONS = (
    "summary",
    "by-county",
    "contributions",
    "income",
    "change",
    "matching",
    "monitoring",
    "provenance",
    "appendix",
)


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.svg: dict[str, int] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._current = dict(attrs).get("id")
            if self._current:
                self.text[self._current] = []
        if tag == "svg" and self._current:
            self.svg[self._current] = self.svg.get(self._current, 0) + 1

    def handle_data(self, data: str) -> None:
        if self._current and data.strip():
            self.text[self._current].append(data.strip())


def _parse(path: Path) -> _Sections:
    parser = _Sections()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "run"
    code = main(["demo", "--dir", str(folder), "--households", "300", "--seed", "7"])
    assert code == 0
    return folder


def test_demo_writes_registry_report_and_tables(demo_dir: Path) -> None:
    assert (demo_dir / "dongxi.db").stat().st_size > 0
    assert (demo_dir / "report.html").is_file()
    assert (demo_dir / "report.xlsx").is_file()
    summary = pd.read_csv(demo_dir / "tables" / "summary.csv", encoding="utf-8-sig")
    imported = summary.set_index("label_en")["value"]
    assert int(imported["households imported"]) == 300
    assert int(imported["people imported"]) > 300


def test_demo_has_its_own_key_file(demo_dir: Path) -> None:
    import os
    import stat
    import tomllib

    import sqlalchemy as sa

    from dongxi.pii.protect import IdProtector

    path = demo_dir / "dongxi-keys.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = tomllib.loads(path.read_text(encoding="utf-8"))
    # not the keys of the environment (the test suite's): the demo never uses a real registry's
    assert keys["encryption_key"] != os.environ["DONGXI_ENCRYPTION_KEY"]
    assert keys["lookup_key"] != os.environ["DONGXI_LOOKUP_KEY"]
    protector = IdProtector(encryption_key=keys["encryption_key"], lookup_key=keys["lookup_key"])
    engine = sa.create_engine(f"sqlite:///{demo_dir / 'dongxi.db'}")
    try:
        with engine.connect() as conn:
            checks = dict(conn.execute(sa.text("SELECT name, check_value FROM key_checks")).all())
            blob, id_hash = conn.execute(
                sa.text("SELECT id_encrypted, id_hash FROM people")
            ).first()
    finally:
        engine.dispose()
    assert checks == protector.check_values
    assert protector.hash(protector.decrypt(bytes(blob), id_hash=id_hash)) == id_hash


def test_report_has_every_section(demo_dir: Path) -> None:
    parsed = _parse(demo_dir / "report.html")
    for section in SECTIONS:
        assert section in parsed.text, section


def test_income_section_has_real_numbers(demo_dir: Path) -> None:
    parsed = _parse(demo_dir / "report.html")
    assert parsed.svg.get("income", 0) == 1
    fgt = pd.read_csv(demo_dir / "tables" / "income_measures.csv", encoding="utf-8-sig")
    overall = fgt[fgt["by"].isna() & (fgt["measure"] == "FGT0")]
    assert set(overall["round"].astype(str)) == {"2016", "2019"}
    text = " ".join(parsed.text["income"])
    for value in overall["estimate"]:
        assert 0.0 <= value <= 1.0
        assert f"{value * 100:.1f}%" in text  # a rate, as a percentage


def test_existing_folder_is_refused_without_force(demo_dir: Path) -> None:
    before = (demo_dir / "report.html").stat().st_mtime_ns
    assert main(["demo", "--dir", str(demo_dir), "--households", "300"]) == 2
    assert (demo_dir / "report.html").stat().st_mtime_ns == before


@pytest.mark.slow
def test_force_replaces_and_is_deterministic(tmp_path: Path, demo_dir: Path) -> None:
    other = tmp_path / "again"
    shutil.copytree(demo_dir, other)
    (other / "tables" / "summary.csv").unlink()
    again = run_demo(other, households=300, seed=7, force=True)
    assert again.summary is not None
    assert again.key_file == other.resolve() / "dongxi-keys.toml"  # new keys for the new registry
    assert again.key_file.read_bytes() != (demo_dir / "dongxi-keys.toml").read_bytes()
    reference = pd.read_csv(demo_dir / "tables" / "summary.csv", encoding="utf-8-sig")
    assert list(reference["label_en"]) == list(again.summary["label_en"])
    assert list(reference["value"].astype(float)) == pytest.approx(
        list(again.summary["value"].astype(float))
    )
    assert (other / "tables" / "summary.csv").is_file()


def test_too_few_households_is_an_input_error(tmp_path: Path) -> None:
    assert main(["demo", "--dir", str(tmp_path / "x"), "--households", "10"]) == 2
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_demo_default_size(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "default")
    assert result.report is not None
    assert result.summary is not None
    parsed = _parse(result.report)
    for section in SECTIONS:
        assert section in parsed.text
    values = result.summary.set_index("label_en")["value"].astype(float)
    assert values["households imported"] == 30_000
    # synthetic households have about 3.1 members (docs/synthetic-data.md)
    assert 2.8 * 30_000 < values["people imported"] < 3.4 * 30_000
    for spec in ("China's official", "Rural Guangxi"):
        h2016 = values[[k for k in values.index if k.startswith(f"headcount ratio H 2016 ({spec}")]]
        h2019 = values[[k for k in values.index if k.startswith(f"headcount ratio H 2019 ({spec}")]]
        assert 0.0 < h2019.iloc[0] < h2016.iloc[0] < 1.0, spec
    assert 0.5 < values["placement rate (stable)"] <= 1.0
    # the workbook carries the same summary as the tables folder
    sheet = pd.read_excel(tmp_path / "default" / "report.xlsx", sheet_name=None, engine="openpyxl")
    assert any(
        "households imported" in frame.astype(str).to_numpy().ravel().tolist()
        for frame in sheet.values()
    )


def test_every_section_has_real_numbers(demo_dir: Path) -> None:
    import json

    parsed = _parse(demo_dir / "report.html")
    assert "missing" not in parsed.text, parsed.text.get("missing")
    assert parsed.svg.get("by-county", 0) == 2  # china_official and guangxi_rural
    assert parsed.svg.get("contributions", 0) == 2
    assert parsed.svg.get("change", 0) == 1
    assert parsed.svg.get("matching", 0) >= 1
    measures = pd.read_csv(demo_dir / "tables" / "measures.csv", encoding="utf-8-sig")
    assert set(measures["spec"]) == {"china_official", "guangxi_rural"}
    assert set(measures["round"].astype(str)) == {"2016", "2019"}
    county = " ".join(parsed.text["by-county"])
    # the line each round was identified with, in words (through 2020: the poverty line)
    assert "按 2016 年国家扶贫标准（贫困线）2,952 元/人·年识别" in county
    assert "按 2019 年国家扶贫标准（贫困线）3,218 元/人·年识别" in county
    assert "未核实：常被引用，未找到原始出处" in county  # 2019's figure has no primary source
    # the report shows the cutoff each spec calls poor: the union (20 % with five equal
    # dimensions) for china_official, 33.33 % (not the vulnerable 20 %) for guangxi_rural
    poor_k = {"china_official": 20.0, "guangxi_rural": 33.33}
    latest = measures[
        (measures["round"] == 2019)
        & (measures["by"] == "county_code")
        & (measures["measure"] == "M0")
        & ((measures["k"] - measures["spec"].map(poor_k)).abs() < 1e-9)
    ]
    assert len(latest) >= 2
    for value in latest["estimate"]:
        assert f"{value:.4f}" in county
    change = pd.read_csv(demo_dir / "tables" / "change.csv", encoding="utf-8-sig")
    assert {"M0", "H", "A"} <= set(change["measure"])
    first = change.iloc[0]  # china_official's H: in percentage points
    assert first["measure"] == "H"
    assert f"{first['difference'] * 100:+.1f}" in " ".join(parsed.text["change"])
    matching = " ".join(parsed.text["matching"])
    assert "23,908" in matching and "51,629" in matching and "859" in matching
    provenance = " ".join(parsed.text["provenance"])
    for year in ("2016", "2019"):
        manifest = json.loads(
            (demo_dir / "snapshots" / year / "manifest.json").read_text(encoding="utf-8")
        )
        assert manifest["snapshot_id"] in provenance
        assert manifest["tables"]["households"]["sha256"] in " ".join(parsed.text["appendix"])
    assert "国家现行贫困户识别标准" in provenance and "贫困线" in provenance
    assert "china_official" not in provenance and "poverty_line" not in provenance


def test_dir_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("not a folder", encoding="utf-8")
    assert main(["demo", "--dir", str(target), "--households", "300"]) == 2
    assert target.read_text(encoding="utf-8") == "not a folder"


def test_demo_accounts_log_in_with_their_scope(demo_dir: Path) -> None:
    import stat

    from fastapi.testclient import TestClient

    from dongxi.api.app import create_app
    from dongxi.settings import Settings, use_settings
    from dongxi.store.db import make_engine

    accounts = demo_dir / "demo-accounts.txt"
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    rows = [
        line.split("\t")
        for line in accounts.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    roles = {row[1] for row in rows}
    assert roles == {
        "admin",
        "province_officer",
        "county_officer",
        "township_officer",
        "village_officer",
        "east_partner",
        "east_office",
        "analyst",
        "auditor",
    }
    county = next(row for row in rows if row[1] == "county_officer")
    demo_keys = Settings(
        key_file=demo_dir / "dongxi-keys.toml", encryption_key=None, lookup_key=None
    )
    engine = make_engine(f"sqlite:///{demo_dir / 'dongxi.db'}")
    try:
        with use_settings(demo_keys), TestClient(create_app(engine)) as client:
            login = client.post(
                "/api/v1/auth/login", json={"username": county[0], "password": county[3]}
            )
            assert login.status_code == 200
            page = client.get("/api/v1/households", params={"limit": 200}).json()
    finally:
        engine.dispose()
    assert page["items"]
    assert {item["county_code"] for item in page["items"]} == {county[2]}


def test_monitoring_lists_beside_the_report(demo_dir: Path) -> None:
    sheets = {
        name: pd.read_excel(demo_dir / name, sheet_name=None, engine="openpyxl")
        for name in ("monitoring-sweep.xlsx", "monitoring-audit.xlsx", "risk-score.xlsx")
    }
    sweep = sheets["monitoring-sweep.xlsx"]["监测排查"]
    assert {"县", "户编号", "判定", "监测类型", "理由"} <= set(sweep.columns)
    assert set(sheets["monitoring-audit.xlsx"]) >= {"应纳未纳与体外循环", "说明"}
    score = sheets["risk-score.xlsx"]["风险评分"]
    assert {"排序", "户编码", "风险概率", "优先排查（前10%）", "主要原因"} <= set(score.columns)
    assert len(score) == 300  # every household of the registry, riskiest first
    assert score["风险概率"].is_monotonic_decreasing
    about = sheets["monitoring-sweep.xlsx"]["说明"].set_index("项目")["内容"]
    assert about["排查日期"] == "2025-12-31"
    assert (demo_dir / "snapshots" / "2025" / "manifest.json").is_file()


def test_monitoring_section_counts_match_the_sweep(demo_dir: Path) -> None:
    import json

    from dongxi.monitor.score import USE_NOTE_ZH

    parsed = _parse(demo_dir / "report.html")
    text = " ".join(parsed.text["monitoring"])
    sweep = pd.read_excel(
        demo_dir / "monitoring-sweep.xlsx", sheet_name="监测排查", engine="openpyxl"
    )
    included = sweep[sweep["判定"] == "纳入监测"].drop_duplicates("户编号")
    manifest = json.loads(
        (demo_dir / "snapshots" / "2025" / "manifest.json").read_text(encoding="utf-8")
    )
    households = manifest["tables"]["households"]["rows"]
    assert households == 300
    share = len(included) / households
    assert f"{len(included):,} 户" in text and f"{share * 100:.1f}%" in text
    # by county: each county's monitored households over its households, as the sweep counts
    hh = pd.read_parquet(demo_dir / "snapshots" / "2025" / "households.parquet")
    totals = hh["village_code"].astype(str).str.slice(0, 6).value_counts()
    by_county = pd.read_csv(
        demo_dir / "tables" / "monitoring_by_county.csv",
        encoding="utf-8-sig",
        dtype={"county_code": str},
    ).set_index("county_code")
    assert by_county["households_total"].to_dict() == totals.to_dict()
    assert int(by_county["households"].sum()) == len(included)
    for county in included["县"].unique():
        assert str(county) in text
    for code, row in by_county.iterrows():
        assert f"（{int(row['households'])} / {int(row['households_total'])} 户）" in text, code
    # by category, in words
    for category, group in included.groupby("监测类型"):
        assert f"{category} {len(group):,} 户" in text
    audit = pd.read_excel(
        demo_dir / "monitoring-audit.xlsx", sheet_name="应纳未纳与体外循环", engine="openpyxl"
    )
    missed = int((audit["问题"] == "应纳未纳").sum())
    audit_table = pd.read_csv(demo_dir / "tables" / "monitoring_audit.csv", encoding="utf-8-sig")
    assert int(audit_table.set_index("finding").loc["missed", "households"]) == missed
    assert "应纳未纳" in text and "体外循环" in text
    assert USE_NOTE_ZH in text
    score = pd.read_csv(demo_dir / "tables" / "monitoring_score.csv", encoding="utf-8-sig")
    auc = score.set_index("figure").loc["auc"]
    assert 0.5 < auc["score"] <= 1.0 and 0.5 < auc["rules"] <= 1.0
    assert f"{auc['score']:.3f}" in text


def test_office_report_on_the_2025_snapshot_has_the_section(demo_dir: Path, tmp_path: Path) -> None:
    """``dongxi report`` on a snapshot holding income_months: the same section and lists, and
    the year identified against the office's monitoring line of 2025 (no poverty line after
    2020), said in words with its source and how sure it is."""
    from dongxi.services import Principal
    from dongxi.services.reporting import make_report

    out = tmp_path / "office"
    outcome = make_report(
        principal=Principal.local_operator(),
        folder=out,
        snapshots=[demo_dir / "snapshots" / "2025"],
        policy=demo_dir / "policy-monitoring-lines.csv",
    )
    assert outcome.years == (2025,)
    parsed = _parse(outcome.html)
    assert "monitoring" in parsed.text
    assert "missing" not in parsed.text, parsed.text.get("missing")
    lines = pd.read_csv(demo_dir / POLICY_FILE, encoding="utf-8-sig")
    line = float(lines.set_index("year").loc[2025, "value"])
    words = " ".join(parsed.text["by-county"])
    assert "2020 年后无贫困线：按防返贫监测线识别" in words
    assert f"2025 年监测线 {line:,.0f} 元/人·年" in words
    assert "not an official figure" in words  # the file's source, as given
    assert "由本单位政策文件提供" in words  # how sure: the office's own figure
    measures = pd.read_excel(outcome.workbook, sheet_name="measures", engine="openpyxl")
    assert set(measures["round"].astype(str)) == {"2025"}
    fgt = pd.read_excel(outcome.workbook, sheet_name="poverty_lines", engine="openpyxl")
    assert fgt.set_index("round").loc[2025, "line"] == pytest.approx(line)
    assert fgt.set_index("round").loc[2025, "line_kind"] == "monitoring_line"
    for name in ("monitoring-sweep.xlsx", "monitoring-audit.xlsx", "risk-score.xlsx"):
        assert (out / name).is_file()
    ours = pd.read_excel(outcome.workbook, sheet_name="monitoring_by_category", engine="openpyxl")
    total = ours[ours["category"].isna()].iloc[0]
    sweep = pd.read_excel(out / "monitoring-sweep.xlsx", sheet_name="监测排查", engine="openpyxl")
    included = sweep.loc[sweep["判定"] == "纳入监测", "户编号"].nunique()
    assert int(total["households"]) == included
    # the office's date of the check: 1 January after the year (the whole year's income)
    about = pd.read_excel(out / "monitoring-sweep.xlsx", sheet_name="说明", engine="openpyxl")
    assert about.set_index("项目").loc["排查日期", "内容"] == "2026-01-01"
