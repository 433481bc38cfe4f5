"""Events ingested per second through the API, with protocol evaluation, on PostgreSQL.

    .venv/bin/python benchmarks/protocol_ingest.py --database-url postgres://.../nowrongdoor_bench \
        [--clients 32] [--events 1600] [--youth 2000] [--workers 2] [--threads 8]

Starts ``nowrongdoor serve`` (gunicorn) on a free local port against the given database,
prepares a synthetic county and one integration token per client (child welfare), then
each client thread posts "absence from placement" contacts on records of its agency
(``POST /api/contacts``). Each contact is written with its trigger event in one
transaction and evaluated right after commit, opening the two 24-hour missing-child
report tasks. Prints events per second, p50/p99 latency and errors, and checks that
every event opened exactly its two tasks. The database is flushed first.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from _setup import LocalServer, configure, median, percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--events", type=int, default=1600)
    parser.add_argument("--youth", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    data_dir = configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from nowrongdoor.access.services import issue_token
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.protocols.models import Task, TriggerEvent
    from nowrongdoor.synth.generator import generate
    from nowrongdoor.youth.models import SourceRecord

    generate(youth=args.youth, seed=99)
    agency = Agency.objects.filter(agency_type="child_welfare").order_by("pk").first()
    assert agency is not None
    admin = User.objects.create(username="bench.admin", role="system_admin")
    tokens = [issue_token(actor=admin, agency=agency, name=f"bench client {n}", role="case_manager").secret
              for n in range(args.clients)]
    records = [str(r) for r in SourceRecord.objects.filter(agency=agency).values_list("public_id", flat=True)]
    server = LocalServer(args.database_url, data_dir, args.workers, args.threads)
    call = server.post

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = args.events // args.clients
    occurred = "2026-11-20T10:00:00+00:00"

    def client(n: int) -> None:
        for k in range(per_client):
            record = records[(n * per_client + k) % len(records)]
            t0 = time.perf_counter()
            try:
                call(tokens[n], "/api/contacts", {"source_record_id": record, "contact_type": "absence_start",
                                                  "occurred_at": occurred, "local_id": f"bench-{n}-{k}"})
            except Exception as exc:
                with lock:
                    errors.append(repr(exc)[:200])
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    server.stop()
    print(f"clients            {args.clients} (one integration token each)")
    print(f"server             gunicorn, {args.workers} workers x {args.threads} threads, cores {os.cpu_count()}")
    print(f"events ingested    {len(latencies)} in {seconds:.1f} s -> {len(latencies) / seconds:.1f} events/s")
    print(f"latency            p50 {median(latencies):.0f} ms   p99 {percentile(latencies, 99):.0f} ms")
    print(f"errors             {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    events = TriggerEvent.objects.count()
    unevaluated = TriggerEvent.objects.filter(evaluated_at__isnull=True).count()
    print(f"protocol tasks     {Task.objects.count()} for {events} events ({unevaluated} left for the tick)")


if __name__ == "__main__":
    main()
