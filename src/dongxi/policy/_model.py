"""The policy value record and the region-scope rules (GB/T 2260 code prefixes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Final

from dongxi.errors import InputError
from dongxi.vocab import POLICY_STATUSES

__all__ = ["NATIONAL", "STATUSES", "PolicyValue", "normalise_scope", "scope_chain"]

NATIONAL: Final = "national"

#: How far a figure is confirmed (:data:`dongxi.vocab.POLICY_STATUSES`, what the registry stores);
#: ``user`` marks a figure supplied in an override file, which is never stored.
STATUSES: Final = (*POLICY_STATUSES.codes, "user")


@dataclass(frozen=True)
class PolicyValue:
    """One policy figure, valid for one scope over a period of dates.

    ``scope`` is ``"national"`` or a 6-digit (province, prefecture, county), 9-digit (township) or
    12-digit (village) region code. ``effective_to`` is inclusive; ``None`` means still in force.
    """

    name: str
    scope: str
    value: float
    unit: str
    effective_from: datetime.date
    effective_to: datetime.date | None
    status: str
    source: str
    note: str

    def applies_to_year(self, year: int) -> bool:
        """Whether the figure is in force at some date of calendar year ``year``."""
        if self.effective_from.year > year:
            return False
        return self.effective_to is None or self.effective_to.year >= year

    @property
    def years(self) -> str:
        """The period as text: ``2013``, ``2018–`` or ``2016–2020``."""
        start = self.effective_from.year
        if self.effective_to is None:
            return f"{start}–"
        end = self.effective_to.year
        return str(start) if end == start else f"{start}–{end}"


def normalise_scope(scope: str) -> str:
    """``national`` or a full region code: ``45`` → ``450000``, ``4501`` → ``450100``.

    Accepts 2, 4, 6, 9 or 12 digits (GB/T 2260 province/prefecture/county codes, NBS township and
    village codes). Raises :class:`InputError` for anything else.
    """
    text = str(scope).strip()
    if text.lower() in (NATIONAL, "全国", "国家"):
        return NATIONAL
    if text.isdigit() and text.isascii():
        if len(text) == 2:
            return text + "0000"
        if len(text) == 4:
            return text + "00"
        if len(text) in (6, 9, 12):
            return text
    raise InputError(
        "A scope must be 'national' or a region code of 2, 4, 6, 9 or 12 digits.",
        column="scope",
        value=scope,
        rule="scope",
        fix="Write 'national', a province code such as 450000 (Guangxi), a prefecture such as "
        "450100, a county such as 450102, or a township/village code.",
    )


def scope_chain(scope: str) -> list[str]:
    """The scopes that apply to ``scope``, most specific first, ending with ``national``.

    ``450102001001`` (a village) → village, its township ``450102001``, county ``450102``,
    prefecture ``450100``, province ``450000``, ``national``.
    """
    code = normalise_scope(scope)
    if code == NATIONAL:
        return [NATIONAL]
    chain: list[str] = []
    if len(code) == 12:
        chain.append(code)
        code9 = code[:9]
        chain.append(code9)
    if len(code) == 9:
        chain.append(code)
    county = code[:6]
    for candidate in (county, county[:4] + "00", county[:2] + "0000"):
        if candidate not in chain:
            chain.append(candidate)
    chain.append(NATIONAL)
    return chain
