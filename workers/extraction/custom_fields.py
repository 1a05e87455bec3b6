"""Custom fields of an extraction schema: `{name, type, labels[], pattern}` read from the
document's text.

A label is looked for line by line (case-insensitive); the value is the rest of that line
after the label (or the next line when the label stands alone). A `pattern` narrows the
value (its first group, else the whole match); without a label match it searches the whole
text. Patterns are user input, so they run on RE2, whose matching time is linear in the text:
no pattern can hang a worker (backreferences and look-arounds are refused when the schema
is saved).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import re2

from common.money import to_minor_units
from workers.extraction.dates import parse_date
from workers.extraction.numbers import parse_amount

SEPARATORS = " \t:=#-–"


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile a user pattern with RE2; raises ValueError with RE2's reason."""
    try:
        return re2.compile(pattern)
    except re2.error as exc:
        raise ValueError(str(exc)) from None


def _after_label(lines: list[str], labels: list[str]) -> str | None:
    for label in labels:
        wanted = label.casefold().strip()
        if not wanted:
            continue
        for number, line in enumerate(lines):
            at = line.casefold().find(wanted)
            if at < 0:
                continue
            rest = line[at + len(wanted) :].strip(SEPARATORS)
            if rest:
                return rest
            following = next((x.strip() for x in lines[number + 1 :] if x.strip()), None)
            if following:
                return following
    return None


def _typed(value: str, kind: str, currency: str | None) -> Any:
    if kind == "string":
        return value
    if kind == "date":
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else None
    number = parse_amount(value)
    if number is None:
        return None
    if kind == "money":
        return to_minor_units(number, currency)
    return str(number.normalize() if number != number.to_integral() else Decimal(int(number)))


def extract_custom_fields(
    text: str, specs: list[dict[str, Any]], currency: str | None = None
) -> dict[str, Any]:
    lines = text.splitlines()
    values: dict[str, Any] = {}
    for spec in specs:
        candidate = _after_label(lines, spec.get("labels") or [])
        pattern = spec.get("pattern")
        if pattern:
            match = compile_pattern(pattern).search(candidate if candidate is not None else text)
            candidate = (match.group(1) if match.re.groups else match.group(0)) if match else None
        values[spec["name"]] = (
            _typed(candidate.strip(), spec.get("type", "string"), currency) if candidate else None
        )
    return values
