"""Measures on the snapshot, against the synthetic county's ground truth.

What this file proves:

- given perfect linkage, the number of youth identified in a year equals the number of
  distinct true persons whose first identifying event falls in that year (computed from
  the truth tables, not from youth ids), and adding up each agency's own count gives
  more (the naive sum over-counts youth known to several agencies);
- without linkage (records left as the agencies entered them) the counts are wrong: a
  youth known to two agencies counts twice, and a girl arrested under a false adult age
  is not seen as a minor at all (her record alone says 19);
- an incremental refresh reads only new and edited contacts and follows a merge made
  since; the snapshot holds no names, addresses or free text;
- every measure's county rows add up to its state row, and the breakdowns of the
  identified youth add up to the identified count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.utils import timezone

from nowrongdoor import clock
from nowrongdoor.analytics import measures, snapshot
from nowrongdoor.synth.models import TruthPerson
from nowrongdoor.youth.models import Contact, SourceRecord
from tests.analytics.conftest import link_perfectly

pytestmark = pytest.mark.django_db
YEARS = tuple(range(2019, 2027))


def truth_first_identified() -> dict[int, dt.date]:
    """True person -> day of first identification, from the truth tables and the contacts
    of the person's records (the measures' definition, applied to true persons)."""
    record_person = {}
    birth = {}
    for person in TruthPerson.objects.prefetch_related("records"):
        birth[person.pk] = person.birth_date
        for record in person.records.all():
            record_person[record.source_record_id] = person.pk
    first: dict[int, dt.date] = {}
    for contact in Contact.objects.filter(contact_type__in=["hotline_report", "arrest", "citation", "detention"]):
        person = record_person[contact.source_record_id]
        day = timezone.localtime(contact.occurred_at).date()
        born = birth[person]
        adult_on = dt.date(born.year + 18, 3, 1) if (born.month, born.day) == (2, 29) \
            else born.replace(year=born.year + 18)
        if contact.contact_type == "hotline_report":
            identifying = "sexual_exploitation" in contact.details.get("allegations", [])
        else:
            identifying = contact.details.get("offence_category") == "prostitution_related" and day < adult_on
        if identifying and (person not in first or day < first[person]):
            first[person] = day
    return first


def identified_by_year(con: duckdb.DuckDBPyConnection, year: int) -> tuple[int, int]:
    """(distinct youth identified, the naive sum of agency counts) from the raw grids."""
    flagged = measures.compute(con, "flagged", year).grid
    added = measures.compute(con, "added_up", year).grid
    return flagged.column_totals[0], added.total


def test_unduplicated_counts_equal_the_truth_given_perfect_linkage(county_data: Any, snapshot_path: Path) -> None:
    assert link_perfectly() > 0
    snapshot.refresh(path=snapshot_path)
    truth = truth_first_identified()
    con = snapshot.connect(snapshot_path)
    try:
        totals = [0, 0, 0]
        for year in YEARS:
            expected = sum(1 for day in truth.values() if day.year == year)
            unduplicated, naive = identified_by_year(con, year)
            assert unduplicated == expected, year
            assert naive >= unduplicated, year
            totals = [totals[0] + expected, totals[1] + unduplicated, totals[2] + naive]
        assert totals[0] >= 20, "the synthetic county identifies enough youth to compare"
        assert totals[2] > totals[1], "adding up agency counts over-counts"
    finally:
        con.close()


def test_without_linkage_the_same_youth_are_counted_more_than_once(county_data: Any, snapshot_path: Path) -> None:
    snapshot.refresh(path=snapshot_path)
    truth = truth_first_identified()
    con = snapshot.connect(snapshot_path)
    try:
        off = 0
        for year in YEARS:
            unduplicated, _ = identified_by_year(con, year)
            expected = sum(1 for day in truth.values() if day.year == year)
            off += abs(unduplicated - expected)
        assert off > 0
    finally:
        con.close()


def test_counties_add_up_to_the_state_and_breakdowns_to_the_identified(
        county_data: Any, snapshot_path: Path) -> None:
    link_perfectly()
    snapshot.refresh(path=snapshot_path)
    con = snapshot.connect(snapshot_path)
    try:
        identified = measures.compute(con, "flagged", 2025).grid
        per_county = [row[0] for row in identified.cells]
        for measure_id, (definition, _) in measures.MEASURES.items():
            grid = measures.compute(con, measure_id, 2025).grid
            assert grid.column_totals == [sum(row[c] for row in grid.cells) for c in range(len(grid.columns))]
            if definition.population == "identified":
                assert grid.row_totals == per_county, measure_id
    finally:
        con.close()


def test_an_incremental_refresh_reads_new_and_edited_contacts_and_follows_merges(
        county_data: Any, snapshot_path: Path) -> None:
    first = snapshot.refresh(path=snapshot_path)
    assert first.kind == "full" and first.contacts_read == Contact.objects.count()

    contact = Contact.objects.filter(contact_type="hotline_report").first()
    assert contact is not None
    Contact.objects.filter(pk=contact.pk).update(
        details={**contact.details, "allegations": ["sexual_exploitation"]}, version=contact.version + 1)
    record = SourceRecord.objects.exclude(youth_id=contact.youth_id).first()
    assert record is not None
    moved_youth = record.youth_id
    SourceRecord.objects.filter(pk=record.pk).update(youth_id=contact.youth_id)  # a merge since the last build
    new = Contact.objects.create(
        youth_id=contact.youth_id, source_record_id=contact.source_record_id, agency_id=contact.agency_id,
        contact_type="absence_start", category="child_welfare", occurred_at=clock.now(), details={},
        recorded_at=clock.now(), created_by_id=contact.created_by_id)

    second = snapshot.refresh(path=snapshot_path)

    edited = Contact.objects.filter(version__gt=1).count()
    assert second.kind == "incremental" and second.contacts_read == edited + 1
    con = snapshot.connect(snapshot_path)
    try:
        assert con.execute("SELECT count(*) FROM contacts").fetchall()[0][0] == Contact.objects.count()
        allegations = con.execute("SELECT allegations FROM contacts WHERE contact_id = ?",
                                  [contact.pk]).fetchall()[0][0]
        assert allegations == ["sexual_exploitation"]
        assert con.execute("SELECT youth_id FROM contacts_y WHERE contact_id = ?", [new.pk]).fetchall()[0][0] \
            == contact.youth_id
        assert con.execute("SELECT count(*) FROM youth_facts WHERE youth_id = ?", [moved_youth]).fetchall()[0][0] \
            == int(SourceRecord.objects.filter(youth_id=moved_youth).exists())
    finally:
        con.close()
    full = snapshot.refresh(path=snapshot_path, full=True)
    assert full.kind == "full" and full.contacts_read == Contact.objects.count()


def test_the_snapshot_holds_no_names_addresses_or_free_text(county_data: Any, snapshot_path: Path) -> None:
    snapshot.refresh(path=snapshot_path)
    names = set(SourceRecord.objects.values_list("last_name", flat=True)[:300])
    addresses = {c.details["address"] for c in Contact.objects.filter(contact_type="placement_start")[:100]}
    assert names and addresses
    con = snapshot.connect(snapshot_path)
    try:
        columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE NOT internal").fetchall()}
        assert not columns & {"first_name", "last_name", "middle_name", "aliases", "address", "details", "notes",
                              "reason", "whereabouts", "local_id"}
        text: dict[str, list[str]] = defaultdict(list)
        for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                                         "WHERE data_type = 'VARCHAR' AND NOT internal").fetchall():
            text[table].append(column)
        for table, cols in text.items():
            for column in cols:
                query = f'SELECT DISTINCT "{column}" FROM "{table}"'  # noqa: S608 - names from the catalog
                values = {v for (v,) in con.execute(query).fetchall()}
                assert not values & names, (table, column)
                assert not values & addresses, (table, column)
    finally:
        con.close()


def test_docs_carry_every_measures_definition() -> None:
    text = (Path(__file__).parents[2] / "docs" / "measures.md").read_text()
    assert text.endswith(measures.markdown()), "regenerate the end of docs/measures.md from measures.markdown()"


def test_the_command_refreshes_as_the_system_and_is_audited(
        county_data: Any, snapshot_path: Path, make_user: Any, capsys: Any) -> None:
    from nowrongdoor.access.models import AuditEvent
    from nowrongdoor.cli import main

    make_user("system_admin", None)

    assert main(["analytics", "refresh"]) == 0
    assert main(["analytics", "refresh"]) == 0
    assert main(["analytics", "refresh", "--full"]) == 0

    out = capsys.readouterr().out
    assert "full analytics snapshot" in out and f"{Contact.objects.count()} contacts" in out
    assert snapshot_path.exists()
    events = AuditEvent.objects.filter(action="analytics.refresh").select_related("actor").order_by("pk")
    assert [e.detail["kind"] for e in events] == ["full", "incremental", "full"]
    assert {e.actor.role for e in events} == {"system_admin"}


def test_tables_published_with_the_snapshot_are_the_tables_computed_on_demand(
        county_data: Any, snapshot_path: Path) -> None:
    from nowrongdoor.analytics import release

    snapshot.refresh(path=snapshot_path, publish=True)
    con = snapshot.connect(snapshot_path)
    try:
        years = release._years(con)
        assert len(years) >= 3
        for year in years:
            stored = release._published(con, year)
            assert stored is not None, year
            assert stored == release.protect_all(con, year), year
    finally:
        con.close()
    assert release.tables(years[0], snapshot_path)[0] == stored_or_fail(snapshot_path, years[0])

    snapshot.refresh(path=snapshot_path, full=True)  # without publishing: computed when asked
    con = snapshot.connect(snapshot_path)
    try:
        assert release._published(con, years[0]) is None
    finally:
        con.close()
    assert release.tables(years[0], snapshot_path)[0] == stored_or_fail(snapshot_path, years[0], computed=True)


def stored_or_fail(path: Path, year: int, computed: bool = False) -> Any:
    from nowrongdoor.analytics import release

    con = snapshot.connect(path)
    try:
        found = release.protect_all(con, year) if computed else release._published(con, year)
        assert found is not None
        return found
    finally:
        con.close()
