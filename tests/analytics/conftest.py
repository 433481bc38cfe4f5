"""A synthetic county for the analytics tests, and its snapshot.

- ``county_data``: two synthetic counties from the generator (1,200 youth, seed 2013),
  written to the test database; the ground truth stays in ``synth`` models.
- ``link_perfectly()`` joins every record of one true person into one youth (what a
  perfect identity resolution would do), so counts can be compared with the truth.
- ``snapshot_path``: where this test's snapshot is built (a temporary file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nowrongdoor.synth.generator import generate
from nowrongdoor.synth.models import TruthPerson
from nowrongdoor.youth.models import Contact, SourceRecord

YOUTH = 1200
SEED = 2013


@pytest.fixture
def snapshot_path(tmp_path: Path, monkeypatch: Any) -> Path:
    path = tmp_path / "analytics.duckdb"
    monkeypatch.setenv("NOWRONGDOOR_ANALYTICS_PATH", str(path))
    return path


@pytest.fixture
def county_data(db: None) -> Any:
    return generate(youth=YOUTH, seed=SEED, counties=2)


def link_perfectly() -> int:
    """Put every record (and its contacts) of each true person in one youth; returns how
    many records moved."""
    moved = 0
    for person in TruthPerson.objects.prefetch_related("records"):
        ids = [r.source_record_id for r in person.records.all()]
        youth = sorted(set(SourceRecord.objects.filter(pk__in=ids).values_list("youth_id", flat=True)))
        if len(youth) > 1:
            moved += SourceRecord.objects.filter(pk__in=ids).exclude(youth_id=youth[0]).update(youth_id=youth[0])
            Contact.objects.filter(source_record_id__in=ids).update(youth_id=youth[0])
    return moved
