"""Times as the user reads them: in the time zone of ``DONGXI_TIMEZONE`` (Asia/Shanghai by
default). The registry, the change log and manifests store UTC; only what is shown is converted.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dongxi.settings import get_settings

__all__ = ["local_time", "user_zone"]


def user_zone() -> ZoneInfo:
    """The time zone of ``DONGXI_TIMEZONE``."""
    return ZoneInfo(get_settings().timezone)


def local_time(moment: dt.datetime | str, *, seconds: bool = False) -> str:
    """``moment`` in the user's time zone as ``YYYY-MM-DD HH:MM`` and its UTC offset
    (``2024-05-01 20:30 UTC+08:00``; an offset, not an abbreviation: "CST" is also US Central
    time). A naive time or an ISO text without offset is taken as UTC (how dongxi stores
    times)."""
    when = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    shown = when.astimezone(user_zone())
    offset = shown.strftime("%z")  # +0800
    clock = shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{clock} UTC{offset[:3]}:{offset[3:]}"
