"""Type-prefixed, creation-time-sortable IDs (ULID body), as the contract requires."""

import os
import threading
import time
from datetime import UTC, datetime, timedelta

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
        "qte",
        "po",
        "btx",
        "rec",
        "bmt",
        "mem",
        "cmt",
        "req",
        "mbx",
        "pub",
    }
)


# ULIDs: 48 bits of Unix milliseconds, then 80 random bits, in Crockford's base32 (26
# characters, 130 bits, the first two zero). Minted here, not by python-ulid, to avoid its
# getrandom call (and GIL release) per ID on every upload; tests/unit/test_ids.py checks
# both ways against python-ulid.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# every 10 bits as their two characters: 13 lookups spell an ID
_PAIRS = [first + second for first in _CROCKFORD for second in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))
# Crockford's digits to those int(text, 32) reads
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")
_RANDOM_BITS = 80
_RANDOM_BYTES_PER_READ = 10 * 256
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Minter(threading.local):
    """One per thread: IDs one thread mints in one millisecond increase (the random part of
    the previous one plus one), as python-ulid's generator did for the process; no lock.
    Random bytes come 256 IDs' worth per read, and never from a buffer a fork copied."""

    last_ms = -1
    last_random = 0
    random = b""
    offset = 0

    def next(self) -> tuple[int, int]:
        ms = time.time_ns() // 1_000_000
        if ms == self.last_ms and self.last_random + 1 < 1 << _RANDOM_BITS:
            self.last_random += 1
            return ms, self.last_random
        if self.offset >= len(self.random):
            self.random, self.offset = os.urandom(_RANDOM_BYTES_PER_READ), 0
        chunk = self.random[self.offset : self.offset + _RANDOM_BITS // 8]
        self.offset += _RANDOM_BITS // 8
        self.last_ms, self.last_random = ms, int.from_bytes(chunk, "big")
        return ms, self.last_random


_minter = _Minter()


def _start_afresh_in_a_forked_child() -> None:
    """The child's one thread (the one that forked) drops its copy of the parent's state:
    neither repeats nor continues the other's random bytes. `_minter.__dict__` is read here,
    in that thread: bound at import, it would be the importing thread's."""
    _minter.__dict__.clear()


os.register_at_fork(after_in_child=_start_afresh_in_a_forked_child)


def _ulid(ms: int, random: int) -> str:
    value = ms << _RANDOM_BITS | random
    return "".join([_PAIRS[value >> shift & 1023] for shift in _PAIR_SHIFTS])


def _ms_of(id_: str) -> int:
    return int(id_.partition("_")[2][:10].translate(_FROM_CROCKFORD), 32)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown ID prefix {prefix!r}")
    return f"{prefix}_{_ulid(*_minter.next())}"


def first_id_at(prefix: str, moment: datetime) -> str:
    """The smallest ID `new_id(prefix)` can return at `moment` (millisecond precision):
    every ID minted earlier sorts before it, every ID minted then or later does not."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown ID prefix {prefix!r}")
    return f"{prefix}_{_ulid(max(0, int(moment.timestamp() * 1000)), 0)}"


def id_time(id_: str) -> datetime:
    """The moment (UTC, to the millisecond) `new_id` minted `id_`."""
    return _EPOCH + timedelta(milliseconds=_ms_of(id_))
