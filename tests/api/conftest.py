"""Fixtures the API tests share: a child-welfare agency and one of its screeners."""

from __future__ import annotations

import pytest


@pytest.fixture
def agency(make_agency):
    return make_agency("child_welfare")


@pytest.fixture
def screener(make_user, agency):
    return make_user("screener", agency)
