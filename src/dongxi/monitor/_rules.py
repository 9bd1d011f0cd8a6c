"""The monitoring rules as typed data, loaded from TOML (``monitor/data/rules.toml`` or an
office's own file).

Every code in the file is checked against :mod:`dongxi.vocab` and the registry's columns when it
is loaded, so a typo stops the load with the file, key and value, never a silent rule.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dongxi import vocab
from dongxi.errors import InputError

__all__ = [
    "RULE_KINDS",
    "Category",
    "ExitRules",
    "FocusGroup",
    "PovertyExit",
    "Rule",
    "Rules",
    "Transition",
    "load_rules",
]

#: What a rule tests (``kind`` in the file).
RULE_KINDS = ("income", "housing", "water", "spending", "income_drop")
_SPENDING_COLUMNS = ("medical_spending", "schooling_spending", "disaster_loss")
_HOUSEHOLD_FLAGS = (
    "water_quantity_ok",
    "water_quality_ok",
    "water_convenience_ok",
    "water_guarantee_ok",
    "road_access",
    "electricity",
)


@dataclass(frozen=True)
class Rule:
    """One risk rule: its code, kind, labels and parameters."""

    code: str
    kind: str
    zh: str
    en: str
    unsafe_grades: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    column: str | None = None
    share_of_income: float = 0.0
    min_amount: float = 0.0
    drop: float = 0.0
    below_line_multiple: float = 0.0


@dataclass(frozen=True)
class Category:
    """A monitoring category (code of ``vocab.MONITORING_CATEGORIES``): which groups and rules."""

    code: str
    groups: tuple[str, ...]
    rules: tuple[str, ...]

    @property
    def zh(self) -> str:
        return vocab.MONITORING_CATEGORIES[self.code].zh

    @property
    def en(self) -> str:
        return vocab.MONITORING_CATEGORIES[self.code].en


@dataclass(frozen=True)
class ExitRules:
    """Exit from monitoring (风险消除)."""

    stable_months: int
    safe_grades: tuple[str, ...]
    dropout_status: tuple[str, ...]
    no_labour_needs_safety_net: bool
    live_measure_statuses: tuple[str, ...]


@dataclass(frozen=True)
class PovertyExit:
    """Village and county exit: poverty incidence below a share (the west its own)."""

    incidence_below: float
    incidence_below_west: float
    west_provinces: tuple[str, ...]

    def threshold(self, region_code: str) -> float:
        """The share that applies to a division (by its province's two digits)."""
        west = str(region_code)[:2] in self.west_provinces
        return self.incidence_below_west if west else self.incidence_below


@dataclass(frozen=True)
class Transition:
    """The five-year transition period (过渡期) and its 四个不摘, as policy data."""

    start: int
    end: int
    items_zh: tuple[str, ...]
    items_en: tuple[str, ...]
    source: str

    def covers(self, year: int) -> bool:
        """Whether ``year`` lies inside the transition period."""
        return self.start <= year <= self.end


@dataclass(frozen=True)
class FocusGroup:
    """A focus group (重点人群) for the yearly sweep."""

    code: str
    zh: str
    en: str
    household: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    member: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    no_labour: bool = False


@dataclass(frozen=True)
class Rules:
    """The whole rule set: rules, categories, exit, poverty exit, transition, focus groups."""

    name: str
    status: str
    source: str
    window_months: int
    labour_capacity: tuple[str, ...]
    safety_net_batches: tuple[str, ...]
    rules: tuple[Rule, ...]
    categories: tuple[Category, ...]
    exit: ExitRules
    poverty_exit: PovertyExit
    transition: Transition
    focus_groups: tuple[FocusGroup, ...]

    def rule(self, code: str) -> Rule:
        """The rule named ``code``."""
        for r in self.rules:
            if r.code == code:
                return r
        raise KeyError(code)

    def category_for(self, group: str, rule: str) -> str | None:
        """The category of a household of ``group`` for which ``rule`` fired (``None``: none)."""
        for c in self.categories:
            if group in c.groups and rule in c.rules:
                return c.code
        return None


class _Reader:
    """Reads one table of the TOML file, with errors naming the file and the key."""

    def __init__(self, data: Mapping[str, Any], where: str, file: str) -> None:
        self.data = data
        self.where = where
        self.file = file

    def error(self, key: str, value: Any, message: str, fix: str) -> InputError:
        return InputError(
            f"规则文件有误 / The rules file is wrong at {self.where}{key}: {message}",
            file=self.file,
            column=f"{self.where}{key}",
            value=value,
            rule="monitor rules",
            fix=fix,
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.error(key, None, "missing", f"Add '{key} = …' (see the built-in file).")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(key, value, "wrong type", "Write a number or text, not true/false.")
        if not isinstance(value, kind):
            raise self.error(key, value, "wrong type", "Write it as in the built-in rules file.")
        return value

    def number(self, key: str, default: Any = ..., *, low: float = 0.0) -> float:
        value = float(self.get(key, (int, float), default))
        if value < low:
            raise self.error(key, value, f"must be ≥ {low:g}", f"Give a value ≥ {low:g}.")
        return value

    def codes(self, key: str, allowed: Sequence[str], default: Any = ...) -> tuple[str, ...]:
        values = self.get(key, list, default)
        out = tuple(str(v) for v in values)
        bad = [v for v in out if v not in allowed]
        if bad:
            raise self.error(key, bad[0], "unknown code", f"Use codes of: {', '.join(allowed)}.")
        return out

    def sub(self, key: str) -> _Reader:
        return _Reader(self.get(key, dict), f"{self.where}{key}.", self.file)

    def items(self, key: str) -> list[_Reader]:
        values = self.get(key, list)
        return [_Reader(v, f"{self.where}{key}[{i}].", self.file) for i, v in enumerate(values)]


def _rule(r: _Reader) -> Rule:
    kind = str(r.get("kind", str))
    if kind not in RULE_KINDS:
        raise r.error("kind", kind, "unknown kind", f"Use one of: {', '.join(RULE_KINDS)}.")
    base = {"code": str(r.get("code", str)), "kind": kind, "zh": r.get("zh", str)}
    base["en"] = r.get("en", str)
    if kind == "housing":
        return Rule(**base, unsafe_grades=r.codes("unsafe_grades", vocab.HOUSING_GRADES.codes))
    if kind == "water":
        return Rule(**base, flags=r.codes("flags", _HOUSEHOLD_FLAGS))
    if kind == "spending":
        column = str(r.get("column", str))
        if column not in _SPENDING_COLUMNS:
            raise r.error(
                "column", column, "not a spending column", f"Use {', '.join(_SPENDING_COLUMNS)}."
            )
        return Rule(
            **base,
            column=column,
            share_of_income=r.number("share_of_income"),
            min_amount=r.number("min_amount", 0.0),
        )
    if kind == "income_drop":
        drop = r.number("drop")
        if drop >= 1:
            raise r.error("drop", drop, "must be below 1", "Give a share such as 0.3.")
        return Rule(**base, drop=drop, below_line_multiple=r.number("below_line_multiple"))
    return Rule(**base)


def _focus(r: _Reader) -> FocusGroup:
    def conditions(key: str) -> dict[str, tuple[str, ...]]:
        if key not in r.data:
            return {}
        table = r.get(key, dict)
        out: dict[str, tuple[str, ...]] = {}
        for column, values in table.items():
            if column in ("id_number", "name"):  # never a condition on a person's identity
                raise r.error(key, column, "not allowed", "Use another column.")
            if not isinstance(values, list):
                raise r.error(f"{key}.{column}", values, "not a list", 'Write ["a", "b"].')
            out[str(column)] = tuple(str(v) for v in values)
        return out

    return FocusGroup(
        code=str(r.get("code", str)),
        zh=str(r.get("zh", str)),
        en=str(r.get("en", str)),
        household=conditions("household"),
        member=conditions("member"),
        no_labour=bool(r.get("no_labour", bool, False)),
    )


def _parse(data: Mapping[str, Any], file: str) -> Rules:
    top = _Reader(data, "", file)
    rules = tuple(_rule(r) for r in top.items("rules"))
    codes = [r.code for r in rules]
    if len(set(codes)) != len(codes):
        dup = next(c for c in codes if codes.count(c) > 1)
        raise top.error("rules", dup, "a rule code appears twice", "Give each rule its own code.")
    categories = []
    for c in top.items("categories"):
        code = str(c.get("code", str))
        if code not in vocab.MONITORING_CATEGORIES:
            raise c.error(
                "code",
                code,
                "not a monitoring category",
                f"Use one of: {', '.join(vocab.MONITORING_CATEGORIES.codes)}.",
            )
        categories.append(
            Category(
                code=code,
                groups=c.codes("groups", vocab.HOUSEHOLD_STATUSES.codes),
                rules=c.codes("rules", codes),
            )
        )
    window = int(top.sub("income").number("window_months", low=1))
    ex = top.sub("exit")
    pe = top.sub("poverty_exit")
    tr = top.sub("transition")
    transition = Transition(
        start=int(tr.number("start")),
        end=int(tr.number("end")),
        items_zh=tuple(str(v) for v in tr.get("items_zh", list)),
        items_en=tuple(str(v) for v in tr.get("items_en", list)),
        source=str(tr.get("source", str, "")),
    )
    if transition.end < transition.start:
        raise tr.error("end", transition.end, "before the start", "Give end ≥ start.")
    stable = int(ex.number("stable_months", low=1))
    if stable > window:
        raise ex.error(
            "stable_months", stable, "longer than the income window", f"Give at most {window}."
        )
    return Rules(
        name=str(top.get("name", str, Path(file).stem)),
        status=str(top.get("status", str, "unverified")),
        source=file,
        window_months=window,
        labour_capacity=top.sub("labour").codes("capacity", vocab.LABOUR_CAPACITY.codes),
        safety_net_batches=top.sub("help").codes("safety_net_batches", vocab.BATCHES.codes),
        rules=rules,
        categories=tuple(categories),
        exit=ExitRules(
            stable_months=stable,
            safe_grades=ex.codes("safe_grades", vocab.HOUSING_GRADES.codes),
            dropout_status=ex.codes("dropout_status", vocab.SCHOOL_STATUS.codes),
            no_labour_needs_safety_net=bool(ex.get("no_labour_needs_safety_net", bool)),
            live_measure_statuses=ex.codes("live_measure_statuses", vocab.MEASURE_STATUSES.codes),
        ),
        poverty_exit=PovertyExit(
            incidence_below=pe.number("incidence_below"),
            incidence_below_west=pe.number("incidence_below_west"),
            west_provinces=tuple(str(v) for v in pe.get("west_provinces", list)),
        ),
        transition=transition,
        focus_groups=tuple(_focus(f) for f in top.items("focus_groups")),
    )


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules of ``path`` (a TOML file), or the built-in national rules when ``None``."""
    if path is None:
        ref = resources.files("dongxi.monitor") / "data" / "rules.toml"
        return _parse(tomllib.loads(ref.read_text(encoding="utf-8")), "rules.toml (built-in)")
    p = Path(path)
    if not p.is_file():
        raise InputError(
            "规则文件不存在 / The rules file does not exist.",
            file=str(p),
            column="--rules",
            fix="Give the path of a TOML rules file (copy dongxi/monitor/data/rules.toml).",
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"规则文件不是有效的 TOML / The rules file is not valid TOML: {exc}",
            file=str(p),
            column="--rules",
            fix="Correct the file (UTF-8 TOML, as the built-in rules.toml).",
        ) from None
    return _parse(data, str(p))
