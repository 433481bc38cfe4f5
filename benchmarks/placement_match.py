"""Matching one youth against many placement resources: p50 / p95 of a whole search.

    .venv/bin/python benchmarks/placement_match.py [--database-url URL] [--resources 5000] [--runs 50]

Builds a synthetic county with ``--resources`` resources of every type (the demo's
generator), fills about 60 % of their beds with synthetic youth (a quarter of them
currently being exploited, so the occupancy rules have work) and adds holds, written in
bulk as the set-up. Then, for one 13-year-old girl with a complicit caregiver and an
exploitation area on record, times ``--runs`` times:

- ``search``: the whole service as the web page and the API call it (access check, the
  youth's facts, every resource and its occupants, the rules, writing the result with
  every candidate's reasons, the audit row), with occupancy as the process keeps it
  between placements;
- ``changed``: the same search just after a placement, hold or status change anywhere
  (occupancy read again from the database);
- ``load``: reading the candidates and their occupants alone (cached occupancy);
- ``match``: the pure rules over the loaded candidates.

Prints p50 / p95 in milliseconds and the process's peak RSS. The database is flushed
first: give it one of its own. Target: search p95 <= 100 ms at 5,000 resources.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import statistics
import time

from _setup import configure, peak_rss_mib, percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    configure(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0)
    from nowrongdoor import clock
    from nowrongdoor.cases.models import ExploitationStatus
    from nowrongdoor.directory.models import Agency, County, User
    from nowrongdoor.placements import services
    from nowrongdoor.placements.facts import bump_occupancy, candidates, youth_facts
    from nowrongdoor.placements.matching import match, rules
    from nowrongdoor.placements.models import Caregiver, Complicity, Hold, Placement, Resource, YouthExploitationArea
    from nowrongdoor.synth.placements import add_caregivers, build_resources, ensure_geography
    from nowrongdoor.youth.models import Youth
    from nowrongdoor.youth.selectors import get_youth
    from nowrongdoor.youth.services import create_source_record

    rng = random.Random(5000)
    county = County.objects.create(name="Benchmark County (synthetic)")
    agency = Agency.objects.create(county=county, name="Benchmark Children and Family Services",
                                   agency_type="child_welfare")
    worker = User.objects.create(username="bench.placement", role="placement_worker", agency=agency)
    zones, areas = ensure_geography(county, rng)
    setup = time.perf_counter()
    resources = Resource.objects.bulk_create(build_resources(county, agency, zones, args.resources, rng),
                                             batch_size=1000)
    add_caregivers(resources, rng)
    now = clock.now()
    beds = [r for r in resources for _ in range(r.capacity) if rng.random() < 0.6]
    youth = Youth.objects.bulk_create([Youth(created_at=now) for _ in beds], batch_size=2000)
    placements = Placement.objects.bulk_create([
        Placement(youth=y, resource=r, agency=agency, started_at=now - dt.timedelta(days=rng.randint(1, 400)),
                  birth_date=dt.date(now.year - rng.randint(r.min_age, min(r.max_age, 17)), 6, 1), placed_by=worker,
                  status=Placement.ABSENT if rng.random() < 0.05 else Placement.ACTIVE)
        for y, r in zip(youth, beds, strict=True)], batch_size=2000)
    ExploitationStatus.objects.bulk_create([
        ExploitationStatus(youth=p.youth, agency=agency, status="victim_in_foster_care",
                           start_date=now.date() - dt.timedelta(days=30), recorded_by=worker, recorded_at=now)
        for p in placements if rng.random() < 0.25], batch_size=2000)
    Hold.objects.bulk_create([
        Hold(youth=p.youth, resource=p.resource, agency=agency, placement=p, agreed_by="caregiver",
             starts_on=now.date(), expires_on=now.date() + dt.timedelta(days=90), recorded_by=worker)
        for p in placements if p.resource.accepts_holds and rng.random() < 0.2], batch_size=2000)
    record = create_source_record(actor=worker, local_id="BENCH-1", first_name="Bench", last_name="Youth (synthetic)",
                                  date_of_birth=dt.date(now.year - 13, 1, 15), sex="female", language="es")
    Complicity.objects.create(youth=record.youth, caregiver=Caregiver.objects.order_by("pk").first(), agency=agency,
                              recorded_by=worker, recorded_at=now)
    YouthExploitationArea.objects.create(youth=record.youth, area=areas[0], agency=agency, recorded_by=worker,
                                         recorded_at=now)
    print(f"set-up: {len(resources)} resources, {len(placements)} youth placed, "
          f"{Hold.objects.count()} holds ({time.perf_counter() - setup:.1f} s); database {connection.vendor}")

    youth_id = str(record.youth.public_id)
    if args.gc_freeze:  # what ``nowrongdoor serve`` does once the application is loaded
        gc.collect()
        gc.freeze()
    r = rules()
    facts = youth_facts(record.youth_id, get_youth(actor=worker, public_id=youth_id, purpose="case_coordination"),
                        {}, clock.today(), default_county_id=county.pk)
    timings: dict[str, list[float]] = {"search": [], "changed": [], "load": [], "match": []}
    for n in range(args.runs + 3):  # each just after a placement, hold or status change anywhere
        bump_occupancy()
        t = time.perf_counter()
        services.search(actor=worker, youth_public_id=youth_id, needs={})
        if n >= 3:  # warm-up runs are not counted
            timings["changed"].append((time.perf_counter() - t) * 1000)
    for n in range(args.runs + 3):  # between changes: occupancy as the process keeps it
        t0 = time.perf_counter()
        run = services.search(actor=worker, youth_public_id=youth_id, needs={})
        t1 = time.perf_counter()
        loaded = candidates(record.youth_id, clock.today(), r)
        t2 = time.perf_counter()
        gc.disable()  # as the search does around matching
        result = match(facts, loaded, r)
        gc.enable()
        t3 = time.perf_counter()
        if n >= 3:
            timings["search"].append((t1 - t0) * 1000)
            timings["load"].append((t2 - t1) * 1000)
            timings["match"].append((t3 - t2) * 1000)
    print(f"last search: {len(run.ranked)} ranked, {len(run.excluded)} excluded; pure rules: "
          f"{len(result.ranked)} ranked")
    for name, values in timings.items():
        print(f"{name:>7}: p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 95):7.1f} ms   "
              f"({len(values)} runs)")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
