"""Screening completions per second with concurrent clients, over HTTP, on PostgreSQL.

    .venv/bin/python benchmarks/screening_throughput.py --database-url postgres://.../nowrongdoor_bench \
        [--clients 32] [--screenings 1600] [--youth 2000] [--workers 2] [--threads 8]

Starts ``nowrongdoor serve`` (gunicorn, ``--workers`` processes of ``--threads`` threads)
on a free local port against the given database, prepares a synthetic county and one integration token per client, then
each client thread repeatedly starts a short-form screening of a youth it can see and
completes it (two requests: POST /api/screenings, POST /api/screenings/{id}/complete).
Prints completions per second and the p50/p99 latency of a whole screening (both
requests) and of the completing request, and the count of errors. The database is
flushed first: give it one of its own.
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
    parser.add_argument("--screenings", type=int, default=1600)
    parser.add_argument("--youth", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    data_dir = configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from nowrongdoor.access.services import issue_token
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.screening.instruments import for_agency_type
    from nowrongdoor.synth.generator import generate
    from nowrongdoor.youth.models import SourceRecord

    generate(youth=args.youth, seed=99)
    agency = Agency.objects.filter(agency_type="probation").order_by("pk").first()
    assert agency is not None
    admin = User.objects.create(username="bench.admin", role="system_admin")
    tokens = [issue_token(actor=admin, agency=agency, name=f"bench client {n}").secret for n in range(args.clients)]
    youth_ids = [str(y) for y in SourceRecord.objects.filter(agency=agency).values_list("youth__public_id", flat=True)]
    instrument = for_agency_type("probation")[0]
    answers = {i.id: ("unknown" if i.answer != "count" else 0) for i in instrument.form_items("short")}

    server = LocalServer(args.database_url, data_dir, args.workers, args.threads)
    call = server.post

    whole: list[float] = []
    completing: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = args.screenings // args.clients

    def client(n: int) -> None:
        for k in range(per_client):
            youth = youth_ids[(n * per_client + k) % len(youth_ids)]
            t0 = time.perf_counter()
            try:
                draft = call(tokens[n], "/api/screenings",
                             {"youth_id": youth, "instrument": instrument.id, "form": "short"})
                t1 = time.perf_counter()
                call(tokens[n], f"/api/screenings/{draft['id']}/complete",
                     {"version": draft["version"], "answers": answers})
                t2 = time.perf_counter()
            except Exception as exc:
                with lock:
                    errors.append(repr(exc)[:200])
                continue
            with lock:
                whole.append((t2 - t0) * 1000)
                completing.append((t2 - t1) * 1000)

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
    print(f"screenings done    {len(whole)} in {seconds:.1f} s -> {len(whole) / seconds:.1f} completions/s")
    print(f"whole screening    p50 {median(whole):.0f} ms   p99 {percentile(whole, 99):.0f} ms")
    print(f"complete request   p50 {median(completing):.0f} ms   p99 {percentile(completing, 99):.0f} ms")
    print(f"errors             {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
