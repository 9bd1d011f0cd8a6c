"""Reports (报告): one self-contained HTML file with inline SVG charts, and an XLSX of every table.

The report layer sits above the engines: it takes plain tables (the long table of
``dongxi.measure``, income per person, a matching round's tables, snapshot manifests, policy
figures) and writes files. It runs no measurement itself. Labels are bilingual, zh-CN first.

>>> from dongxi.report import ReportData, build_report
>>> path = build_report(ReportData(measures=long_table), folder="out")  # doctest: +SKIP
"""

from dongxi.report._build import build_report, render_html, write_workbook
from dongxi.report._data import LONG_COLUMNS, ReportData
from dongxi.report._households import household_list, write_household_list
from dongxi.report._labels import place_name

__all__ = [
    "LONG_COLUMNS",
    "ReportData",
    "build_report",
    "household_list",
    "place_name",
    "render_html",
    "write_household_list",
    "write_workbook",
]
