"""Shared set-up for benchmarks: a throwaway data directory and database per run."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
from pathlib import Path


def configure(database_url: str | None, data_dir: Path | None = None) -> Path:
    """Point the platform at a data directory (fresh unless given) and database, set up Django."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="nwd-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NOWRONGDOOR_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nowrongdoor.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return data_dir


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values)
