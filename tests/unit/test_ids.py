"""IDs: type-prefixed ULIDs that sort by the time they were minted."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from common.ids import first_id_at, new_id


def test_first_id_at_a_moment_sorts_between_ids_minted_before_and_after_it():
    before = new_id("inv")
    time.sleep(0.002)
    moment = datetime.now(UTC)
    time.sleep(0.002)
    after = new_id("inv")
    assert before < first_id_at("inv", moment) <= after


def test_first_id_at_carries_the_prefix_and_the_length_of_an_id():
    bound = first_id_at("inv", datetime(2026, 1, 1, tzinfo=UTC))
    assert bound.startswith("inv_")
    assert len(bound) == len(new_id("inv"))


def test_ids_of_one_thread_increase_and_ids_of_many_threads_never_collide():
    import threading

    minted: list[list[str]] = []

    def mint() -> None:
        own = [new_id("evt") for _ in range(5000)]
        minted.append(own)

    threads = [threading.Thread(target=mint) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(own == sorted(own) for own in minted)
    everything = [i for own in minted for i in own]
    assert len(set(everything)) == len(everything) == 40000


def test_an_id_names_the_moment_it_was_minted():
    from common.ids import id_time

    before = datetime.now(UTC).replace(microsecond=0)
    minted = id_time(new_id("inv"))
    assert before <= minted <= datetime.now(UTC)


def test_ids_are_ulids_that_python_ulid_reads_as_the_same_moment():
    from ulid import ULID

    from common.ids import id_time

    for _ in range(1000):
        minted = new_id("inv")
        body = ULID.from_str(minted.partition("_")[2])
        assert str(body) == minted.partition("_")[2]
        assert body.datetime == id_time(minted)


def test_ids_spell_what_python_ulid_spells_for_the_same_bits():
    from ulid import ULID

    from common.ids import _ulid

    for ms, random in [(0, 0), (1, 1), ((1 << 48) - 1, (1 << 80) - 1), (1763948400123, 12345)]:
        expected = ULID.from_bytes(ms.to_bytes(6, "big") + random.to_bytes(10, "big"))
        assert _ulid(ms, random) == str(expected)


def test_a_forked_child_neither_repeats_nor_continues_its_parents_ids():
    import os

    from common.ids import _FROM_CROCKFORD, _ms_of

    def random_part(id_: str) -> int:
        return int(id_[14:].translate(_FROM_CROCKFORD), 32)

    before = new_id("inv")
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, new_id("inv").encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(read, 100).decode()
    assert _ms_of(theirs) >= _ms_of(before)
    assert random_part(theirs) not in (random_part(before), random_part(before) + 1)
