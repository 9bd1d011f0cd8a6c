"""Synthetic personal names: common surnames and given-name characters, combined at random.

Names are built from frequent surnames (weighted towards those common in Guangxi: 黄, 韦, 李, 陈,
覃, 蒙, 莫 …) and common given-name characters; they are not taken from any list of real people.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["make_names", "make_surnames"]

# surname → relative weight (assumption: Guangxi-flavoured frequencies, Zhuang surnames frequent)
_SURNAMES: dict[str, float] = {
    "黄": 9.0,
    "韦": 7.0,
    "李": 6.5,
    "陈": 5.5,
    "梁": 4.0,
    "刘": 3.5,
    "覃": 3.5,
    "莫": 3.0,
    "蒙": 2.5,
    "罗": 2.5,
    "杨": 2.5,
    "卢": 2.0,
    "潘": 2.0,
    "蓝": 2.0,
    "农": 1.8,
    "陆": 1.8,
    "谭": 1.5,
    "邓": 1.5,
    "周": 1.5,
    "吴": 1.5,
    "赵": 1.5,
    "何": 1.4,
    "廖": 1.4,
    "林": 1.4,
    "张": 2.0,
    "王": 1.8,
    "唐": 1.2,
    "石": 1.0,
    "甘": 0.8,
    "兰": 0.8,
    "盘": 0.8,
    "冯": 0.8,
    "曾": 0.8,
    "钟": 0.8,
    "苏": 0.8,
    "许": 0.6,
    "谢": 0.7,
    "卜": 0.4,
    "欧": 0.5,
    "麻": 0.3,
    "班": 0.4,
    "凌": 0.4,
    "岑": 0.5,
    "闭": 0.4,
    "马": 0.5,
    "胡": 0.6,
    "朱": 0.6,
}
_MALE_CHARS = tuple(
    "伟强军勇杰涛斌超明刚平辉鹏华飞鑫波宁文国建荣新春海林峰宇浩志德成龙永东生金顺福祥光才"
)
_FEMALE_CHARS = tuple("芳娟敏静丽艳娜燕玲霞琴英梅兰凤秀红萍莉婷雪桂香月花美春玉珍翠云琳慧倩佳欣妹")

_SURNAME_ARRAY = np.array(list(_SURNAMES.keys()))
_SURNAME_P = np.array(list(_SURNAMES.values()))
_SURNAME_P = _SURNAME_P / _SURNAME_P.sum()


def make_surnames(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """``n`` surnames drawn by frequency."""
    return _SURNAME_ARRAY[rng.choice(len(_SURNAME_ARRAY), size=n, p=_SURNAME_P)]


def make_names(
    rng: np.random.Generator, surnames: npt.NDArray[np.str_], male: npt.NDArray[np.bool_]
) -> npt.NDArray[np.str_]:
    """Full names: the given surname plus one or two given-name characters chosen by sex."""
    n = len(surnames)
    male_chars = np.array(_MALE_CHARS)
    female_chars = np.array(_FEMALE_CHARS)
    first = np.where(
        male,
        male_chars[rng.integers(0, len(male_chars), n)],
        female_chars[rng.integers(0, len(female_chars), n)],
    )
    second = np.where(
        male,
        male_chars[rng.integers(0, len(male_chars), n)],
        female_chars[rng.integers(0, len(female_chars), n)],
    )
    two = rng.random(n) < 0.8
    given = np.where(two, np.char.add(first, second), first)
    return np.char.add(surnames.astype("U1"), given)
