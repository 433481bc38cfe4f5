"""Optimistic concurrency: every mutable record carries a version.

An editor sends the version they read; the update applies only if it is still current
and bumps it, otherwise ``StaleEdit`` is raised and nothing is overwritten.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F

from nowrongdoor.errors import StaleEdit


def update_if_current(model: type[models.Model], pk: int, expected_version: int, *,
                      only_if: dict[str, Any] | None = None, **fields: Any) -> None:
    """UPDATE ... SET version = version + 1 WHERE pk AND version (AND ``only_if``)."""
    updated = model._default_manager.filter(pk=pk, version=expected_version, **(only_if or {})).update(
        version=F("version") + 1, **fields
    )
    if not updated:
        raise StaleEdit(model._default_manager.values_list("version", flat=True).get(pk=pk))
