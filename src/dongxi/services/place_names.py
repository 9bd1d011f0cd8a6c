"""Names of divisions for people who read them: "隆安县 城厢镇 某村", never a bare code."""

from __future__ import annotations

from functools import cache

__all__ = ["place_name"]


@cache
def _names() -> dict[str, tuple[str, str | None]]:
    """code → (name, parent code), 2023 names first, 2017 codes filling the gaps."""
    from dongxi import regions

    out: dict[str, tuple[str, str | None]] = {}
    for vintage in (2023, 2017):
        frame = regions.divisions(vintage)
        for code, name, parent in zip(
            frame["code"].astype(str), frame["name"], frame["parent_code"], strict=True
        ):
            out.setdefault(code, (str(name), None if parent != parent else str(parent)))
    return out


def place_name(code: str | None, *, levels: int = 3) -> str:
    """The names of a division and its parents, nearest ``levels`` (county, township, village).

    Unknown codes are shown as the code itself (a registry may hold codes newer than the package).
    """
    if not code:
        return ""
    names = _names()
    parts: list[str] = []
    current: str | None = code
    while current and current in names and len(parts) < levels:
        name, parent = names[current]
        parts.append(name)
        current = parent
    return " ".join(reversed(parts)) if parts else code
