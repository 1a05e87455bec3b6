"""Every module here has a database of its own (tests/conftest.py: module_database)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _own_database(module_database: str) -> str:
    return module_database
