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
