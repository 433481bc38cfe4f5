"""Youth search latency over a synthetic population, as a probation screener sees it.

    .venv/bin/python benchmarks/youth_search.py --youth 100000 [--database-url postgres://...]
                                                [--data-dir DIR] [--queries 300]

Generates the population (or resumes one in ``--data-dir`` / the given database), then
times ``youth.selectors.search_youth`` — the access filter, the name match, the summary
and the audit write — for surname, first-name + surname and name + date-of-birth
queries drawn from the population. Prints median and p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from _setup import configure, median, peak_rss_mib, percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--youth", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    configure(args.database_url, args.data_dir)
    from django.db import connection

    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.synth.generator import generate, plan_person
    from nowrongdoor.youth.models import SourceRecord
    from nowrongdoor.youth.selectors import search_youth

    started = time.perf_counter()
    generate(youth=args.youth, seed=args.seed)
    print(f"population ready   {args.youth} youth, {SourceRecord.objects.count()} records "
          f"({time.perf_counter() - started:.0f} s)")
    agency = Agency.objects.filter(agency_type="probation").order_by("pk").first()
    screener, _ = User.objects.get_or_create(username="bench.screener", defaults={"role": "screener", "agency": agency})

    rng = random.Random(7)
    queries: list[tuple[str, str, object]] = []
    for _ in range(args.queries):
        plan = plan_person(args.seed, rng.randrange(args.youth))
        record = plan.records[0]
        kind = rng.choice(["surname", "full name", "name + dob"])
        if kind == "surname":
            queries.append((kind, record.last_name, None))
        elif kind == "full name":
            queries.append((kind, f"{record.first_name} {record.last_name}", None))
        else:
            queries.append((kind, f"{record.first_name} {record.last_name}", plan.birth_date))

    timings: dict[str, list[float]] = {}
    hits = 0
    for kind, text, dob in queries:
        t0 = time.perf_counter()
        results = search_youth(actor=screener, query=text, purpose="screening", date_of_birth=dob)  # type: ignore[arg-type]
        timings.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
        hits += bool(results)
    every = [t for values in timings.values() for t in values]
    print(f"database           {connection.vendor}")
    print(f"queries            {len(every)} ({hits} with results visible to a probation screener)")
    for kind, values in sorted(timings.items()):
        p95 = percentile(values, 95)
        print(f"  {kind:<16} median {median(values):7.1f} ms   p95 {p95:7.1f} ms   (n={len(values)})")
    print(f"  {'all':<16} median {median(every):7.1f} ms   p95 {percentile(every, 95):7.1f} ms")
    print(f"peak memory (RSS)  {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
