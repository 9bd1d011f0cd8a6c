"""Reason codes for "why not this offer", with Chinese and English text.

Acceptability reasons are bits, so that one pair can fail several rules at once; the matching
reasons (``full``, ``not_chosen``) come from the matching methods, not from a kind.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REASONS", "Reason", "decode_reasons"]


@dataclass(frozen=True)
class Reason:
    """One reason code: its bit (0 for matching outcomes), code and bilingual text."""

    bit: int
    code: str
    zh: str
    en: str


REASONS: tuple[Reason, ...] = (
    Reason(
        1,
        "place_not_wanted",
        "工作地点不在本人意向务工地内",
        "the place is not one the person accepts",
    ),
    Reason(
        2,
        "wage_below_minimum",
        "月工资低于本人期望的最低月工资",
        "the wage is below the person's minimum",
    ),
    Reason(
        4,
        "no_dormitory",
        "本人需要宿舍而岗位不提供",
        "the person needs a dormitory and the post has none",
    ),
    Reason(
        8, "age_out_of_range", "年龄不在岗位要求范围内", "age outside the post's lawful age range"
    ),
    Reason(
        16,
        "education_below_required",
        "文化程度低于岗位要求",
        "education below the post's requirement",
    ),
    Reason(32, "skill_missing", "缺少岗位要求的技能", "lacks the skill the post requires"),
    Reason(
        64,
        "labour_capacity_insufficient",
        "劳动能力不满足岗位要求",
        "labour capacity below what the post's work needs",
    ),
    Reason(
        128, "not_listed_by_offer", "对方未将本人列入名单", "the offer does not list the person"
    ),
    Reason(
        256,
        "course_not_wanted",
        "培训内容不是本人想学的（与本人意向行业、具体需求不符）",
        "the course teaches nothing the person asked to learn",
    ),
    Reason(
        512,
        "course_over",
        "培训已结束（结束日期早于本人登记需求或本轮匹配的日期）",
        "the course has ended (before the need was stated or the round's date)",
    ),
    Reason(
        1024,
        "too_far",
        "培训地点太远（不在本省，也不在本人意向地点内）",
        "the course is too far (outside the home province and the places the person lists)",
    ),
    Reason(
        2048,
        "not_near_home",
        "帮扶车间不在本人所在县（不是家门口就业）",
        "the workshop is not in the person's home county",
    ),
    Reason(
        4096,
        "hours_too_long",
        "每天工作（培训）时长超过本人能投入的时长，或未写明时长",
        "the hours a day exceed what the person can give (or are not stated)",
    ),
    Reason(0, "matched", "已匹配", "matched"),
    Reason(
        0,
        "full",
        "名额已满，由对方排序更靠前（政策优先或技能更匹配）的求职者获得",
        "full with applicants the offer ranks higher (policy priority or better skill fit)",
    ),
    Reason(
        0,
        "not_chosen",
        "福利最优分配将该名额给了其他人",
        "the welfare-optimal assignment gave the place to others",
    ),
    Reason(0, "no_capacity", "该岗位没有名额", "the offer has no places"),
)

_BY_BIT = {r.bit: r for r in REASONS if r.bit}
REASON_BY_CODE = {r.code: r for r in REASONS}


def decode_reasons(mask: int) -> list[Reason]:
    """The reasons whose bits are set in ``mask``, in table order."""
    return [r for bit, r in _BY_BIT.items() if mask & bit]
