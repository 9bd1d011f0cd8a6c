"""Use cases: find an administrative division, and export the packaged divisions.

Both read the package data of :mod:`dongxi.regions` (no registry, no personal data, so no
permission): ``search_regions`` finds divisions by code (a prefix) or by name (any part of it),
each with its full name from the province down ("广西壮族自治区 南宁市 隆安县 …");
``export_regions`` writes every division as CSV or XLSX with Chinese headers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from dongxi.errors import InputError
from dongxi.vocab import REGION_LEVELS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LEVEL_NAMES",
    "RegionMatch",
    "RegionsExport",
    "count_regions",
    "export_regions",
    "parse_vintage",
    "place_name",
    "search_regions",
]

#: The Chinese name of each level of the packaged divisions, from the top level down.
LEVEL_NAMES = REGION_LEVELS.zh

#: Headers of the exported file, in its column order.
EXPORT_HEADERS: dict[str, str] = {
    "code": "区划代码",
    "name": "名称",
    "level_zh": "级别",
    "parent_code": "上级代码",
    "full_name": "全称",
    "vintage": "版本年份",
}

_VINTAGES = (2017, 2023)


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """One division found: its code, level (``province`` … ``village``) and full name."""

    code: str
    level: str
    name: str
    full_name: str

    @property
    def level_zh(self) -> str:
        """The level in Chinese (``县级`` …)."""
        return LEVEL_NAMES.get(self.level, self.level)


@dataclass(frozen=True, slots=True)
class RegionsExport:
    """Where the divisions were written, and how many rows."""

    path: Path
    rows: int
    vintage: int


def parse_vintage(vintage: int) -> int:
    """``vintage`` if the package holds divisions of that year, else an ``InputError``."""
    if vintage not in _VINTAGES:
        raise InputError(
            "Region data exist for the 2017 and 2023 vintages only.",
            column="--vintage",
            value=vintage,
            fix="Use --vintage 2017 or --vintage 2023.",
        )
    return vintage


@cache
def _with_full_names(vintage: int) -> pd.DataFrame:
    """The divisions of ``vintage`` with a ``full_name`` column (ancestors' names, then its own)."""
    from dongxi.regions import divisions

    frame = divisions(vintage)  # type: ignore[arg-type]
    names = dict(zip(frame["code"], frame["name"], strict=True))
    parents = dict(zip(frame["code"], frame["parent_code"], strict=True))
    full: dict[str, str] = {}

    def full_name(code: str) -> str:
        if code not in full:
            parent = parents.get(code)
            own = names[code]
            full[code] = (
                own if parent is None or parent not in names else (f"{full_name(parent)} {own}")
            )
        return full[code]

    frame["full_name"] = [full_name(code) for code in frame["code"]]
    frame["level_zh"] = frame["level"].map(LEVEL_NAMES)
    return frame


_NAMES_LOCK = threading.Lock()


def _full_names() -> dict[str, str]:
    """code → full name, built once per process even when many requests ask at the same time
    (``functools.cache`` alone lets every waiting thread build it: 40 threads of a server's pool
    each spent seconds on the same table)."""
    with _NAMES_LOCK:
        return _build_full_names()


@cache
def _build_full_names() -> dict[str, str]:
    """code → full name, 2023 names first, 2017 codes filling the gaps (older registries)."""
    out: dict[str, str] = {}
    for vintage in (2023, 2017):
        frame = _with_full_names(vintage)
        for code, full in zip(frame["code"].astype(str), frame["full_name"], strict=True):
            out.setdefault(code, str(full))
    return out


def place_name(code: str | None, *, levels: int = 3) -> str:
    """A division by name for people who read it, the nearest ``levels`` names (county,
    township, village: "隆安县 城厢镇 某村"), never a bare code; an unknown code is shown as is."""
    if not code:
        return ""
    full = _full_names().get(code)
    return " ".join(full.split(" ")[-levels:]) if full else code


def search_regions(text: str, *, vintage: int = 2023, limit: int | None = 50) -> list[RegionMatch]:
    """Divisions whose code starts with ``text`` (digits) or whose name contains it.

    Ordered from the top level down, then by code; at most ``limit`` (``None``: all).
    """
    wanted = text.strip()
    if not wanted:
        raise InputError(
            "Give a name (or part of one) or a code to search for.",
            column="TEXT",
            fix="e.g. 'dongxi regions search 隆安' or 'dongxi regions search 450123'.",
        )
    frame = _with_full_names(parse_vintage(vintage))
    if wanted.isdigit():
        found = frame[frame["code"].str.startswith(wanted)]
    else:
        found = frame[frame["name"].str.contains(wanted, regex=False)]
    order = {level: i for i, level in enumerate(LEVEL_NAMES)}
    found = found.assign(_order=found["level"].map(order)).sort_values(["_order", "code"])
    if limit is not None:
        found = found.head(limit)
    return [
        RegionMatch(code=c, level=lv, name=n, full_name=f)
        for c, lv, n, f in zip(
            found["code"], found["level"], found["name"], found["full_name"], strict=True
        )
    ]


def count_regions(text: str, *, vintage: int = 2023) -> int:
    """How many divisions :func:`search_regions` finds for ``text`` without a limit."""
    return len(search_regions(text, vintage=vintage, limit=None))


def export_regions(out: Path, *, vintage: int = 2023) -> RegionsExport:
    """Write every packaged division of ``vintage`` to ``out`` (.csv or .xlsx), Chinese headers."""
    from dongxi.tables import write_table

    frame = _with_full_names(parse_vintage(vintage))
    table = frame[list(EXPORT_HEADERS)].rename(columns=EXPORT_HEADERS)
    table = table.assign(**{"上级代码": table["上级代码"].fillna("")})
    path = write_table(table, out, option="--out")
    return RegionsExport(path=path, rows=len(table), vintage=vintage)
