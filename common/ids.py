"""Type-prefixed, creation-time-sortable IDs (ULID body), as the contract requires."""

import threading
from datetime import datetime

from ulid import ULID, ULIDGenerator

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


# One ULID generator per thread. python-ulid's default one is shared by the process behind a
# lock, to keep IDs of one millisecond in order; under load py-spy found the API's request
# threads queued on that lock (three IDs per upload). IDs made by one thread still increase,
# as before; IDs of one millisecond from two threads (or two processes) never had an order.
_generators = threading.local()


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown ID prefix {prefix!r}")
    generator = getattr(_generators, "generator", None)
    if generator is None:
        generator = _generators.generator = ULIDGenerator()
    return f"{prefix}_{generator.generate()}"


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
