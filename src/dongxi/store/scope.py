"""Scopes: which registry rows a query may return.

A :class:`Scope` is applied by the data layer to every query that returns registry rows; a row
outside it does not exist for the caller (``NotFoundError``, exactly as for a missing key).
A region scope is a prefix of the 12-digit division code (GB/T 2260 + NBS): 2 digits a province,
4 a city (prefecture), 6 a county, 9 a township, 12 a village. A partner scope is one partner's
code. Reading everything is an explicit, named choice: :meth:`Scope.everything`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dongxi.errors import InputError

__all__ = ["REGION_PREFIX_LENGTHS", "Scope"]

#: Length of the code prefix that names a whole subtree, by level.
REGION_PREFIX_LENGTHS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


@dataclass(frozen=True)
class Scope:
    """The rows one caller may see: a region subtree, a partner, or (explicitly) everything."""

    region_prefix: str | None = None
    partner_code: str | None = None
    unrestricted: bool = False

    def __post_init__(self) -> None:
        if self.unrestricted and (self.region_prefix or self.partner_code):
            raise InputError(
                "An unrestricted scope cannot also name a region or a partner.",
                rule="scope",
                fix="Use Scope.everything() alone, or a region and/or partner scope.",
            )
        if not self.unrestricted and not (self.region_prefix or self.partner_code):
            raise InputError(
                "A scope must name a region subtree or a partner (or be Scope.everything()).",
                rule="scope",
                fix="Give region_prefix and/or partner_code.",
            )
        prefix = self.region_prefix
        if prefix is not None and (
            not prefix.isdigit() or len(prefix) not in REGION_PREFIX_LENGTHS.values()
        ):
            raise InputError(
                "A region scope is a division-code prefix of 2, 4, 6, 9 or 12 digits.",
                column="region",
                value=prefix,
                rule="scope",
                fix="Give a province (2), city (4), county (6), township (9) or village (12) code.",
            )

    @classmethod
    def everything(cls) -> Scope:
        """Every row of the registry (administrators, the command line's local operator)."""
        return cls(unrestricted=True)

    @classmethod
    def region(cls, code: str) -> Scope:
        """The subtree of one division, from its full 6- or 12-digit code or a prefix.

        Trailing zeros that only pad the code to its full length are dropped level by level:
        ``450000`` is the province ``45``, ``450100000000`` the city ``4501``.
        """
        text = code.strip()
        if not text.isdigit() or len(text) not in (2, 4, 6, 9, 12):
            raise InputError(
                "A division code has 2, 4, 6, 9 or 12 digits.",
                column="region",
                value=code,
                rule="scope",
                fix="Give a division code such as 450000 (province) or 450102000000.",
            )
        for length in (2, 4, 6, 9):
            if len(text) > length and set(text[length:]) == {"0"}:
                return cls(region_prefix=text[:length])
        return cls(region_prefix=text)

    def narrowed(self, code: str) -> Scope:
        """This scope limited to the subtree of the division ``code`` (a wider division than the
        scope's own region leaves it as it is); a division outside it is ``NotFoundError``,
        exactly like a missing one."""
        from dongxi.errors import NotFoundError

        asked = Scope.region(code).region_prefix or ""
        if self.unrestricted:
            return Scope.region(code)
        own = self.region_prefix
        if own is not None and own.startswith(asked):
            return self
        if own is not None and asked.startswith(own):
            return Scope(region_prefix=asked, partner_code=self.partner_code)
        raise NotFoundError(
            "该地区不在您可查看的范围内。The region is not in the registry you may see.",
            fix="Give a region inside your own scope (--region).",
        )

    def covers_region(self, code: str | None) -> bool:
        """Whether a division code lies inside the region part of this scope."""
        if self.unrestricted or self.region_prefix is None:
            return self.unrestricted or self.partner_code is None
        return code is not None and code.startswith(self.region_prefix)

    def where_region(self, column: Any) -> Any:
        """A SQL condition on a division-code column (``sa.true()`` when unrestricted)."""
        import sqlalchemy as sa  # here, not at import: a scope is also made where no SQL runs

        if self.unrestricted:
            return sa.true()
        if self.region_prefix is None:
            return sa.false()
        return column.startswith(self.region_prefix, autoescape=True)

    def where_partner(self, column: Any) -> Any:
        """A SQL condition on a partner-code column (``sa.true()`` when unrestricted)."""
        import sqlalchemy as sa

        if self.unrestricted:
            return sa.true()
        if self.partner_code is None:
            return sa.false()
        return column == self.partner_code
