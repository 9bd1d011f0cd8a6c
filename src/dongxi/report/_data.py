"""What a report is made of: plain tables, each optional, with their expected columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from dongxi.errors import InputError
from dongxi.measure import OUTPUT_COLUMNS

__all__ = ["LONG_COLUMNS", "ReportData"]

#: Columns of the long table of the identification engine (``dongxi.measure``).
LONG_COLUMNS: tuple[str, ...] = tuple(OUTPUT_COLUMNS)

_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "summary": ("label_zh", "label_en", "value"),
    "measures": (*LONG_COLUMNS, "round"),
    "income": ("round", "net_income_per_capita"),
    "poverty_lines": ("round", "line"),
    "income_lines": ("round", "words_zh", "words_en"),
    "income_measures": ("round", "measure", "estimate"),
    "snapshots": ("round", "snapshot_id"),
    "counts": (
        "spec",
        "round",
        "by",
        "group",
        "households",
        "people",
        "poor_households",
        "poor_people",
    ),
}


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """The tables a report shows. Every table is optional; a missing one is reported as missing.

    - ``summary``: headline figures, columns ``label_zh, label_en, value`` (``unit`` optional).
    - ``measures``: the long table of ``dongxi.measure`` (:data:`LONG_COLUMNS`) for one or more
      rounds, with a ``round`` column (e.g. the assessment year) added.
    - ``income``: one row per unit (household or person) and round: ``round,
      net_income_per_capita`` (``weight`` optional).
    - ``poverty_lines``: ``round, line`` (``source``, ``status``, ``line_kind`` optional), the
      income line each round's income poverty was measured against (``line_kind``
      ``poverty_line`` or ``monitoring_line``).
    - ``income_lines``: ``round, words_zh, words_en`` (``line_kind, line, scope, status, source``
      optional): the income line each round was identified with, in words (which line, its
      figure, source and how sure it is, or that the year has none), shown at the head of the
      identification section.
    - ``income_measures``: ``round, measure, estimate`` (``se``, ``ci_low``, ``ci_high``, ``by``,
      ``group`` optional): FGT0/1/2, Watts, Gini.
    - ``change``: change over time between rounds, shown as given.
    - ``matching``: named tables of a matching round; ``summary`` (``label_zh, label_en,
      value``), ``by_group`` (``by, group, seekers, matched, matched_rate``) and ``welfare``
      are charted when present, every table is listed.
    - ``matching_words``: (zh, en) which round the matching tables are, said above them.
    - ``snapshots``: ``round, snapshot_id`` (``table, rows, sha256, created_at`` optional).
    - ``specs``: the measurement specs used (``name`` and any description columns).
    - ``policy``: policy parameters with ``name, value, unit, effective_from, status, source``.
    - ``missing``: pieces that were not available, written into the report as such.
    - ``indicator_labels``: indicator name → label shown in charts and tables (e.g. the spec's
      ``label``, Chinese first whichever order it is written in); names without a label are shown
      as they are.
    - ``counts``: households and people, and those poor at each spec's headline cutoff, overall
      (``by`` = "") and by group: ``spec, round, by, group, households, people,
      poor_households, poor_people`` — shown beside the rates.
    - ``spec_labels``: spec name → (zh, en) title shown instead of the name.
    - ``headline_k``: spec name → the cutoff (percent, as the long table's ``k``) the report
      headlines: the one the spec's documentation calls "poor" (default: the first k).
    - ``cutoff_labels``: spec name → (zh, en) words for the headline cutoff.
    - ``lang``: ``"zh-en"`` (bilingual, Chinese first) or ``"zh"`` (Chinese only).
    - ``monitoring``: named tables of a year's monitoring (防返贫动态监测; built by
      :func:`dongxi.services.reporting.monitoring_tables`): ``by_category`` (``category,
      category_zh, households, people, households_total, people_total, share_households,
      share_people``; the row with ``category`` "" is the total), ``by_county`` (``county_code,
      households, households_total, share_households, people, people_total, share_people``,
      ``households_<category>``), ``by_rule`` (``rule, rule_zh, households,
      households_undecided``), ``status`` (``group_zh, households``), ``audit`` (``finding,
      finding_zh, households``), ``score`` (``figure, figure_zh, score, rules``) and ``about``
      (``item, item_zh, value``: year, date of the check, line, files, the score's use).
    """

    title_zh: str = "东西部协作精准识别报告"
    title_en: str = "East–West collaboration: identification report"
    subtitle: str = ""
    summary: pd.DataFrame | None = None
    measures: pd.DataFrame | None = None
    income: pd.DataFrame | None = None
    poverty_lines: pd.DataFrame | None = None
    income_lines: pd.DataFrame | None = None
    income_measures: pd.DataFrame | None = None
    change: pd.DataFrame | None = None
    matching: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    matching_words: tuple[str, str] | None = None
    snapshots: pd.DataFrame | None = None
    specs: pd.DataFrame | None = None
    policy: pd.DataFrame | None = None
    missing: Sequence[str] = ()
    county_by: str = "county_code"
    indicator_labels: Mapping[str, str] = field(default_factory=dict)
    counts: pd.DataFrame | None = None
    spec_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    headline_k: Mapping[str, float] = field(default_factory=dict)
    cutoff_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    lang: str = "zh-en"
    monitoring: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lang not in ("zh-en", "zh"):
            raise InputError(
                "The report's language is zh-en (bilingual) or zh (Chinese only).",
                value=self.lang,
                rule="report language",
                fix="Use lang='zh-en' or lang='zh'.",
            )
        for name, columns in _REQUIRED.items():
            frame = getattr(self, name)
            if frame is None:
                continue
            if not isinstance(frame, pd.DataFrame):
                raise InputError(
                    f"The report table '{name}' must be a pandas DataFrame.",
                    value=type(frame).__name__,
                    fix=f"Pass a DataFrame with the columns {', '.join(columns)}.",
                )
            absent = [c for c in columns if c not in frame.columns]
            if absent:
                raise InputError(
                    f"The report table '{name}' lacks the columns {', '.join(absent)}.",
                    column=absent[0],
                    rule="report table columns",
                    fix=f"Give '{name}' the columns {', '.join(columns)}.",
                )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table present, by sheet name (as written to the XLSX and CSV files)."""
        out: dict[str, pd.DataFrame] = {}
        for name in (
            "summary",
            "measures",
            "counts",
            "income_measures",
            "poverty_lines",
            "income_lines",
            "change",
            "snapshots",
            "specs",
            "policy",
        ):
            frame = getattr(self, name)
            if frame is not None:
                out[name] = frame
        for name, frame in self.matching.items():
            out[f"matching_{name}"] = frame
        for name, frame in self.monitoring.items():
            out[f"monitoring_{name}"] = frame
        if self.missing:
            out["missing"] = pd.DataFrame({"missing": list(self.missing)})
        return out
