"""Which income line a year's identification uses, and that choice in words (zh, en).

The rule itself is :func:`dongxi.policy.income_line` (the poverty line through 2020, the
relapse-monitoring line 防返贫监测线 after it; an office's own figures win). This module turns the
choice into what people read — the line, where it applies, its source and how sure it is — for
the report (:mod:`dongxi.services.reporting`) and ``dongxi measure``
(:mod:`dongxi.services.measurement`), and never raises when a year has no line:
:func:`choose_line` returns a :class:`LineChoice` whose words say so, so that a report can show
it and go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dongxi.errors import NotFoundError

if TYPE_CHECKING:
    from dongxi.policy import PolicyValue

__all__ = ["STATUS_WORDS", "LineChoice", "choose_line", "status_words"]

#: How sure a figure is (policy data's ``status``), in words for people: (zh, en).
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "verified": ("已核实：有原始来源", "verified: a primary source states it"),
    "approximate": (
        "近似值：官方“约”数或由原始文件推算，不是精确数",
        "approximate: an official 'about' figure or derived from a primary text, not exact",
    ),
    "unverified": (
        "未核实：常被引用，未找到原始出处",
        "unverified: commonly cited, no primary source found",
    ),
    "example": (
        "示例：某一地方的数值，不是全国或本省的标准",
        "an example: one locality's figure, not a national or provincial rule",
    ),
    "user": (
        "由本单位政策文件提供（--policy），dongxi 未核实",
        "supplied in the office's policy file (--policy), not checked by dongxi",
    ),
}


def status_words(status: str) -> tuple[str, str]:
    """``status`` of a policy figure in words (zh, en); an unknown status is shown as it is."""
    return STATUS_WORDS.get(status, (status, status))


def _place(scope: str) -> tuple[str, str]:
    if scope == "national":
        return "全国", "national"
    from dongxi.services.regions import place_name

    name = place_name(scope, levels=2)
    if name == scope:  # a division dongxi cannot name (outside its packaged regions)
        return f"地区代码 {scope}", f"region {scope}"
    return name, name


@dataclass(frozen=True)
class LineChoice:
    """The income line of ``year`` for ``scope`` (``value`` ``None``: no line applies, and
    ``problem`` says why)."""

    year: int
    scope: str
    value: PolicyValue | None
    problem: str = ""

    @property
    def found(self) -> bool:
        return self.value is not None

    @property
    def kind(self) -> str:
        """``poverty_line``, ``monitoring_line``, or ``none``."""
        return self.value.name if self.value is not None else "none"

    def words(self) -> tuple[str, str]:
        """The choice in a sentence each: which line, its figure and region, source, status."""
        from dongxi.policy import LAST_POVERTY_LINE_YEAR

        y = self.year
        asked_zh, asked_en = _place(self.scope)
        v = self.value
        if v is None:
            return (
                f"{y} 年无可用的收入线：2020 年后无贫困线，应按防返贫监测线识别，但政策数据和"
                f"本单位政策文件中都没有适用于{asked_zh}的 {y} 年监测线。本年度未按收入线识别，"
                "也未计算收入贫困；请用 --policy 文件提供本省（或本县）当年的监测线"
                "（参数 monitoring_line）。",
                f"No income line for {y}: after {LAST_POVERTY_LINE_YEAR} there is no poverty line "
                f"and identification uses the relapse-monitoring line, but neither policy data nor "
                f"the office's policy file has a monitoring line of {y} for {asked_en}. The year "
                "was not identified against an income line and its income poverty was not "
                "computed; give the province's (or county's) monitoring line of the year "
                "(parameter monitoring_line) in a --policy file.",
            )
        where_zh, where_en = _place(v.scope)
        figure = f"{v.value:,.0f}"
        sure_zh, sure_en = status_words(v.status)
        if v.source:
            tail_zh = f"来源：{v.source}；可信程度：{sure_zh}。"
            tail_en = f"Source: {v.source}; how sure: {sure_en}."
        else:
            tail_zh = f"来源：未列出原始出处（{v.note or '无说明'}）；可信程度：{sure_zh}。"
            tail_en = f"Source: none listed ({v.note or 'no note'}); how sure: {sure_en}."
        if v.name == "monitoring_line":
            return (
                f"2020 年后无贫困线：按防返贫监测线识别，{y} 年监测线 {figure} 元/人·年"
                f"（适用范围：{where_zh}），人均纯收入低于监测线即符合监测对象的收入条件。"
                + tail_zh,
                f"No poverty line after {LAST_POVERTY_LINE_YEAR}: identified with the "
                f"relapse-monitoring line (防返贫监测线) of {y}, {figure} yuan per person a year "
                f"(applies to: {where_en}); income per person below it is the income criterion "
                "of a monitored household (监测对象). " + tail_en,
            )
        if y > LAST_POVERTY_LINE_YEAR:
            return (
                f"2020 年后无国家贫困线：按本单位政策文件给出的 {y} 年贫困线 {figure} 元/人·年识别"
                f"（适用范围：{where_zh}）。" + tail_zh,
                f"No national poverty line after {LAST_POVERTY_LINE_YEAR}: identified with the "
                f"poverty line of {y} the office's policy file gives, {figure} yuan per person a "
                f"year (applies to: {where_en}). " + tail_en,
            )
        return (
            f"按 {y} 年国家扶贫标准（贫困线）{figure} 元/人·年识别（适用范围：{where_zh}），"
            "人均纯收入低于贫困线即收入未达标。" + tail_zh,
            f"Identified with the poverty line of {y}, {figure} yuan per person a year "
            f"(applies to: {where_en}); income per person below it is poor by income. " + tail_en,
        )

    def row(self) -> dict[str, Any]:
        """One row of the report's table of lines (``round`` is the year as text)."""
        zh, en = self.words()
        v = self.value
        return {
            "round": str(self.year),
            "line_kind": self.kind,
            "line": float(v.value) if v is not None else float("nan"),
            "scope": v.scope if v is not None else self.scope,
            "status": v.status if v is not None else "",
            "source": (v.source or v.note) if v is not None else "",
            "words_zh": zh,
            "words_en": en,
        }


def choose_line(
    year: int, *, scope: str | None, overrides: Sequence[PolicyValue] = ()
) -> LineChoice:
    """The income line of ``year`` for ``scope`` (``None``: national) by
    :func:`dongxi.policy.income_line`; when none applies, a choice without a value whose
    ``problem`` is the policy lookup's message (never raises for a missing line)."""
    from dongxi.policy import income_line, normalise_scope

    where = normalise_scope(scope or "national")
    try:
        value = income_line(int(year), scope=where, overrides=overrides)
    except NotFoundError as exc:
        return LineChoice(year=int(year), scope=where, value=None, problem=str(exc))
    return LineChoice(year=int(year), scope=where, value=value)
