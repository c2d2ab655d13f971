"""Window arithmetic for timing steps: durations in Novu's units, cron in a subscriber's zone."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_SECONDS_PER_UNIT = {
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86_400,
    "weeks": 604_800,
}

TIME_UNITS = frozenset({*_SECONDS_PER_UNIT, "months"})


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value (SQLite hands those back) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def duration(values: Any) -> tuple[float, str] | None:
    """`(amount, unit)` from a `{amount, unit}` mapping, or None when it holds no valid duration."""
    if not isinstance(values, dict):
        return None
    amount, unit = values.get("amount"), values.get("unit")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0 and unit in TIME_UNITS:
        return float(amount), str(unit)
    return None


def add_duration(moment: datetime, amount: float, unit: str) -> datetime:
    """`moment` + `amount` `unit`s; months are calendar months (the day clamped to the month's end)."""
    if unit == "months":
        whole = int(amount)
        month_index = moment.month - 1 + whole
        year, month = moment.year + month_index // 12, month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + timedelta(days=30 * (amount - whole))
    if unit not in _SECONDS_PER_UNIT:
        raise ValueError(f"Unknown time unit {unit!r}")
    return moment + timedelta(seconds=amount * _SECONDS_PER_UNIT[unit])


def zone(name: str | None) -> ZoneInfo:
    """The IANA time zone `name`, or UTC when it is missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def next_cron_time(expression: str, after: datetime, timezone: str | None) -> datetime:
    """The first time after `after` that the cron `expression` names, read as wall-clock time
    in `timezone`; returned in UTC."""
    local = as_utc(after).astimezone(zone(timezone))
    upcoming: datetime = croniter(expression, local).get_next(datetime)
    return as_utc(upcoming)
