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
