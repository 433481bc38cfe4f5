"""The protocol tick over many open tasks: wall time and peak memory.

    .venv/bin/python benchmarks/protocol_tick.py [--database-url URL] [--tasks 100000] [--overdue 0.2]

Builds a synthetic county, then ``--tasks`` open tasks spread over its youth (written
in bulk as the set-up, the way a county with that much open work would hold them), of
which ``--overdue`` are past their due time and their first escalation. Then runs
``nowrongdoor tick`` as its own process, twice: the first run marks and escalates the
overdue tasks (one notification per supervisor); the second has nothing to do and shows
the cost of a routine tick. Prints wall time and the tick process's peak RSS for each.
The database is flushed first: give it one of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _setup import configure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--overdue", type=float, default=0.2)
    parser.add_argument("--youth", type=int, default=2000)
    args = parser.parse_args()
    data_dir = configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from nowrongdoor import clock
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.protocols.models import Notification, Task, TriggerEvent
    from nowrongdoor.synth.generator import generate
    from nowrongdoor.youth.models import Youth

    generate(youth=args.youth, seed=7)
    agency = Agency.objects.filter(agency_type="child_welfare").order_by("pk").first()
    assert agency is not None
    User.objects.create(username="bench.supervisor", role="supervisor", agency=agency)
    youth_ids = list(Youth.objects.values_list("pk", flat=True))
    now = clock.now()
    started = time.perf_counter()
    batch: list[Task] = []
    overdue = int(args.tasks * args.overdue)
    for n in range(args.tasks):
        youth_id = youth_ids[n % len(youth_ids)]
        if n % 10 == 0:
            event = TriggerEvent.objects.create(
                key=f"bench:{n}", event_type="contact_recorded", youth_id=youth_id, agency=agency, occurred_at=now,
                recorded_at=now, facts={"contact_type": "absence_start"}, evaluated_at=now)
        due = now - dt.timedelta(hours=2) if n < overdue else now + dt.timedelta(days=1 + n % 60)
        batch.append(Task(
            key=f"bench:{n}|missing_from_placement|report", event=event, youth_id=youth_id,
            county_id=agency.county_id, protocol_id="missing_from_placement", protocol_version="bench@1",
            step_id="report", kind="report", title={"en": "Report", "es": "Reportar"}, category="child_welfare",
            agency=agency, agency_type="child_welfare", role="case_manager", created_at=now, due_at=due,
            escalations=[[due.isoformat(), "supervisor"], [(due + dt.timedelta(hours=12)).isoformat(),
                                                           "agency_admin"]],
            next_escalation_at=due,
        ))
        if len(batch) == 5000:
            Task.objects.bulk_create(batch)
            batch = []
    Task.objects.bulk_create(batch)
    print(f"set-up             {args.tasks} open tasks ({overdue} overdue) in {time.perf_counter() - started:.1f} s")

    env = {**os.environ, "NOWRONGDOOR_DATA_DIR": str(data_dir)}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    command = [str(Path(sys.executable).with_name("nowrongdoor")), "tick"]
    for label in ("first tick", "second tick"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"{label:<18} {seconds:.1f} s wall, peak RSS {max(peak, before) / 1024:.0f} MiB "
              f"(process high-water mark) — {out.stdout.strip()}")
    print(f"notifications      {Notification.objects.count()} (one per overdue task and supervisor)")
    print(f"database           {os.environ.get('DATABASE_URL', 'sqlite').split('@')[-1]}")


if __name__ == "__main__":
    main()
