"""Type-prefixed, creation-time-sortable IDs (ULID body), as the contract requires."""

from datetime import datetime

from ulid import ULID

PREFIXES = frozenset(
    {
        "org",
        "key",
        "inv",
        "evt",
        "whk",
        "dlv",
        "sch",
        "exp",
        "bst",
        "btx",
        "rec",
        "mem",
        "cmt",
        "req",
    }
)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown ID prefix {prefix!r}")
    return f"{prefix}_{ULID()}"


def first_id_at(prefix: str, moment: datetime) -> str:
    """The smallest ID `new_id(prefix)` can return at `moment` (millisecond precision):
    every ID minted earlier sorts before it, every ID minted then or later does not."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown ID prefix {prefix!r}")
    milliseconds = max(0, int(moment.timestamp() * 1000))
    return f"{prefix}_{ULID.from_bytes(milliseconds.to_bytes(6, 'big') + bytes(10))}"


def id_time(id_: str) -> datetime:
    """The moment (UTC, to the millisecond) `new_id` minted `id_`."""
    return ULID.from_str(id_.partition("_")[2]).datetime
