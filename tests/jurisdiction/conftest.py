"""The protocol tests' small synthetic county, shared with the profile tests, and fresh
profile caches around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nowrongdoor.jurisdiction import profiles
from tests.protocols.conftest import _fresh_rules, world  # noqa: F401 (fixtures used by name)


@pytest.fixture(autouse=True)
def _fresh_profiles() -> Iterator[None]:
    profiles.clear_caches()
    yield
    profiles.clear_caches()
