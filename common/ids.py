"""Type-prefixed, creation-time-sortable IDs (ULID body), as the contract requires."""

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
