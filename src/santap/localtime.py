"""The restaurant's calendar: business days are Asia/Jakarta days (WIB, UTC+7, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Jakarta")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of ``day`` in Jakarta."""
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def today() -> date:
    """The restaurant's date now."""
    return datetime.now(LOCAL_TZ).date()
