"""Use cases: measure poverty on a table, a registry snapshot or the bundled example, and the
change between snapshots.

Permission ``measure:run``. A snapshot folder is verified against its manifest (every file's
SHA-256 and row count) BEFORE any of its files is read, so a measurement never rests on a
changed or truncated snapshot. The tables of a snapshot are joined into one row per person
(households' columns and the income of the year), the same way for the command line and the
demo (:func:`person_frame`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dongxi.errors import InputError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from dongxi.measure import MeasureSpec
    from dongxi.policy import PolicyValue
    from dongxi.services.principal import Principal

__all__ = [
    "EXAMPLE",
    "GROUPS",
    "HEADLINE",
    "MeasureOutcome",
    "SnapshotTables",
    "line_words",
    "load_measure_data",
    "measure_change",
    "measure_data",
    "measure_snapshot",
    "person_frame",
    "policy_overrides",
    "read_snapshot",
    "spec_params",
    "suppress_small",
    "uses_income_line",
]

#: ``--data example``: the bundled synthetic example.
EXAMPLE = "example"
#: The measures a summary shows first (the rest: decomposition, popsh, … are in the full table).
HEADLINE = ("M0", "H", "A", "FGT0", "FGT1", "FGT2", "Watts", "Gini")
#: Groupings of a snapshot's measurement: the column added to each person's row → the number
#: of leading digits of the village code it keeps.
GROUPS = {"county": 6, "township": 9}
#: The columns of a result that a suppressed group does not show.
_SUPPRESSED = ("estimate", "se", "ci_low", "ci_high", "n")
#: The tables of a snapshot a measurement reads.
SNAPSHOT_TABLES = ("households", "people", "income")
#: The income column whose line varies by year (the only parameter allowed to vary by round),
#: and the parameter of that line (the income line of the year: :func:`dongxi.policy.income_line`).
_INCOME = "net_income_per_capita"
_LINE = "poverty_line"


@dataclass(frozen=True)
class MeasureView:
    """The headline of a measurement as people read it: names, percentages, counts."""

    title: str
    rule: str
    counts: str
    legend: str
    several_k: bool
    rows: list[dict[str, str]]
    line: str = ""


@dataclass(frozen=True)
class MeasureOutcome:
    """A measurement: the tidy result, each unit's profile (when asked) and the files written."""

    result: pd.DataFrame
    source: str
    year: int | None
    units: pd.DataFrame | None = None
    out: Path | None = None
    units_out: Path | None = None
    view: MeasureView | None = None

    def headline(self) -> list[dict[str, Any]]:
        """The rows of the headline measures (:data:`HEADLINE`), in the result's order."""
        rows = self.result[self.result["measure"].isin(HEADLINE)]
        return [{str(k): v for k, v in rec.items()} for rec in rows.to_dict("records")]


@dataclass(frozen=True)
class SnapshotTables:
    """The tables of a snapshot, read once it matched its manifest (:func:`read_snapshot`).

    The use cases take a folder or this object; passing the object measures one snapshot with
    several specs without reading and verifying it again.
    """

    folder: Path
    manifest: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]


def read_snapshot(folder: Path) -> SnapshotTables:
    """The households, people and income of a snapshot, read only once the folder matches its
    manifest (``InputError``/``NotFoundError`` otherwise)."""
    import pandas as pd

    from dongxi.store._snapshot import verify_snapshot

    if not (folder / "manifest.json").is_file():
        raise InputError(
            "The folder is not a registry snapshot (no manifest.json).",
            file=str(folder),
            rule="snapshot",
            fix="Give a table file, a folder written by 'dongxi snapshot', or 'example'.",
        )
    manifest = verify_snapshot(folder)
    tables: dict[str, pd.DataFrame] = {}
    for name in SNAPSHOT_TABLES:
        entry = manifest["tables"].get(name)
        if entry is None:
            raise InputError(
                f"The snapshot has no {name} table.",
                file=str(folder),
                rule="snapshot",
                fix="Write the snapshot again with 'dongxi snapshot'.",
            )
        tables[name] = pd.read_parquet(folder / str(entry["file"]))
    return SnapshotTables(folder=folder, manifest=manifest, tables=tables)


def _tables(snapshot: Path | SnapshotTables) -> SnapshotTables:
    return snapshot if isinstance(snapshot, SnapshotTables) else read_snapshot(snapshot)


def person_frame(tables: Mapping[str, pd.DataFrame], year: int | None) -> pd.DataFrame:
    """One row per person with the household's columns and the income of ``year`` (all years
    when ``None``)."""
    income = tables["income"]
    if year is not None:
        income = income[income["year"].astype(int) == year]
    people = tables["people"].merge(
        tables["households"], on="household_code", how="left", suffixes=("", "_household")
    )
    return people.merge(income, on="household_code", how="left", suffixes=("", "_income"))


def latest_year(tables: Mapping[str, pd.DataFrame]) -> int | None:
    """The newest income year of a snapshot (``None`` without income)."""
    income = tables["income"]
    return int(income["year"].max()) if len(income) else None


def load_measure_data(data: str, *, year: int | None) -> tuple[pd.DataFrame, str, int | None]:
    """Read ``data``: a table file, a snapshot folder or ``example``. Returns (frame, name, year);
    for a snapshot the year defaults to its newest income year."""
    import pandas as pd

    from dongxi.tables import read_table

    if data == EXAMPLE:
        ref = resources.files("dongxi.measure") / "data" / "example.parquet"
        with resources.as_file(ref) as path:
            return pd.read_parquet(path), "example", year
    path = Path(data)
    if path.is_dir():
        tables = read_snapshot(path).tables
        if year is None:
            year = latest_year(tables)
        return person_frame(tables, year), str(path), year
    if not path.is_file():
        raise NotFoundError(
            f"Data file {path} does not exist.",
            fix="Check the path, or use --data example for the bundled example.",
        )
    return read_table(path), str(path), year


def _params_of(obj: Any, out: set[str]) -> None:
    from pydantic import BaseModel

    from dongxi.measure import Param

    if isinstance(obj, Param):
        out.add(obj.param)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            _params_of(getattr(obj, name), out)
    elif isinstance(obj, list | tuple):
        for item in obj:
            _params_of(item, out)


def policy_overrides(policy: Path | str | Sequence[PolicyValue] | None) -> list[PolicyValue]:
    """The override figures of ``policy``: read from the file it names (``--policy FILE``),
    taken as they are when already read, none when ``None``."""
    if policy is None:
        return []
    if isinstance(policy, str | Path):
        from dongxi.policy import load_overrides

        return load_overrides(policy)
    return list(policy)


def spec_params(
    spec: MeasureSpec,
    *,
    year: int | None,
    province: str | None,
    overrides: Sequence[PolicyValue] = (),
) -> dict[str, float]:
    """Values of the spec's ``{param = …}`` from policy data for the year and province; the
    ``overrides`` (a province's or county's own figures) win over the built-in figures.

    ``poverty_line`` is the income line of the year by :func:`dongxi.policy.income_line`: the
    poverty line through 2020, the relapse-monitoring line after it (the same rule as the
    report's; :func:`line_words` says which in words)."""
    names: set[str] = set()
    _params_of(spec, names)
    if not names:
        return {}
    if year is None:
        raise InputError(
            f"The spec uses policy parameters ({', '.join(sorted(names))}) that depend on the "
            "year.",
            column="--year",
            rule="param",
            fix="Give --year, e.g. --year 2020 (and --province 450000 for a provincial standard).",
        )
    from dongxi.policy import get_parameter, income_line

    scope = province or "national"
    return {
        name: float(
            income_line(year, scope=scope, overrides=overrides).value
            if name == _LINE
            else get_parameter(name, year=year, scope=scope, overrides=overrides).value
        )
        for name in sorted(names)
    }


def uses_income_line(spec: MeasureSpec) -> bool:
    """Whether the spec names the income line of the year (``{ param = "poverty_line" }``)."""
    names: set[str] = set()
    _params_of(spec, names)
    return _LINE in names


def line_words(
    spec: MeasureSpec,
    *,
    year: int | None,
    province: str | None,
    overrides: Sequence[PolicyValue] = (),
) -> tuple[str, str] | None:
    """Which income line the spec's ``poverty_line`` is in ``year`` (zh, en), with its source and
    how sure it is; ``None`` when the spec names no ``poverty_line`` or no year is given."""
    if year is None or not uses_income_line(spec):
        return None
    from dongxi.services._lines import choose_line

    return choose_line(year, scope=province, overrides=overrides).words()


def _reference_date(
    value: str | dt.date | None, *, year: int | None, spec: MeasureSpec
) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(
                "The reference date is not a date.",
                column="--reference-date",
                value=value,
                fix="Write it as YYYY-MM-DD.",
            ) from None
    if year is not None and spec.reference_date is None:
        return dt.date(year, 12, 31)
    return None


def _measure(
    frame: pd.DataFrame,
    *,
    spec: MeasureSpec,
    source: str,
    year: int | None,
    k: Sequence[float | str] | None,
    by: Sequence[str],
    province: str | None,
    reference_date: str | dt.date | None,
    backend: str | None,
    se: bool,
    units: bool,
    out: Path | None,
    units_out: Path | None,
    inputs: Sequence[Path] = (),
    overrides: Sequence[PolicyValue] = (),
    names: bool = False,
    view: bool = False,
    change_interval: str = "normal",
) -> MeasureOutcome:
    from dongxi.measure import identify, measure
    from dongxi.settings import get_settings
    from dongxi.tables import write_table

    ref = _reference_date(reference_date, year=year, spec=spec)
    params = spec_params(spec, year=year, province=province, overrides=overrides)
    result = measure(
        frame,
        spec,
        k=k or None,
        by=by,
        params=params,
        backend=backend or get_settings().analytics_url,
        se=se,
        reference_date=ref,
        source=source,
        change_interval=change_interval,  # type: ignore[arg-type]
    )
    profiles = None
    people_rows = (
        spec.unit.analysis == "people"
        and spec.unit.household is not None
        and spec.unit.household in frame.columns
        and not spec.design.weight
    )
    if units or units_out is not None or (view and people_rows):
        profiles = identify(
            frame, spec, k=k or None, params=params, reference_date=ref, source=source
        )
    written = (
        write_table(result, out, option="--out", inputs=list(inputs)) if out is not None else None
    )
    units_written = None
    if units_out is not None and profiles is not None:
        units_written = _write_units(
            profiles, frame, spec, k=k, params=params, path=units_out, inputs=inputs, names=names
        )
    shown = None
    if view:
        people = _people_by_group(profiles, frame, spec, by) if people_rows else None
        shown = _view(result, spec, k=k, people=people)
        words = line_words(spec, year=year, province=province, overrides=overrides)
        if words is not None:
            shown = dataclasses.replace(shown, line=f"{words[0]}\n{words[1]}")
    return MeasureOutcome(
        result=result,
        source=source,
        year=year,
        units=profiles,
        out=written,
        units_out=units_written,
        view=shown,
    )


#: Short names of the headline measures in the terminal (explained in the legend).
_LEGEND = (
    "H 贫困发生率 headcount ratio · A 平均剥夺强度 intensity · "
    "M0 = H×A 调整后多维贫困指数 adjusted headcount · FGT0 收入贫困发生率 income headcount · "
    "FGT1 贫困差距 poverty gap · Gini 基尼系数"
)
_SHARES = ("H", "A", "FGT0", "FGT1", "FGT2")


def _pct(value: float, digits: int = 1) -> str:
    return "" if value != value else f"{value * 100:.{digits}f}%"


def _num(value: float) -> str:
    return "" if value != value else f"{value:.4f}"


def _group_name(by: str, group: str) -> str:
    from dongxi.report import place_name

    if by in ("", None):
        return "全部 all"
    if by in ("county_code", "township_code", "village_code") and group.isdigit():
        return place_name(group)
    return group


def _rule(spec: MeasureSpec, k: Sequence[float | str] | None) -> str:
    raw = list(k) if k else list(spec.k)
    parts = []
    for item in raw:
        if str(item) == "union":
            parts.append("任一项未达标即为贫困 poor if any criterion is unmet (union)")
        elif str(item) == "intersection":
            parts.append("全部未达标才为贫困 poor if all are unmet (intersection)")
        else:
            parts.append(f"k = {spec.cutoffs([item])[0].percent:g}%")
    text = ", ".join(parts)
    if not k and len(spec.k) > 1:
        text += f" (贫困 poor: k = {spec.cutoffs([spec.headline_k])[0].percent:g}%)"
    return text


def _people_by_group(
    units: pd.DataFrame | None, frame: pd.DataFrame, spec: MeasureSpec, by: Sequence[str]
) -> dict[tuple[str, str], int] | None:
    """People in the households measured, overall and per group, when H counts people and
    the data are person rows without design weights (then every weight is the household's size)."""
    import pandas as pd

    hh = spec.unit.household
    if units is None or hh is None or spec.unit.analysis != "people" or spec.design.weight:
        return None
    size = units.set_index(hh)["weight"]
    out = {("", ""): round(float(size.sum()))}
    for item in by:
        cols = [c.strip() for c in item.split(",")]
        if not all(c in frame.columns for c in cols):
            continue
        label = frame.groupby(hh)[cols].first().astype(str).agg(",".join, axis=1)
        joined = pd.DataFrame({"size": size, "group": label.reindex(size.index)})
        for group, total in joined.groupby("group")["size"].sum().items():
            out[(",".join(cols), str(group))] = round(float(total))
    return out


def _view(
    result: pd.DataFrame,
    spec: MeasureSpec,
    *,
    k: Sequence[float | str] | None,
    people: dict[tuple[str, str], int] | None,
) -> MeasureView:
    rows = result[result["measure"].isin(HEADLINE) & (result["indicator"].fillna("") == "")]
    several_k = rows["k"].dropna().nunique() > 1
    analysis_people = spec.unit.analysis == "people"
    out: list[dict[str, str]] = []
    for rec in rows.to_dict("records"):
        m = str(rec["measure"])
        share = m in _SHARES
        est, se = float(rec["estimate"]), float(rec["se"])
        low, high = float(rec["ci_low"]), float(rec["ci_high"])
        if share:
            ci = "" if low != low else f"{low * 100:.1f}–{high * 100:.1f}%"
        else:
            ci = "" if low != low else f"{low:.4f}–{high:.4f}"
        by, group = str(rec["by"] or ""), str(rec["group"] or "")
        n = int(rec["n"])
        income = m not in ("H", "A", "M0")
        if income:
            n_text = f"{n:,} 户" if not analysis_people else f"{n:,} 人"
        else:
            n_text = f"{n:,} 户"
            if people is not None and (by, group) in people:
                n_text += f"/{people[(by, group)]:,} 人"
        k_value = rec["k"]
        out.append(
            {
                "group": _group_name(by, group),
                "k": "" if k_value != k_value or income else f"{float(k_value):g}%",
                "measure": m,
                "estimate": _pct(est) if share else _num(est),
                "se": _pct(se, 2) if share else _num(se),
                "ci": ci,
                "n": n_text,
            }
        )
    weighting = "人口加权 people-weighted" if analysis_people else "按户 households"
    counts = (
        "n: 户 = households measured"
        + ("; 人 = their members (H, A, M0 count people)" if people is not None else "")
        + f"; {weighting}"
    )
    title = spec.title_zh or spec.title or spec.name
    return MeasureView(
        title=title,
        rule=_rule(spec, k),
        counts=counts,
        legend=_LEGEND,
        several_k=several_k,
        rows=out,
    )


def _poor_column(spec: MeasureSpec, k: Sequence[float | str] | None) -> str:
    """The ``poor_…`` column of :func:`dongxi.measure.identify` at the headline cutoff: the
    first ``k`` asked for, else the spec's (its ``poor_k``)."""
    raw = k[0] if k else spec.headline_k
    if str(raw) in ("union", "intersection"):
        return f"poor_{raw}"
    return f"poor_k{spec.cutoffs([raw])[0].percent:g}"


def _write_units(
    profiles: pd.DataFrame,
    frame: pd.DataFrame,
    spec: MeasureSpec,
    *,
    k: Sequence[float | str] | None,
    params: Mapping[str, float],
    path: Path,
    inputs: Sequence[Path],
    names: bool,
) -> Path:
    """The household list (who is poor and why, in Chinese) for registry data (households with
    a ``village_code``); each unit's profile (0/1 per indicator, score, poor per cutoff)
    otherwise."""
    from dongxi.report import household_list, write_household_list
    from dongxi.tables import write_table

    hh = spec.unit.household
    if hh is None or hh not in frame.columns or "village_code" not in frame.columns:
        return write_table(profiles, path, option="--households-out", inputs=list(inputs))
    labels = {ind.name: ind.label for dim in spec.dimensions for ind in dim.indicators}
    listing = household_list(
        profiles,
        frame,
        indicators=labels,
        household=hh,
        params=params,
        poor_column=_poor_column(spec, k),
        names=names,
    )
    return write_household_list(listing, path, inputs=list(inputs))


def measure_data(
    *,
    principal: Principal,
    spec: str | Path,
    data: str,
    k: Sequence[float | str] | None = None,
    by: Sequence[str] = (),
    year: int | None = None,
    province: str | None = None,
    reference_date: str | dt.date | None = None,
    backend: str | None = None,
    se: bool = True,
    units: bool = False,
    out: Path | None = None,
    units_out: Path | None = None,
    policy: Path | str | Sequence[PolicyValue] | None = None,
    change_interval: str = "normal",
) -> MeasureOutcome:
    """Alkire–Foster (and income) measures of ``data`` (a file, a snapshot folder or
    ``example``) under ``spec`` (a TOML file or a built-in name).

    Policy parameters are taken for ``year`` and ``province`` (``policy``: an override file of
    the office's own figures, ``--policy FILE``, which win over the built-in ones); ages at
    ``reference_date``
    (default: 31 December of ``year`` unless the spec names a date). ``out`` and ``units_out``
    receive the full table and each unit's profile.
    """
    principal.require("measure:run")
    from dongxi.measure import load_spec
    from dongxi.outputs import output_file

    inputs = [] if data == "example" else [Path(data)]
    if out is not None:  # checked before the (possibly long) measurement
        output_file(out, option="--out", inputs=inputs)
    if units_out is not None:
        output_file(units_out, option="--households-out", inputs=inputs)
    overrides = policy_overrides(policy)  # a broken file is reported before the data are read
    sp = load_spec(spec)
    frame, name, year = load_measure_data(data, year=year)
    return _measure(
        frame,
        spec=sp,
        source=name,
        year=year,
        k=k,
        by=by,
        province=province,
        reference_date=reference_date,
        backend=backend,
        se=se,
        units=units,
        out=out,
        units_out=units_out,
        inputs=inputs,
        overrides=overrides,
        names=principal.can("registry:read"),
        view=True,
        change_interval=change_interval,
    )


def measure_snapshot(
    *,
    principal: Principal,
    snapshot: Path | SnapshotTables,
    spec: MeasureSpec,
    year: int | None = None,
    by: Sequence[str] = (),
    province: str | None = None,
    source: str | None = None,
    policy: Path | str | Sequence[PolicyValue] | None = None,
) -> MeasureOutcome:
    """The measures of one snapshot (a folder, verified before it is read, or the tables
    :func:`read_snapshot` returned) for the income ``year`` (default: the newest); ``policy``
    as for :func:`measure_data`."""
    principal.require("measure:run")
    overrides = policy_overrides(policy)
    read = _tables(snapshot)
    tables = read.tables
    if year is None:
        year = latest_year(tables)
    frame = person_frame(tables, year)
    for name in by:
        if name in GROUPS and name not in frame.columns:
            frame[name] = frame["village_code"].astype(str).str[: GROUPS[name]]
    return _measure(
        frame,
        spec=spec,
        source=source or str(read.folder),
        year=year,
        k=None,
        by=by,
        province=province,
        reference_date=None,
        backend=None,
        se=True,
        units=False,
        out=None,
        units_out=None,
        overrides=overrides,
    )


def suppress_small(result: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """``result`` with the groups of fewer than ``min_cell`` units blanked (estimate, SE,
    interval and the count itself), marked in a ``suppressed`` column. The overall rows (no
    ``by``) are kept: they cover the whole snapshot."""
    import numpy as np

    out = result.copy()
    grouped = out["by"].astype(str) != ""
    n = out["n"].astype(float)
    small = grouped & (n > 0) & (n < min_cell)
    for column in _SUPPRESSED:
        if column in out.columns:
            out[column] = out[column].astype(float).where(~small, np.nan)
    out["suppressed"] = small
    return out


def measure_change(
    *,
    principal: Principal,
    snapshots: Mapping[int, Path | SnapshotTables],
    spec: MeasureSpec,
    province: str | None = None,
    policy: Path | str | Sequence[PolicyValue] | None = None,
    change_interval: str = "normal",
) -> pd.DataFrame:
    """Change of M0, H and A between consecutive rounds, one snapshot per year (a folder,
    verified before it is read, or the tables :func:`read_snapshot` returned).

    The rounds are pooled and measured once with the spec's survey rounds
    (:class:`dongxi.measure.Rounds`), so the change and its standard error come from
    :mod:`dongxi.measure` (delta method, covariance of the rounds from the design). Each round is
    identified with its own year's policy figures: ages at 31 December of its year, and the
    income poverty line of its year, applied by expressing income in multiples of that line
    (``income < line`` ⇔ ``income / line < 1``); any other parameter must be the same in every
    round. Columns: spec, k, measure, from, to, estimate_from, estimate_to, difference, se,
    ci_low, ci_high (absolute change, in the measure's unit), rel_change, rel_se, rel_ci_low,
    rel_ci_high (relative change, in percent). Intervals of changes: ``change_interval``
    ``"normal"`` (mpitbR's) or ``"t"`` (the pooled design's degrees of freedom). ``policy`` as for
    :func:`measure_data`.
    """
    principal.require("measure:run")
    import pandas as pd

    overrides = policy_overrides(policy)

    from dongxi.measure import Rounds, add_age, measure

    if len(snapshots) < 2:
        raise InputError(
            "A change needs at least two rounds.",
            rule="rounds",
            fix="Give one snapshot per round, for two or more years.",
        )
    pooled_spec = spec.model_copy(
        update={"rounds": Rounds(column="round", year="round_year"), "income": None}
    )
    hh = spec.unit.household
    parts = []
    fixed: dict[str, float] | None = None
    for year, snapshot in sorted(snapshots.items()):
        params = spec_params(spec, year=year, province=province, overrides=overrides)
        line = params.pop(_LINE, None)
        if fixed is not None and params != fixed:
            raise InputError(
                "The spec's policy parameters other than the poverty line differ between rounds.",
                value=str(sorted(set(params.items()) ^ set(fixed.items()))),
                rule="rounds",
                fix="Measure the rounds separately; a pooled change needs the same parameters.",
            )
        fixed = params
        read = _tables(snapshot)
        frame = person_frame(read.tables, year)
        frame = add_age(frame, spec, dt.date(year, 12, 31), source=str(read.folder))
        if line is not None:
            frame = frame.assign(**{_INCOME: frame[_INCOME].astype(float) / line})
        frame = frame.assign(round=str(year), round_year=year)
        if hh is not None:  # a household of two rounds is two units
            frame = frame.assign(**{hh: frame[hh].astype(str) + f"@{year}"})
        parts.append(frame)
    params = dict(fixed or {})
    if any(
        _LINE in spec_params(spec, year=y, province=province, overrides=overrides)
        for y in snapshots
    ):
        params[_LINE] = 1.0
    result = measure(
        pd.concat(parts, ignore_index=True),
        pooled_spec,
        by=("round",),
        params=params,
        source="snapshots " + ", ".join(str(y) for y in sorted(snapshots)),
        change_interval=change_interval,  # type: ignore[arg-type]
    )
    return _change_table(result)


def _change_table(result: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    rows = result[(result["by"] == "round") & (result["indicator"] == "")]
    level = rows.set_index(["k", "measure", "group"])["estimate"]
    relative = rows[rows["measure"].str.endswith("_rel_change")].set_index(
        ["k", "measure", "group"]
    )
    out = []
    for rec in rows[rows["measure"].str.endswith("_abs_change")].to_dict("records"):
        measure = str(rec["measure"]).removesuffix("_abs_change")
        start, end = str(rec["group"]).split("->")
        out.append(
            {
                "spec": rec["spec"],
                "k": rec["k"],
                "measure": measure,
                "from": start,
                "to": end,
                "estimate_from": float(level[(rec["k"], measure, start)]),
                "estimate_to": float(level[(rec["k"], measure, end)]),
                "difference": float(rec["estimate"]),
                "se": float(rec["se"]),
                "ci_low": float(rec["ci_low"]),
                "ci_high": float(rec["ci_high"]),
                **_relative(relative, rec["k"], measure, rec["group"]),
            }
        )
    return pd.DataFrame(out)


def _relative(relative: pd.DataFrame, k: Any, measure: str, group: Any) -> dict[str, float]:
    """The relative change (percent) of the same measure, cutoff and pair of rounds."""
    key = (k, f"{measure}_rel_change", group)
    if key not in relative.index:
        nan = float("nan")
        return {"rel_change": nan, "rel_se": nan, "rel_ci_low": nan, "rel_ci_high": nan}
    rec = relative.loc[key]  # type: ignore[index]
    return {
        "rel_change": float(rec["estimate"]),
        "rel_se": float(rec["se"]),
        "rel_ci_low": float(rec["ci_low"]),
        "rel_ci_high": float(rec["ci_high"]),
    }
