"""The case page with a long cross-system timeline: server time and SQL queries.

    .venv/bin/python benchmarks/case_page.py --database-url postgres://.../nowrongdoor_bench [--items 500]

Builds one youth known to 6 agencies of a synthetic county (with the county's demo
sharing agreements), ``--items`` contacts spread over them (written in bulk as set-up),
a case led by child welfare with 3 team members, stages and tasks; then renders
``GET /cases/<id>/`` as the case manager ``--requests`` times through Django's test
client (the whole request: middleware, access decisions, audit, template). Prints
p50/p95 server time, and the SQL queries per page at --items and at a tenth of it: the
count must not grow with the number of items (no N+1). Flushes the database first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _setup import configure, median, percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from nowrongdoor import clock
    from nowrongdoor.cases import services
    from nowrongdoor.directory.models import Agency, User
    from nowrongdoor.synth.generator import ensure_directory, plan_person
    from nowrongdoor.youth.models import Contact, SourceRecord
    from nowrongdoor.youth.services import create_source_record

    ensure_directory(1)
    types = ["child_welfare", "probation", "law_enforcement", "juvenile_court", "health", "education"]
    contact_type = {"child_welfare": "investigation", "probation": "probation_intake",
                    "law_enforcement": "citation", "juvenile_court": "court_hearing", "health": "health_visit",
                    "education": "school_event"}
    details = {"citation": {"offence_category": "curfew_status"}, "health_visit": {"reason": "routine"},
               "school_event": {"event": "suspension"}}
    category = {"investigation": "child_welfare", "probation_intake": "probation", "citation": "law_enforcement",
                "court_hearing": "juvenile_court", "health_visit": "health", "school_event": "education"}
    staff = {}
    for t in types:
        agency = Agency.objects.filter(agency_type=t).order_by("pk").first()
        staff[t] = User.objects.create(username=f"bench.{t}", role="case_manager", agency=agency)
    supervisor = User.objects.create(username="bench.supervisor", role="supervisor",
                                     agency=staff["child_welfare"].agency)
    person = plan_person(77, 1)
    records = {}
    for t in types:
        r = create_source_record(actor=staff[t], local_id=f"B-{t}", first_name=person.records[0].first_name,
                                 last_name=person.records[0].last_name, date_of_birth=person.birth_date,
                                 sex=person.sex)
        records[t] = r
    youth = records["child_welfare"].youth
    SourceRecord.objects.filter(pk__in=[r.pk for r in records.values()]).update(youth=youth)
    with clock.frozen(clock.now() - dt.timedelta(days=25)):
        case = services.open_case(actor=staff["child_welfare"], youth_public_id=str(youth.public_id),
                                  reason="Benchmark case (synthetic).")
    for t in ("probation", "law_enforcement", "juvenile_court"):
        services.add_member(actor=staff["child_welfare"], case_public_id=str(case.public_id),
                            member_username=staff[t].username, role_in_team=f"{t} member")
    for n, stage in enumerate(["precontemplation", "contemplation", "action", "relapse", "contemplation"]):
        services.record_stage(actor=staff["child_welfare"], case_public_id=str(case.public_id), stage=stage,
                              on=clock.today() - dt.timedelta(days=20 - n))
    del supervisor

    def fill(items: int) -> None:
        Contact.objects.filter(youth=youth).delete()
        start = clock.now() - dt.timedelta(days=800)
        rows = []
        for n in range(items):
            t = types[n % len(types)]
            ct = contact_type[t]
            rows.append(Contact(youth=youth, source_record=records[t], agency=records[t].agency, contact_type=ct,
                                category=category[ct], occurred_at=start + dt.timedelta(days=n % 790, hours=n),
                                details=details.get(ct, {}), recorded_at=start, created_by=staff[t]))
        Contact.objects.bulk_create(rows)

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff["child_welfare"])
    url = f"/cases/{case.public_id}/"
    counts = {}
    for items in (args.items // 10, args.items):
        fill(items)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert page.status_code == 200, page.status_code
        counts[items] = (len(queries.captured_queries), page.content.decode().count('class="usa-process-list__item"'))
    times = []
    for _ in range(args.requests):
        t0 = time.perf_counter()
        page = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert page.status_code == 200
    vendor = connection.vendor
    print(f"database           {vendor}")
    for items, (n_queries, shown) in counts.items():
        print(f"timeline items     {items:>4} contacts ({shown} items shown on the page) -> {n_queries} SQL queries")
    print(f"case page          {args.requests} requests at {args.items} items: p50 {median(times):.0f} ms   "
          f"p95 {percentile(times, 95):.0f} ms")


if __name__ == "__main__":
    main()
