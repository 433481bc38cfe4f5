"""Applying a jurisdiction profile to a county with 10,000 open cases (issue 10 figure).

    .venv/bin/python benchmarks/profile_apply.py [--database-url URL] [--cases 10000] [--runs 5]

Builds a synthetic county (the generator's youth), ``--cases`` open cases spread over
them, each with the seven open first-response tasks of an identified youth (written in
bulk as the set-up). Then times, ``--runs`` times each, changing the county's profile
through the real service (audited, a new revision, the profile checked and compiled),
and the first event evaluated after a change (which reads the new profile). Also counts
the open tasks the change rewrote: none, by design (a task is a snapshot of its step).
Prints medians and the process's peak memory. The database is flushed first: give it
one of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _setup import configure, median, peak_rss_mib

PROFILES = ["connecticut", "florida", "los_angeles_first_48", "minnesota_no_wrong_door", "alameda"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--youth", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from nowrongdoor import clock
    from nowrongdoor.cases.models import Case
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.jurisdiction import services
    from nowrongdoor.jurisdiction.profiles import clear_caches
    from nowrongdoor.protocols.models import Task, TriggerEvent
    from nowrongdoor.protocols.services import record_trigger
    from nowrongdoor.synth.generator import generate
    from nowrongdoor.youth.models import Youth

    generate(youth=args.youth, seed=11)
    agency = Agency.objects.filter(agency_type="child_welfare").order_by("pk").first()
    assert agency is not None
    county = agency.county
    unusable = make_password(None)
    worker = User.objects.create(username="bench.worker", role="case_manager", agency=agency, password=unusable)
    admin = User.objects.create(username="bench.admin", role="system_admin", password=unusable)
    youth_ids = list(Youth.objects.values_list("pk", flat=True))
    now, today = clock.now(), clock.today()
    started = time.perf_counter()
    steps = ["report_law_enforcement", "medical_assessment", "mental_health_assessment", "advocate_meeting",
             "placement_survey", "convene_mdt", "liaison_checkin"]
    cases, events, tasks = [], [], []
    for n in range(args.cases):
        youth_id = youth_ids[n % len(youth_ids)]
        cases.append(Case(youth_id=youth_id, agency=agency, worker=worker, opened_on=today, open_reason="benchmark",
                          opened_by=worker, phase_since=today, county_of_residence=county))
        events.append(TriggerEvent(key=f"bench:{n}", event_type="screening_completed", youth_id=youth_id,
                                   agency=agency, occurred_at=now, recorded_at=now, evaluated_at=now,
                                   facts={"level": "clear_indicators"}))
    Case.objects.bulk_create(cases, batch_size=2000)
    TriggerEvent.objects.bulk_create(events, batch_size=2000)
    for event in TriggerEvent.objects.filter(key__startswith="bench:").only("pk", "youth_id", "key"):
        for step in steps:
            tasks.append(Task(
                key=f"{event.key}|csec_identified|{step}", event_id=event.pk, youth_id=event.youth_id,
                county_id=county.pk, protocol_id="csec_identified", protocol_version="csec_identified@1",
                step_id=step, kind="assessment", title={"en": step, "es": step}, category="child_welfare",
                agency=agency, agency_type="child_welfare", role="case_manager", created_at=now,
                due_at=now + dt.timedelta(hours=48)))
        if len(tasks) >= 7000:
            Task.objects.bulk_create(tasks)
            tasks = []
    Task.objects.bulk_create(tasks)
    open_tasks = Task.objects.filter(county=county, status=Task.OPEN).count()
    print(f"set-up             {Case.objects.filter(status='open').count()} open cases, {open_tasks} open tasks "
          f"in {time.perf_counter() - started:.1f} s ({county.name})")

    snapshot = list(Task.objects.filter(county=county).order_by("pk").values_list(
        "pk", "due_at", "protocol_version", "profile_version", "version"))
    apply_s, warm_s, first_event_s = [], [], []
    for run in range(args.runs):
        profile_id = PROFILES[run % len(PROFILES)]
        clear_caches()  # a cold start: the profile files read and checked again
        t0 = time.perf_counter()
        services.apply_profile(actor=admin, county_name=county.name, profile_id=profile_id,
                               reason="benchmark: the county board chose this model", expected_revision=2 * run)
        apply_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()  # and again with the files already read (a running server)
        services.apply_profile(actor=admin, county_name=county.name, profile_id=profile_id,
                               reason="benchmark: the county board chose this model", expected_revision=2 * run + 1,
                               overrides={"mdt": {"window_days": 30 + run}})
        warm_s.append(time.perf_counter() - t0)
        clear_caches()
        at = clock.now()
        t0 = time.perf_counter()
        with transaction.atomic():  # evaluated after commit, as a recorded contact is
            row = record_trigger(key=f"bench:new:{run}", event_type="contact_recorded", youth_id=youth_ids[run],
                                 agency_id=agency.pk, actor_id=worker.pk, occurred_at=at,
                                 facts={"contact_type": "hotline_report", "allegations": ["sexual_exploitation"]})
        first_event_s.append(time.perf_counter() - t0)
        labels = set(Task.objects.filter(event=row).values_list("profile_version", flat=True))
        assert labels == {f"{profile_id}@1+overrides@{2 * run + 2}"}, labels
    after = list(Task.objects.filter(county=county, pk__lte=snapshot[-1][0]).order_by("pk").values_list(
        "pk", "due_at", "protocol_version", "profile_version", "version"))
    rewritten = sum(1 for a, b in zip(snapshot, after, strict=True) if a != b)
    print(f"apply a profile    median {median(apply_s) * 1000:.0f} ms over {args.runs} changes "
          f"(max {max(apply_s) * 1000:.0f} ms; cold: files read and checked each time)")
    print(f"apply, files read  median {median(warm_s) * 1000:.0f} ms (a running server; with county overrides)")
    print(f"first event after  median {median(first_event_s) * 1000:.0f} ms (evaluated under the new profile, "
          "compiled on first use)")
    print(f"open tasks rewritten by the changes: {rewritten} of {len(snapshot)}")
    print(f"peak memory        {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
