"""Partition days of `Mutatie_datum` in Amsterdam wall-clock time.

AFAS writes Europe/Amsterdam wall-clock times (with a meaningless `Z`), so a partition day D is
simply `D 00:00 <= Mutatie_datum < D+1 00:00` on that wall-clock: no UTC conversion, and the
daylight-saving days are 23 and 25 hours long without any special case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class DayRange:
    """Whole days `[start, end)` of Amsterdam wall-clock time."""

    start: date
    end: date  # exclusive

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty day range {self.start}..{self.end}")

    @classmethod
    def inclusive(cls, first: date, last: date) -> DayRange:
        return cls(first, last + timedelta(days=1))

    @property
    def first_moment(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def end_moment(self) -> datetime:
        return datetime.combine(self.end, time())

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    def chunks(self, max_days: int) -> Iterator[DayRange]:
        """Split into consecutive ranges of at most `max_days` days.

        Long ranges are split by date, not by skip: AFAS gets slow on large skips.
        """
        cursor = self.start
        while cursor < self.end:
            stop = min(cursor + timedelta(days=max_days), self.end)
            yield DayRange(cursor, stop)
            cursor = stop

    def __str__(self) -> str:
        last = self.end - timedelta(days=1)
        return str(self.start) if last == self.start else f"{self.start}..{last}"


def wall_clock(moment: datetime) -> datetime:
    """The naive Amsterdam wall-clock time of an aware datetime (naive ones are taken as is)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(AMSTERDAM).replace(tzinfo=None)


def amsterdam_today(now: datetime | None = None) -> date:
    return wall_clock(now or datetime.now(AMSTERDAM)).date()


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a day (YYYY-MM-DD): {text!r}") from exc
