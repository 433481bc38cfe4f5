"""Measures agree whichever database the snapshot was built from.

Runs in the PostgreSQL pass of the suite: the synthetic county is generated into the
PostgreSQL test database and, in a separate process, into a fresh SQLite file from the
same seed; both snapshots are built, and every measure's raw grid for every year must
be the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from nowrongdoor.analytics import measures, snapshot
from nowrongdoor.synth.generator import generate

pytestmark = pytest.mark.django_db

YOUTH, SEED = 600, 77
BUILD_ON_SQLITE = f"""
import django, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from nowrongdoor.synth.generator import generate
from nowrongdoor.analytics import snapshot
generate(youth={YOUTH}, seed={SEED}, counties=2)
snapshot.refresh(path=__import__("pathlib").Path(sys.argv[1]))
"""


def grids(path: Path) -> dict[tuple[str, int], tuple[list[str], list[str], list[list[int]]]]:
    con = snapshot.connect(path)
    try:
        out = {}
        for year in range(2018, 2027):
            for measure_id in measures.MEASURES:
                grid = measures.compute(con, measure_id, year).grid
                out[(measure_id, year)] = (grid.rows, grid.columns, grid.cells)
        return out
    finally:
        con.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="runs in the PostgreSQL pass (compares with SQLite)")
def test_measures_agree_between_postgresql_and_sqlite_snapshots(tmp_path: Path) -> None:
    generate(youth=YOUTH, seed=SEED, counties=2)
    on_postgres = tmp_path / "pg.duckdb"
    snapshot.refresh(path=on_postgres)

    on_sqlite = tmp_path / "sqlite.duckdb"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(NOWRONGDOOR_DATA_DIR=str(tmp_path / "sqlite"), DJANGO_SETTINGS_MODULE="nowrongdoor.config.settings")
    subprocess.run([sys.executable, "-c", BUILD_ON_SQLITE, str(on_sqlite)], env=env, check=True, timeout=600,  # noqa: S603
                   capture_output=True)

    a, b = grids(on_postgres), grids(on_sqlite)
    assert sum(sum(map(sum, cells)) for _, _, cells in a.values()) > 1000, "the county has data to compare"
    assert a == b
    with snapshot.connect(on_postgres) as con_pg, snapshot.connect(on_sqlite) as con_lite:
        assert snapshot.meta(con_pg)["source"] == "postgresql" and snapshot.meta(con_lite)["source"] == "sqlite"
