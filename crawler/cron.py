"""Five-field cron expressions (minute hour day-of-month month day-of-week), read the way Vixie cron reads them.

Our own small parser rather than a dependency: ``scrapy schedule`` needs only "when is the next run", and the
rules are few (crontab(5) of Vixie/ISC cron, the one Debian ships, and Kubernetes CronJob's ``schedule`` field,
which documents the same syntax):

- a field is a comma-separated list of ``*``, ``N``, ``N-M``, each optionally followed by ``/STEP``; ``N/STEP``
  means ``N-<max>/STEP``;
- months and days of the week may be named by their first three letters (``jan``, ``mon``), in any case, also in
  ranges (``mon-fri``); day of week 0 and 7 are both Sunday;
- day of month and day of week: when both are restricted (neither starts with ``*``), a day matches if **either**
  matches (``0 3 1 * mon`` runs on the 1st and on every Monday); when one starts with ``*``, only the other counts;
- ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly`` stand for their
  usual expressions (``@reboot`` means nothing to a scheduler that is itself the process: refused).

Times are UTC, like a Kubernetes CronJob without ``timeZone``: a schedule does not jump when daylight saving time
starts or ends.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (name, lowest, highest, names for lowest..)
FIELDS = [("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
          ("month", 1, 12, MONTHS), ("day of week", 0, 7, DAYS)]
SEARCH_YEARS = 28  # the Gregorian calendar's weekdays repeat every 28 years within a century: no match by then, none ever


class CronError(ValueError):
    """An expression that is not valid cron (one line, naming the field)."""


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday (7 is folded into 0)
    days_star: bool  # the day-of-month field starts with '*'
    weekdays_star: bool

    def day_matches(self, day: datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return in_month and in_week  # the starred one matches every day: the other decides
        return in_month or in_week

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (naive, read as UTC); seconds are dropped."""
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * SEARCH_YEARS)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self.day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        raise CronError(f"{self.expression!r} never matches a real date")


def _number(text: str, low: int, high: int, names: list[str] | None, field: str) -> int:
    if names and text.lower() in names:
        return names.index(text.lower()) + low
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number" + (f" or a name ({names[0]}..{names[-1]})" if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{field}: {value} is outside {low}-{high}")
    return value


def parse_field(text: str, low: int, high: int, names: list[str] | None = None, field: str = "field") -> set[int]:
    """The values one field allows, e.g. ``parse_field("1-10/3,20", 0, 59) == {1, 4, 7, 10, 20}``."""
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = 1
        if _:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field}: step {step_text!r} is not a positive number")
            step = int(step_text)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, _, b = span.partition("-")
            first, last = _number(a, low, high, names, field), _number(b, low, high, names, field)
            if first > last:
                raise CronError(f"{field}: range {span!r} runs backwards")
        else:
            first = _number(span, low, high, names, field)
            last = high if step_text else first  # Vixie: "5/15" is "5-max/15"
        values.update(range(first, last + 1, step))
    return values


def parse(expression: str) -> Cron:
    """Read a cron expression (five fields or an ``@`` macro); raises :class:`CronError` saying what is wrong."""
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise CronError(f"unknown macro {text!r} (known: {', '.join(MACROS)})")
        text = MACROS[text.lower()]
    parts = text.split(" ")
    if len(parts) != 5:
        raise CronError(f"{expression!r}: expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}")
    sets = [parse_field(part, low, high, names, name) for part, (name, low, high, names) in zip(parts, FIELDS)]
    weekdays = {d % 7 for d in sets[4]}
    cron = Cron(expression, frozenset(sets[0]), frozenset(sets[1]), frozenset(sets[2]), frozenset(sets[3]),
                frozenset(weekdays), parts[2].startswith("*"), parts[4].startswith("*"))
    if cron.weekdays_star:  # a day of month that none of the months has (0 0 30 2 *) would wait forever: say so now
        longest = max(calendar.monthrange(2024, m)[1] for m in cron.months)  # 2024: a leap year
        if min(cron.days) > longest:
            raise CronError(f"{expression!r} never matches a real date")
    return cron
