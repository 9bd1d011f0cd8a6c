"""Use case: write a synthetic registry as the import files offices hand in.

No principal: it reads and writes no registry, and every person in it is invented
(:mod:`dongxi.synth`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dongxi.errors import InputError

__all__ = ["FORMATS", "HEADERS", "SynthOutcome", "synthesise"]

FORMATS = ("csv", "xlsx", "parquet")
HEADERS = ("zh", "en")


@dataclass(frozen=True)
class SynthOutcome:
    """What was written: the folder, the rows of each table, the years of the panel."""

    folder: Path
    rows: dict[str, int]
    years: tuple[int, ...]


def synthesise(
    *,
    out: Path,
    households: int | None = None,
    scale: str | None = None,
    seed: int = 0,
    years: Sequence[int] = (2016, 2017, 2018, 2019, 2020),
    vintage: int = 2017,
    fmt: str = "csv",
    headers: str = "zh",
    rounds: bool = True,
    through: int | None = None,
    policy: Path | None = None,
    phase: Callable[[str], None] | None = None,
) -> SynthOutcome:
    """Synthesise the registry and write one file per table into ``out``; with several years
    and ``rounds``, each year's round also goes to ``out/<year>/``. ``phase`` hears what is
    being done (for a spinner). ``through`` adds the monthly panel 2021..``through`` (monthly
    income, the shocks behind it, yearly rounds; :func:`dongxi.synth.generate`); ``policy`` an
    override file whose ``monitoring_line`` figures (province or county) replace the default
    lines of those years."""
    from dongxi.synth import SCALES, generate, write_files

    if scale is not None and scale not in SCALES:
        raise InputError(
            "Unknown scale.", column="--scale", value=scale, fix=f"Use one of {', '.join(SCALES)}."
        )
    if fmt not in FORMATS:
        raise InputError(
            "Unknown format.", column="--format", value=fmt, fix="Use csv, xlsx or parquet."
        )
    if headers not in HEADERS:
        raise InputError("Unknown headers.", column="--headers", value=headers, fix="Use zh or en.")
    overrides = []
    if policy is not None:
        from dongxi.policy import load_overrides

        overrides = load_overrides(policy)
    if phase is not None:
        phase("synthesising …")
    data = generate(
        households=households,
        scale=scale,
        seed=seed,
        years=years,
        vintage=vintage,
        through=through,
        overrides=overrides,
    )
    fmt_l: Literal["csv", "xlsx", "parquet"] = fmt  # type: ignore[assignment]
    hdr: Literal["zh", "en"] = headers  # type: ignore[assignment]
    if phase is not None:
        phase(f"writing {fmt} files …")
    write_files(data, out, fmt=fmt_l, headers=hdr)
    if rounds and len(data.years) > 1:
        for year in data.years:
            write_files(data, out / str(year), fmt=fmt_l, headers=hdr, year=year)
    rows = {name: len(frame) for name, frame in data.tables().items()}
    if data.shocks is not None:
        rows["shocks"] = len(data.shocks)
    return SynthOutcome(
        folder=out,
        rows=rows,
        years=tuple(data.years),
    )
