"""Analytics at state scale: the snapshot, the dashboard, and DuckDB against PostgreSQL.

    .venv/bin/python benchmarks/analytics_scale.py --database-url postgres://postgres@127.0.0.1:5432/nowrongdoor_bench \
        [--youth 1000000] [--routine 8] [--counties 5] [--runs 20]

1. Generates the synthetic population into the database (resumes a generation of the
   same seed already there; ``--fresh`` flushes first). ``--routine`` adds everyday
   contacts (routine health visits, school changes, drop-ins) so that 1,000,000 youth
   carry about 10,000,000 contacts; they change no measure.
2. Builds the snapshot in full, then incrementally with nothing new, each in its own
   process (``nowrongdoor analytics refresh``): wall time and that process's peak memory.
3. The dashboard (every measure, protected, for one county and one year, as a state
   analyst would open it): ``analytics.selectors.dashboard`` with the per-process cache
   emptied before each run (so the published tables are read from the snapshot), the
   same tables protected on demand (what publishing them with the snapshot saves), then
   the Data page through Django's test client; p50/p95.
4. The headline measure (youth first identified as victims in the year, per county)
   computed directly on the operational PostgreSQL tables, against the same on the
   snapshot; both answers are compared, and the ratio printed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import configure, median, percentile


def child_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# The headline measure on the operational tables, the way one would write it without a
# snapshot: the same definition as ``snapshot.IDENTIFYING`` and ``youth_facts`` (county:
# the residence county recorded most often, else the county of the first recording agency).
DIRECT = """
WITH identifying AS (
    SELECT c.youth_id, c.occurred_at AS event_at FROM youth_contact c
     WHERE c.contact_type = 'hotline_report' AND c.details->'allegations' ? 'sexual_exploitation'
    UNION ALL
    SELECT c.youth_id, c.occurred_at FROM youth_contact c
      JOIN (SELECT youth_id, coalesce(min(date_of_birth),
                   min(age_recorded_on - make_interval(years => estimated_age))::date) AS birth_date
              FROM youth_sourcerecord GROUP BY youth_id) b ON b.youth_id = c.youth_id
     WHERE c.contact_type IN ('arrest', 'citation', 'detention')
       AND c.details->>'offence_category' = 'prostitution_related'
       AND (b.birth_date IS NULL OR (c.occurred_at AT TIME ZONE %(tz)s)::date < b.birth_date + interval '18 years')
    UNION ALL
    SELECT s.youth_id, s.start_date::timestamptz FROM cases_exploitationstatus s WHERE s.status LIKE 'victim_%%'
), first AS (
    SELECT youth_id, (min(event_at) AT TIME ZONE %(tz)s)::date AS identified_on FROM identifying GROUP BY youth_id
), counted AS (
    SELECT youth_id FROM first WHERE identified_on BETWEEN %(start)s AND %(end)s
), county AS (
    SELECT r.youth_id,
           coalesce(mode() WITHIN GROUP (ORDER BY r.residence_county_id),
                    (array_agg(a.county_id ORDER BY r.recorded_at))[1]) AS county_id
      FROM youth_sourcerecord r JOIN directory_agency a ON a.id = r.agency_id
     WHERE r.youth_id IN (SELECT youth_id FROM counted) GROUP BY r.youth_id
)
SELECT k.name, count(*) FROM counted JOIN county USING (youth_id) JOIN directory_county k ON k.id = county.county_id
 GROUP BY k.name
"""


def refresh(args: argparse.Namespace, data_dir: Path, full: bool) -> tuple[float, float]:
    env_args = [str(Path(sys.executable).with_name("nowrongdoor")), "analytics", "refresh"]
    if full:
        env_args.append("--full")
    import os

    env = {**os.environ, "DATABASE_URL": args.database_url, "NOWRONGDOOR_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run(env_args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, child_peak_mib()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database the benchmark may fill")
    parser.add_argument("--youth", type=int, default=1_000_000)
    parser.add_argument("--routine", type=float, default=8.0, help="everyday contacts per youth on average")
    parser.add_argument("--counties", type=int, default=5, help="up to 5 (the generator names five counties)")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "nwd-bench-analytics")
    parser.add_argument("--fresh", action="store_true", help="flush the database first")
    parser.add_argument("--skip-refresh", action="store_true", help="use the snapshot already in --data-dir")
    args = parser.parse_args()
    data_dir = configure(args.database_url, args.data_dir)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from nowrongdoor.analytics import measures, release, selectors, snapshot
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.synth.generator import generate
    from nowrongdoor.youth.models import Contact, Youth

    if connection.vendor != "postgresql":
        sys.exit("this benchmark compares with PostgreSQL: give --database-url postgres://...")
    if args.fresh:
        call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    made = generate(youth=args.youth, seed=args.seed, counties=args.counties, progress=True, routine=args.routine)
    generation = time.perf_counter() - started
    print(f"population         {Youth.objects.count():,} youth, {made.source_records:,} records, "
          f"{made.contacts:,} contacts, {args.counties} counties (synthetic)")
    print(f"generation         {generation:.0f} s for {made.created:,} new youth")

    if not args.skip_refresh:
        full_s, full_mib = refresh(args, data_dir, full=True)
        print(f"snapshot, full     {full_s:.1f} s, peak memory {full_mib:.0f} MiB (its own process)")
        incremental_s, _ = refresh(args, data_dir, full=False)
        print(f"snapshot, incremental (nothing new)  {incremental_s:.1f} s")
    path = snapshot.default_path()
    print(f"snapshot file      {path.stat().st_size / 2**20:.0f} MiB")

    analyst = User.objects.filter(username="bench.state.analyst").first()
    if analyst is None:
        agency = Agency.objects.filter(agency_type="child_welfare").order_by("id").first()
        analyst = User.objects.create_user(username="bench.state.analyst", password=None, agency=agency,
                                           role="state_analyst")
    con = snapshot.connect(path)
    years = release.years(path)
    year = next(y for y in years if y < 2026)
    county = measures.counties(con)[0][1]
    con.close()

    def board() -> None:
        release._cache.clear()
        selectors.dashboard(actor=analyst, year=year, county=county)

    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        board()
        times.append(time.perf_counter() - t)
    print(f"dashboard (all {len(measures.MEASURES)} measures, published tables, {county}, {year}, cache empty)  "
          f"p50 {median(times) * 1000:.0f} ms  p95 {percentile(times, 95) * 1000:.0f} ms  (n={args.runs})")

    con = snapshot.connect(path)
    on_demand = []
    for _ in range(min(3, args.runs)):
        t = time.perf_counter()
        release.protect_all(con, year)
        on_demand.append(time.perf_counter() - t)
    con.close()
    print(f"protecting every table on demand (what publishing with the snapshot saves)  "
          f"p50 {median(on_demand) * 1000:.0f} ms  (n={len(on_demand)})")

    client = Client(HTTP_HOST="localhost")
    client.force_login(analyst)
    pages = []
    for _ in range(args.runs):
        release._cache.clear()
        t = time.perf_counter()
        response = client.get("/data/", {"year": year, "county": county})
        pages.append(time.perf_counter() - t)
        assert response.status_code == 200, response.status_code
    print(f"Data page (the same, rendered with charts, cache empty)  "
          f"p50 {median(pages) * 1000:.0f} ms  p95 {percentile(pages, 95) * 1000:.0f} ms")
    warm = []
    for _ in range(args.runs):
        t = time.perf_counter()
        client.get("/data/", {"year": year, "county": county})
        warm.append(time.perf_counter() - t)
    print(f"Data page (tables cached for the snapshot)  p50 {median(warm) * 1000:.0f} ms  "
          f"p95 {percentile(warm, 95) * 1000:.0f} ms")

    con = snapshot.connect(path)
    duck = []
    for _ in range(args.runs):
        t = time.perf_counter()
        result = measures.compute(con, "flagged", year)
        duck.append(time.perf_counter() - t)
    on_duck = {county_name: row[0] for county_name, row in zip(result.grid.rows, result.grid.cells, strict=True)
               if row[0]}
    con.close()
    direct = []
    params = {"tz": settings.TIME_ZONE, "start": f"{year}-01-01", "end": f"{year}-12-31"}
    for _ in range(max(3, args.runs // 4)):
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(DIRECT, params)
            on_pg = dict(cursor.fetchall())
            direct.append(time.perf_counter() - t)
    agree = sum(1 for k in on_duck.keys() | on_pg.keys() if on_duck.get(k) == on_pg.get(k))
    print(f"headline measure (identified youth per county, {year})")
    print(f"  on the snapshot (DuckDB)        p50 {median(duck) * 1000:.0f} ms")
    print(f"  on PostgreSQL directly          p50 {median(direct) * 1000:.0f} ms  (n={len(direct)})")
    print(f"  ratio                           {median(direct) / median(duck):.0f}x faster on the snapshot")
    print(f"  answers                         {sum(on_duck.values()):,} youth on DuckDB, {sum(on_pg.values()):,} on "
          f"PostgreSQL; {agree} of {len(on_duck.keys() | on_pg.keys())} counties equal")
    print(f"contacts in the database now  {Contact.objects.count():,}")


if __name__ == "__main__":
    main()
