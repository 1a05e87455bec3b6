"""The suite's own machinery in tests/conftest.py that a run's cost depends on."""

import sys

import pytest


@pytest.fixture(scope="module")
def tracer_during_setup():
    return sys.gettrace()


@pytest.mark.no_cover
def test_no_cover_leaves_a_test_and_its_fixtures_untraced(tracer_during_setup):
    """Under `make test` (coverage, xdist) a worker held a second, stray coverage that
    traced `no_cover` tests anyway, and pytest-cov left their fixtures traced."""
    assert tracer_during_setup is None
    assert sys.gettrace() is None
