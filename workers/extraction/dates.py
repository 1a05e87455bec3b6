"""Dates as invoices print them, in EN/DE/FR/ES/IT/NL/PT: "05.03.2018", "03/20/2023",
"8-9-2022", "2018-03-05", "5. März 2018", "Jan 1, 2022", "1er janvier 2022", "3 de marzo de
2022", output as "YYYY-MM-DD".

"03/04/2022" is 3 April in Europe and March 4 in the US. The order is decided once per
document (`infer_day_first`): a date that can only be read one way decides it; otherwise the
language and currency do.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from workers.extraction.layout import fold

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan januar janv janvier enero ene gennaio gen januari janeiro jänner jaenner",
        "february feb februar fevrier fevr fev febrero febbraio febr februari fevereiro",
        "march mar marz maerz mars marzo maart marco mrt",
        "april apr avril avr abril aprile",
        "may mai mayo maggio mag mei maio",
        "june jun juni juin junio giugno giu junho",
        "july jul juli juillet juil julio luglio lug julho",
        "august aug aout agosto ago augustus",
        "september sep sept septembre septiembre settembre set setembro",
        "october oct oktober octobre octubre ottobre ott okt outubro out",
        "november nov novembre noviembre novembro",
        "december dec dezember decembre diciembre dic dicembre dez dezembro",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS.setdefault(_name, _number)

_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>\d{4}|'?\d{2})(?!\d)"
_PATTERNS = [
    ("iso", re.compile(r"(?<!\d)(?P<year>\d{4})[-/.](?P<a>\d{1,2})[-/.](?P<b>\d{1,2})(?!\d)")),
    (
        "numeric",
        # A stray dot before the day (".05.03.2019", OCR noise or a leader) is not a digit.
        re.compile(
            r"(?<![\d,/])(?<!\d\.)(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)" + _YEAR
        ),
    ),
    ("numeric", re.compile(r"(?<![\d.,/])(?P<a>\d{1,2})\s?/\s?(?P<b>\d{1,2})\s?/\s?" + _YEAR)),
    (
        "day_month",
        re.compile(
            r"(?<![\d\w])(?P<day>\d{1,2})(?:st|nd|rd|th|er|e|º|°)?\.?\s*(?:de\s+|-)?"
            + _MONTH
            + r"\s*(?:de\s+|del\s+|-)?,?\s*"
            + _YEAR
        ),
    ),
    (
        "month_day",
        re.compile(r"(?<![\w])" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR),
    ),
]

# Languages that write the month first in numeric dates.
MONTH_FIRST_LANGUAGES = frozenset({"en_us"})


@dataclass(frozen=True)
class DateMatch:
    start: int
    end: int
    # (day, month, year) readings that are real dates; two when the order is ambiguous.
    day_first: dt.date | None
    month_first: dt.date | None

    def value(self, day_first: bool = True) -> dt.date | None:
        preferred = self.day_first if day_first else self.month_first
        return preferred or self.day_first or self.month_first


def _year(text: str) -> int:
    digits = int(text.lstrip("'"))
    if len(text.lstrip("'")) == 2:
        return 2000 + digits if digits < 70 else 1900 + digits
    return digits


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    return value if 1970 <= value.year <= 2100 else None


def find_dates(text: str) -> list[DateMatch]:
    """Every date in `text`, left to right, with both readings where the order is open."""
    folded = fold(text)
    found: list[DateMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < b and end > a for a, b in taken):
                continue
            groups = match.groupdict()
            if kind == "iso":
                value = _date(int(groups["year"]), int(groups["a"]), int(groups["b"]))
                readings = (value, value)
            elif kind == "numeric":
                year = _year(groups["year"])
                a, b = int(groups["a"]), int(groups["b"])
                day_first = _date(year, b, a)
                # "05.03.2018" with dots is always day first; only / and - are ambiguous.
                month_first = None if groups.get("sep") == "." else _date(year, a, b)
                readings = (day_first, month_first)
            else:
                month = MONTHS[groups["month"]]
                value = _date(_year(groups["year"]), month, int(groups["day"]))
                readings = (value, value)
            if readings[0] is None and readings[1] is None:
                continue
            found.append(DateMatch(start, end, readings[0], readings[1]))
            taken.append((start, end))
    found.sort(key=lambda match: match.start)
    return found


def infer_day_first(
    texts: list[str], language: str | None = None, currency: str | None = None
) -> bool:
    """Whether the document's numeric dates put the day first. A date like "20/03/2023"
    (only day-first is a date) or "03/20/2023" (only month-first) settles it; else US
    English (English text with dollars) is month-first and everything else day-first."""
    votes = day_first_votes(texts)
    if votes:
        return votes > 0
    return not (language == "en" and currency in (None, "USD"))


def day_first_votes(texts: list[str]) -> int:
    """Dates that only read day first, less those that only read month first."""
    votes = 0
    for text in texts:
        for match in find_dates(text):
            if match.day_first and not match.month_first:
                votes += 1
            elif match.month_first and not match.day_first:
                votes -= 1
    return votes


def parse_date(text: str, day_first: bool = True) -> dt.date | None:
    """The first date in `text`, or None."""
    matches = find_dates(text)
    return matches[0].value(day_first) if matches else None
