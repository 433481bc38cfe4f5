"""Training compliance for 50,000 staff (issue 9 figure): time and memory.

    .venv/bin/python benchmarks/training_compliance.py [--staff 50000] [--database-url URL]

Makes a county with 500 agencies of every type and ``--staff`` synthetic staff with the
demo's mix of certificates (most current, some expiring, expired or never taken, about
three required courses each), then times what a county training coordinator's page
computes (every agency's compliance, lists of expiring and lapsed courses), one agency's
compliance, and the daily renewal pass. Prints medians of 5 runs and the peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from _setup import configure, median, peak_rss_mib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--agencies", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    configure(args.database_url)
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from nowrongdoor import clock
    from nowrongdoor.directory.models import Agency, County, User
    from nowrongdoor.synth.training import ROLES_BY_AGENCY_TYPE, _completed_on
    from nowrongdoor.training.catalogue import catalogue
    from nowrongdoor.training.models import Completion
    from nowrongdoor.training.selectors import agency_compliance, county_compliance, required_of
    from nowrongdoor.training.services import open_renewals

    if connection.vendor == "postgresql":
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    rng = random.Random(9)
    county = County.objects.create(name="Benchmark County (synthetic)")
    types = list(ROLES_BY_AGENCY_TYPE)
    agencies = Agency.objects.bulk_create([Agency(county=county, agency_type=types[i % len(types)],
                                                  name=f"Agency {i} (synthetic)") for i in range(args.agencies)])
    joined = clock.now() - dt.timedelta(days=400)
    unusable = make_password(None)  # nobody signs in as these synthetic staff
    staff = []
    for i in range(args.staff):
        agency = agencies[i % len(agencies)]
        role = rng.choice(ROLES_BY_AGENCY_TYPE[agency.agency_type])
        staff.append(User(username=f"bench.{i}", agency=agency, role=role, password=unusable, date_joined=joined))
    started = time.perf_counter()
    User.objects.bulk_create(staff, batch_size=2000)
    system = User.objects.create(username="bench.system", role="system_admin", password=unusable)
    coordinator = User.objects.create(username="bench.coordinator", role="training_coordinator", agency=agencies[0],
                                      password=unusable)
    admin = User.objects.create(username="bench.admin", role="agency_admin", agency=agencies[0], password=unusable)
    today, cat = clock.today(), catalogue()
    rows = []
    for user in User.objects.filter(username__startswith="bench.", agency__isnull=False).select_related("agency"):
        for course in required_of(user, cat):
            day = _completed_on(rng, course, today)
            if day is not None:
                rows.append(Completion(user=user, course=course, completed_on=day,
                                       expires_on=cat.courses[course].expires_on(day), catalogue_version=cat.version,
                                       recorded_by=system, recorded_at=clock.now()))
    Completion.objects.bulk_create(rows, batch_size=5000)
    print(f"database           {connection.vendor}")
    print(f"made               {args.staff:,} staff in {args.agencies} agencies, {len(rows):,} certificates "
          f"({time.perf_counter() - started:.1f} s)")

    def timed(fn, runs: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
        times, result = [], None
        for _ in range(runs):
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        return median(times), result

    seconds, found = timed(lambda: county_compliance(actor=coordinator))
    print(f"county compliance  {seconds:.2f} s median of 5 ({found.people:,} people, "  # type: ignore[attr-defined]
          f"{found.compliant:,} compliant)")  # type: ignore[attr-defined]
    seconds, one = timed(lambda: agency_compliance(actor=admin))
    print(f"one agency         {seconds * 1000:.0f} ms median of 5 ({len(one.people)} people)")  # type: ignore[attr-defined]
    t = time.perf_counter()
    opened = open_renewals(system=system)
    print(f"renewal pass       {time.perf_counter() - t:.1f} s ({opened:,} renewals opened)")
    t = time.perf_counter()
    again = open_renewals(system=system)
    print(f"renewal pass again {time.perf_counter() - t:.1f} s ({again} opened: idempotent)")
    print(f"peak memory (RSS)  {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
