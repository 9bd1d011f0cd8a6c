"""The measurement spec: a TOML file loaded into validated, typed objects.

A spec says which deprivations count (dimensions → indicators, nested weights), where the poverty
cutoffs lie (``k`` in percent), who is identified (the household) and who is counted (people or
households), how the sample was drawn (weight, strata, PSU) and what to do with missing values.
The full format is documented in ``docs/measure.md``; a bad spec fails at load with the file, the
TOML key path, what was found and what to write instead (:class:`~dongxi.errors.SpecError`).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from dongxi.errors import InputError, NotFoundError, SpecError

__all__ = [
    "Aggregate",
    "Comparison",
    "Condition",
    "Cutoff",
    "Design",
    "Dimension",
    "IncomeSpec",
    "Indicator",
    "MeasureSpec",
    "Param",
    "Rounds",
    "Unit",
    "builtin_specs",
    "load_spec",
]

#: Tolerance for nested weights that must sum to 1 (then they are rescaled to sum exactly to 1).
WEIGHT_TOLERANCE = 1e-6

Op = Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in", "is null", "is not null"]
Missing = Literal["listwise", "deprived", "not_deprived"]
Scalar = bool | int | float | str | dt.date


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Model):
    """A value looked up at compute time in the ``params`` mapping (e.g. a poverty line)."""

    param: str = Field(min_length=1)


Value = Scalar | list[Scalar] | Param


class Comparison(_Model):
    """``column op value``; ``value`` may be a literal, a list (for ``in``) or ``{param = …}``."""

    column: str = Field(min_length=1)
    op: Op
    value: Value | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Comparison:
        if self.op in ("is null", "is not null"):
            if self.value is not None:
                raise ValueError(f"op '{self.op}' takes no value; remove 'value'")
        elif self.value is None:
            raise ValueError(f"op '{self.op}' needs a value, e.g. value = 1")
        elif self.op in ("in", "not in") and not isinstance(self.value, list | Param):
            raise ValueError(f"op '{self.op}' needs a list, e.g. value = [1, 2]")
        elif self.op not in ("in", "not in") and isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs one value, not a list; use op = 'in'")
        return self


class AllOf(_Model):
    """True when every condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyOf(_Model):
    """True when at least one condition is true."""

    any: list[Condition] = Field(min_length=1)


def _condition_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "all" in value:
            return "all"
        if "any" in value:
            return "any"
        return "comparison"
    if isinstance(value, AllOf):
        return "all"
    if isinstance(value, AnyOf):
        return "any"
    return "comparison"


Condition = Annotated[
    Annotated[Comparison, Tag("comparison")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")],
    Discriminator(_condition_kind),
]


class Threshold(_Model):
    """The comparison applied to an aggregated household value (``op value``)."""

    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float | int | Param


class Aggregate(_Model):
    """How member rows of person-level data become one household deprivation.

    ``any``/``all``: the household is deprived if any/all eligible members meet the indicator's
    ``rule``. ``count``/``share``: the number/share of eligible members meeting ``rule`` is
    compared with ``deprived``. ``min``/``max``/``sum``: ``column`` over eligible members is
    compared with ``deprived``. ``members`` selects the eligible members (all by default);
    ``empty`` is the household's status when it has no eligible member.
    """

    how: Literal["any", "all", "count", "share", "min", "max", "sum"]
    members: Condition | None = None
    column: str | None = None
    deprived: Threshold | None = None
    empty: Literal["deprived", "not_deprived"] = "not_deprived"

    @model_validator(mode="after")
    def _complete(self) -> Aggregate:
        if self.how in ("min", "max", "sum") and self.column is None:
            raise ValueError(f"how = '{self.how}' needs column = 'the member column to {self.how}'")
        if self.how in ("count", "share", "min", "max", "sum") and self.deprived is None:
            raise ValueError(
                f"how = '{self.how}' needs deprived = {{ op = '<', value = … }} "
                "(the comparison that makes the household deprived)"
            )
        if self.how in ("any", "all") and (self.deprived is not None or self.column is not None):
            raise ValueError(f"how = '{self.how}' takes neither 'column' nor 'deprived'")
        return self


class Indicator(_Model):
    """One deprivation indicator: an existing 0/1 ``column`` or a ``rule`` on raw columns."""

    name: str = Field(min_length=1)
    label: str | None = None
    weight: float | str | None = None
    column: str | None = None
    rule: Condition | None = None
    aggregate: Aggregate | None = None
    missing: Missing | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _one_definition(self) -> Indicator:
        uses_rule = self.aggregate is not None and self.aggregate.how in ("min", "max", "sum")
        if self.column is None and self.rule is None and not uses_rule:
            raise ValueError(
                "an indicator needs column = 'a 0/1 column' or rule = { column = …, op = …, "
                "value = … }"
            )
        if self.column is not None and (self.rule is not None or self.aggregate is not None):
            raise ValueError("give either column (a 0/1 column) or rule/aggregate, not both")
        if uses_rule and self.rule is not None:
            raise ValueError(
                f"aggregate.how = '{self.aggregate.how if self.aggregate else ''}' uses "
                "aggregate.column and aggregate.deprived; remove 'rule'"
            )
        return self


class Dimension(_Model):
    """A dimension of poverty; its indicators' weights are shares within the dimension."""

    name: str = Field(min_length=1)
    label: str | None = None
    weight: float | str | None = None
    indicators: list[Indicator] = Field(min_length=1)


class Unit(_Model):
    """Unit of identification (household id column) and of analysis."""

    household: str | None = None
    analysis: Literal["people", "households"] = "people"
    size: str | None = None


class Design(_Model):
    """Survey design; no PSU means each unit is its own PSU, no weight means weight 1."""

    weight: str | None = None
    strata: str | None = None
    psu: str | None = None
    lonely_psu: Literal["fail", "certainty", "adjust"] = "fail"


class Rounds(_Model):
    """Survey rounds: a round id column and, optionally, the column giving each round's year."""

    column: str = Field(min_length=1)
    year: str | None = None


class IncomeSpec(_Model):
    """Income poverty, handed to :func:`dongxi.measure.income.income_poverty`.

    ``column`` holds income per person (``per_capita = true``, the default) or per household
    (``per_capita = false``: divided by the household size). ``line`` is a number or
    ``{ param = "poverty_line" }``. Poor means income < line.
    """

    column: str = Field(min_length=1)
    line: float | Param
    per_capita: bool = True


#: A cutoff as a spec writes it: percent in (0, 100], or ``union`` / ``intersection``.
_K = float | Literal["union", "intersection"]


@dataclass(frozen=True)
class Cutoff:
    """A poverty cutoff k: its label in percent and its exact value as a fraction of 1.

    Deprivation scores are compared with ``value`` in exact arithmetic. ``union`` (poor if
    deprived in anything) is the smallest positive weight, ``intersection`` (poor if deprived in
    everything) is 1: a score reaches these exactly when the condition holds.
    """

    percent: float
    value: Fraction

    @classmethod
    def of(cls, k: float | str, weights: Sequence[Fraction]) -> Cutoff:
        """The cutoff ``k`` (percent, a number as text, ``union`` or ``intersection``) for
        indicators of effective ``weights``."""
        if isinstance(k, str) and k not in ("union", "intersection"):
            try:
                k = float(k)
            except ValueError:
                raise InputError(
                    f"The cutoff k must be a number in percent; got {k!r}.",
                    column="k",
                    value=k,
                    rule="k",
                    fix="Give k in percent in (0, 100], e.g. --k 33.33, or 'union'/'intersection'.",
                ) from None
        if k == "union":
            value = min(w for w in weights if w > 0)
            return cls(percent=float(value * 100), value=value)
        if k == "intersection":
            return cls(percent=100.0, value=Fraction(1))
        if not (0 < float(k) <= 100):
            raise InputError(
                "The cutoff k is in percent and must lie in (0, 100].",
                column="k",
                value=k,
                rule="k",
                fix="Give k in percent, e.g. 33.33 for one third (not 0.3333).",
            )
        return cls(percent=float(k), value=Fraction(str(float(k))) / 100)


class MeasureSpec(_Model):
    """A validated measurement spec. Build it with :func:`load_spec`."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    title: str | None = None
    #: The title in Chinese, shown first in reports (``title`` is the English one).
    title_zh: str | None = None
    description: str | None = None
    k: Annotated[list[_K], Field(min_length=1)]
    #: The cutoff the spec's documentation calls "poor" (one of ``k``): what reports headline.
    #: Default: the first of ``k``.
    poor_k: _K | None = None
    missing: Missing = "listwise"
    reference_date: dt.date | None = None
    birth_date: str = "birth_date"
    unit: Unit = Unit()
    design: Design = Design()
    rounds: Rounds | None = None
    income: IncomeSpec | None = None
    dimensions: list[Dimension] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)

    @field_validator("k", mode="before")
    @classmethod
    def _k_list(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("k")
    @classmethod
    def _k_range(cls, value: list[_K]) -> list[_K]:
        for item in value:
            if isinstance(item, float) and not (0.0 < item <= 100.0 and math.isfinite(item)):
                raise ValueError(
                    f"k is in percent and must lie in (0, 100]; got {item}. Write e.g. "
                    "k = [33.33] for one third"
                )
        return value

    @model_validator(mode="after")
    def _names_and_weights(self) -> MeasureSpec:
        seen: set[str] = set()
        for dim in self.dimensions:
            for ind in dim.indicators:
                if ind.name in seen:
                    raise ValueError(f"indicator name '{ind.name}' is used twice; names are unique")
                seen.add(ind.name)
        _check_sum([d.weight for d in self.dimensions], "dimensions")
        for i, dim in enumerate(self.dimensions):
            _check_sum([x.weight for x in dim.indicators], f"dimensions[{i}].indicators")
        return self

    # -- derived views -------------------------------------------------------------------------
    @property
    def indicators(self) -> list[Indicator]:
        """All indicators, in spec order."""
        return [ind for dim in self.dimensions for ind in dim.indicators]

    @property
    def indicator_names(self) -> list[str]:
        """Names of all indicators, in spec order."""
        return [ind.name for ind in self.indicators]

    def exact_weights(self) -> list[Fraction]:
        """Effective weight of each indicator (dimension weight × nested share), exactly.

        Missing weights are equal shares; decimal weights are read exactly as written and the
        vector is rescaled to sum exactly to 1 (it already sums to 1 within 1e-6).
        """
        dims = _fill([d.weight for d in self.dimensions])
        out: list[Fraction] = []
        for dim, wd in zip(self.dimensions, dims, strict=True):
            out.extend(wd * wi for wi in _fill([x.weight for x in dim.indicators]))
        total = sum(out, Fraction(0))
        return [w / total for w in out]

    def weights(self) -> list[float]:
        """Effective indicator weights as floats (sum to 1)."""
        return [float(w) for w in self.exact_weights()]

    @model_validator(mode="after")
    def _poor_k_listed(self) -> MeasureSpec:
        if self.poor_k is not None and self.poor_k not in self.k:
            raise ValueError(
                f"poor_k = {self.poor_k!r} is not one of the cutoffs k = {self.k!r}; "
                "name one of them"
            )
        return self

    @property
    def headline_k(self) -> float | str:
        """The cutoff reports headline: ``poor_k``, else the first of ``k``."""
        return self.k[0] if self.poor_k is None else self.poor_k

    def cutoffs(self, k: Sequence[float | str] | None = None) -> list[Cutoff]:
        """The cutoffs ``k`` (default: the spec's), resolved with the spec's exact weights."""
        weights = self.exact_weights()
        return [Cutoff.of(item, weights) for item in (self.k if k is None else k)]


def _to_fraction(value: float | str) -> Fraction:
    return Fraction(value) if isinstance(value, str) else Fraction(str(value))


def _fill(weights: list[float | str | None]) -> list[Fraction]:
    given = [w for w in weights if w is not None]
    if not given:
        return [Fraction(1, len(weights))] * len(weights)
    return [_to_fraction(w) for w in weights if w is not None]


def _check_sum(weights: list[float | str | None], where: str) -> None:
    given = [w for w in weights if w is not None]
    if not given:
        return
    if len(given) != len(weights):
        raise ValueError(
            f"{where}: give a weight to every item or to none (equal weights); "
            f"{len(given)} of {len(weights)} have one"
        )
    try:
        values = [_to_fraction(w) for w in given]
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(
            f"{where}: weights must be numbers or fractions like '1/6' ({exc})"
        ) from exc
    if any(v < 0 for v in values):
        raise ValueError(f"{where}: weights must not be negative")
    total = float(sum(values, Fraction(0)))
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise ValueError(
            f"{where}: weights must sum to 1 but sum to {total:.6g}; fix them or remove them "
            "all for equal weights"
        )


AllOf.model_rebuild()
AnyOf.model_rebuild()
Aggregate.model_rebuild()
Indicator.model_rebuild()


_BUILTIN_PACKAGE = "dongxi.measure.specs"


def builtin_specs() -> list[str]:
    """Names of the specs shipped with dongxi."""
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_spec(source: str | Path | dict[str, Any]) -> MeasureSpec:
    """Load and validate a spec from a TOML file, a built-in name, or a mapping.

    Raises :class:`~dongxi.errors.SpecError` naming the file and TOML key path of the problem,
    and :class:`~dongxi.errors.NotFoundError` for an unknown file or built-in name.
    """
    if isinstance(source, dict):
        return _validate(source, "<mapping>")
    path = Path(source)
    if path.suffix != ".toml" and not path.exists():
        name = str(source)
        folder = resources.files(_BUILTIN_PACKAGE)
        item = folder / f"{name}.toml"
        if not item.is_file():
            raise NotFoundError(
                f"No spec file or built-in spec named '{name}'.",
                fix=f"Give a path to a .toml file or one of: {', '.join(builtin_specs())}.",
            )
        return _parse(item.read_text(encoding="utf-8"), f"builtin:{name}")
    if not path.is_file():
        raise NotFoundError(
            f"Spec file {path} does not exist.",
            fix=f"Check the path, or use a built-in spec: {', '.join(builtin_specs())}.",
        )
    return _parse(path.read_text(encoding="utf-8"), str(path))


def _parse(text: str, where: str) -> MeasureSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"The spec is not valid TOML: {exc}.",
            file=where,
            rule="toml",
            fix="Fix the TOML syntax at the line shown (strings need quotes, tables [name]).",
        ) from None
    return _validate(data, where)


_FIELD_NAMES = frozenset(
    name
    for model in (
        MeasureSpec,
        Dimension,
        Indicator,
        Comparison,
        AllOf,
        AnyOf,
        Aggregate,
        Threshold,
        Unit,
        Design,
        Rounds,
        IncomeSpec,
        Param,
    )
    for name in model.model_fields
)


def _key_path(loc: tuple[int | str, ...], unknown_last: bool = False) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif (unknown_last and last) or (
            item in _FIELD_NAMES and not (i + 1 < len(loc) and loc[i + 1] == item)
        ):
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "<top level>"


def _validate(data: dict[str, Any], where: str) -> MeasureSpec:
    try:
        return MeasureSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)

        # Report the most specific problem: the error with the deepest key path.
        def path(e: Any) -> str:
            return _key_path(tuple(e["loc"]), e["type"] == "extra_forbidden")

        first = max(errors, key=lambda e: len(path(e)))
        key = path(first)
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise SpecError(
            f"Invalid spec at key '{key}': {msg}.",
            file=where,
            column=key,
            value=None if key == "<top level>" else _short(first.get("input")),
            rule=str(first["type"]),
            fix=_fix_for(first["type"], key),
        ) from None


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _fix_for(kind: str, key: str) -> str:
    if key == "k" or key.startswith("k["):
        return (
            "Write k in percent, e.g. k = [33.33] or k = [20, 33.33, 50], "
            "or 'union' / 'intersection'."
        )
    if kind == "extra_forbidden":
        return (
            f"Remove or rename '{key}'; allowed keys are listed in docs/measure.md "
            "(section 'Spec format')."
        )
    if kind == "missing":
        return f"Add '{key}' (see docs/measure.md, section 'Spec format')."
    if kind.startswith("literal") or kind == "enum":
        return f"Use one of the values allowed for '{key}' (see docs/measure.md)."
    return f"Correct '{key}' as described above (see docs/measure.md, section 'Spec format')."
