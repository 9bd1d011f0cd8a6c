"""The report's monitoring section (防返贫动态监测): counts from the sweep's decisions, written
for officials (Chinese first, rates with 户/人 counts, names not codes), and the score's use."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from dongxi.monitor import SWEEP_COLUMNS
from dongxi.monitor.score import USE_NOTE_ZH
from dongxi.report import ReportData, build_report
from dongxi.services._monitoring_report import summarise_sweep

# 隆安县 450123 (4 households), 马山县 450124 (2 households)
HOUSEHOLDS = pd.DataFrame(
    {
        "household_code": ["A", "B", "C", "D", "E", "F"],
        "village_code": [
            "450123100201",
            "450123100201",
            "450123101201",
            "450123101201",
            "450124100201",
            "450124100201",
        ],
    }
)
# members: A 3, B 2, C 4, D 1, E 5, F 2 (17 people; 隆安 10, 马山 7)
PEOPLE = pd.DataFrame(
    {
        "household_code": [
            c for c, n in zip("ABCDEF", (3, 2, 4, 1, 5, 2), strict=True) for _ in range(n)
        ]
    }
)


def _row(code: str, rule: str, outcome: str, category: str | None, monitored: bool) -> dict:
    village = HOUSEHOLDS.set_index("household_code").loc[code, "village_code"]
    return {
        "household_code": code,
        "village_code": village,
        "rule": rule,
        "outcome": outcome,
        "category": category,
        "reason_zh": "理由",
        "reason_en": "reason",
        "facts": "{}",
        "help_kind": "development",
        "in_monitoring": monitored,
    }


ROWS = pd.DataFrame(
    [
        _row("A", "income", "include", "marginal", False),
        _row("A", "medical", "include", "sudden_hardship", False),  # A counted once, marginal
        _row("C", "housing", "include", "unstable_escaped", True),
        _row("D", "income", "undecided", None, False),
        _row("E", "income", "include", "marginal", False),
        _row("F", "income", "exclude", None, False),
    ]
)[list(SWEEP_COLUMNS)]


def test_counts_by_category_county_and_rule() -> None:
    tables = summarise_sweep(ROWS, HOUSEHOLDS, PEOPLE)
    cat = tables["by_category"].set_index("category")
    assert cat.loc["marginal", ["households", "people"]].tolist() == [2, 8]  # A (3) + E (5)
    assert cat.loc["unstable_escaped", ["households", "people"]].tolist() == [1, 4]
    assert cat.loc["sudden_hardship", "households"] == 0  # A's first rule decides its category
    total = cat.loc[""]
    assert total[["households", "people", "households_total", "people_total"]].tolist() == [
        3,
        12,
        6,
        17,
    ]
    assert total["share_households"] == pytest.approx(0.5)
    county = tables["by_county"].set_index("county_code")
    assert county.loc[
        "450123", ["households", "households_total", "people", "people_total"]
    ].tolist() == [2, 4, 7, 10]
    assert county.loc["450124", ["households", "people"]].tolist() == [1, 5]
    assert county.loc["450123", "households_unstable_escaped"] == 1
    assert list(county.index) == ["450123", "450124"]  # equal shares (1/2): by code
    rules = tables["by_rule"].set_index("rule")
    assert rules.loc["income", "households"] == 2  # A, E (D undecided, F excluded)
    assert rules.loc["income", "households_undecided"] == 1
    assert rules.loc["medical", "households"] == 1
    status = tables["status"].set_index("group")["households"]
    assert status.to_dict() == {"already": 1, "new": 2, "undecided": 1}


class _Section(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.text: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            ident = dict(attrs).get("id") or ""
            self.ids.append(ident)
            self._in = ident == "monitoring"

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.text.append(data.strip())


def _monitoring_tables() -> dict[str, pd.DataFrame]:
    tables = summarise_sweep(ROWS, HOUSEHOLDS, PEOPLE)
    tables["audit"] = pd.DataFrame(
        {
            "finding": ["missed", "no_measure"],
            "finding_zh": ["应纳未纳", "体外循环：监测户无帮扶措施"],
            "finding_en": ["missed", "monitored, no measure"],
            "households": [7, 3],
        }
    )
    tables["score"] = pd.DataFrame(
        {
            "figure": ["auc", "recall_at_budget"],
            "figure_zh": ["AUC（全部户）", "前10%查出率（全部户）"],
            "figure_en": ["AUC", "recall"],
            "score": [0.8312, 0.5331],
            "rules": [0.8101, 0.4622],
        }
    )
    tables["about"] = pd.DataFrame(
        [
            ("year", "年度", "2025"),
            ("as_of", "排查日期", "2025-12-31"),
            ("window", "收入期间", "2024-12..2025-11"),
            ("line", "监测线", "7,293"),
            ("sweep_file", "排查名单", "monitoring-sweep.xlsx"),
            ("note_zh", "用途说明", USE_NOTE_ZH),
            ("note_en", "use", "orders sweeps"),
        ],
        columns=["item", "item_zh", "value"],
    )
    return tables


def test_section_written_for_officials(tmp_path: Path) -> None:
    html = build_report(ReportData(monitoring=_monitoring_tables()), folder=tmp_path)
    parsed = _Section()
    parsed.feed(html.read_text(encoding="utf-8"))
    assert "monitoring" in parsed.ids
    assert parsed.ids.index("monitoring") < parsed.ids.index("provenance")
    text = " ".join(parsed.text)
    # the total with its counts and shares: 3 of 6 households, 12 of 17 people
    assert "3 户、12 人" in text and "6 户的 50.0%" in text and "17 人的 70.6%" in text
    # counties by name, rates with counts
    assert "隆安县" in text and "马山县" in text and "450123" not in text
    assert "50.0%（2 / 4 户）" in text and "70.0%（7 / 10 人）" in text
    assert "收入低于监测线" in text  # reasons in words
    assert "应纳未纳" in text and "体外循环" in text
    assert "0.831" in text and "0.810" in text and "53.3%" in text and "46.2%" in text
    assert USE_NOTE_ZH in text
    assert "monitoring-sweep.xlsx" in text
    # Chinese before English in the heading
    assert text.index("防止返贫动态监测") < text.index("Monitoring to prevent relapse")
    sheets = pd.read_excel(html.with_suffix(".xlsx"), sheet_name=None, engine="openpyxl")
    assert {"monitoring_by_category", "monitoring_by_county", "monitoring_audit"} <= set(sheets)


def test_no_section_without_monitoring(tmp_path: Path) -> None:
    summary = pd.DataFrame({"label_zh": ["户数"], "label_en": ["households"], "value": [6]})
    html = build_report(ReportData(summary=summary), folder=tmp_path)
    parsed = _Section()
    parsed.feed(html.read_text(encoding="utf-8"))
    assert "monitoring" not in parsed.ids
