"""Loading an agency's extract of contacts: every row validated first (the record exists
in the agency's own records, codes, dates, ids), nothing loaded when any row is wrong,
the same file twice changes nothing, mapping mistakes are named, and history does not
open protocol tasks: only contacts within ``protocols_from_days`` start the response.
People come from the synthetic generator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from nowrongdoor import clock
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied
from nowrongdoor.protocols.models import TriggerEvent
from nowrongdoor.youth.imports import MappingInvalid, Problem, import_records
from nowrongdoor.youth.models import Contact, ImportRun, SourceRecord
from tests.youth.test_imports import MAPPING as RECORDS_MAPPING
from tests.youth.test_imports import people, write

MAPPING = """
version: 2
kind: contacts
protocols_from_days: 7
columns:
  local_id: EVENT_ID
  record_local_id: PERSON_ID
  contact_type: {column: EVENT, codes: {DET: detention, INT: probation_intake, HRG: court_hearing}}
  occurred_at: {column: EVENT_DATE, format: "%m/%d/%Y"}
details:
  offence_category: {column: OFFENSE, codes: {"647(b)": prostitution_related, "484": theft}}
"""
HEADER = ["EVENT_ID", "PERSON_ID", "EVENT", "EVENT_DATE", "OFFENSE"]


@pytest.fixture
def admin(make_agency: Callable[..., Agency], make_user: Callable[..., User], tmp_path: Path) -> User:
    """A probation administrator whose agency's records (P00000..P00009) are loaded."""
    user = make_user("agency_admin", make_agency("probation"))
    assert import_records(actor=user, path=write(tmp_path / "people.csv", people(10)),
                          mapping_text=RECORDS_MAPPING).loaded
    return user


def day(days_ago: int) -> str:
    return (clock.today() - dt.timedelta(days=days_ago)).strftime("%m/%d/%Y")


def events(rows: list[tuple[str, str, str, str, str]]) -> list[dict[str, str]]:
    return [dict(zip(HEADER, row, strict=True)) for row in rows]


def test_contacts_load_onto_their_records_and_loading_again_changes_nothing(admin: User, tmp_path: Path) -> None:
    rows = events([("E1", "P00001", "DET", day(900), "484"), ("E2", "P00001", "INT", day(898), ""),
                   ("E3", "P00002", "DET", day(400), "647(b)")])
    path = write(tmp_path / "events.csv", rows, HEADER)
    first = import_records(actor=admin, path=path, mapping_text=MAPPING)
    assert first.loaded and (first.rows, first.created, first.updated, first.unchanged) == (3, 3, 0, 0)
    assert first.summary().startswith("loaded: 3 contacts (3 new, 0 updated, 0 unchanged)")
    record = SourceRecord.objects.get(agency=admin.agency, local_id="P00002")
    contact = Contact.objects.get(agency=admin.agency, local_id="E3")
    assert (contact.source_record_id, contact.youth_id, contact.contact_type, contact.category) == (
        record.pk, record.youth_id, "detention", "probation")
    assert contact.details == {"offence_category": "prostitution_related"}
    assert contact.occurred_at.date() == clock.today() - dt.timedelta(days=400)
    assert ImportRun.objects.get(pk=first.run_id).kind == "contacts"

    again = import_records(actor=admin, path=path, mapping_text=MAPPING)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows[0]["OFFENSE"] = "647(b)"
    changed = import_records(actor=admin, path=write(tmp_path / "events2.csv", rows, HEADER), mapping_text=MAPPING)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    updated = Contact.objects.get(agency=admin.agency, local_id="E1")
    assert updated.details == {"offence_category": "prostitution_related"} and updated.version == 2
    assert Contact.objects.filter(agency=admin.agency).count() == 3


def test_history_does_not_open_protocol_tasks_but_a_recent_detention_does(admin: User, tmp_path: Path) -> None:
    rows = events([("OLD", "P00003", "DET", day(700), "647(b)"), ("NEW", "P00004", "DET", day(1), "647(b)")])
    report = import_records(actor=admin, path=write(tmp_path / "events.csv", rows, HEADER), mapping_text=MAPPING)
    assert report.loaded and report.announced == 1
    old, new = (Contact.objects.get(agency=admin.agency, local_id=k) for k in ("OLD", "NEW"))
    assert not TriggerEvent.objects.filter(key=f"contact:{old.public_id}").exists()
    assert TriggerEvent.objects.filter(key=f"contact:{new.public_id}").exists()


def test_any_wrong_row_means_nothing_is_loaded_and_each_problem_is_named(admin: User, tmp_path: Path) -> None:
    rows = events([
        ("E1", "P00001", "DET", day(30), "484"),        # fine
        ("E2", "NOBODY", "DET", day(30), "484"),        # no such record of this agency
        ("E3", "P00002", "XYZ", day(30), ""),           # not a contact type
        ("E4", "P00002", "DET", "31/31/2020", ""),      # not a date
        ("E5", "P00002", "DET", day(-30), ""),          # in the future
        ("E1", "P00003", "INT", day(30), ""),           # id used twice
        ("E7", "P00003", "DET", day(30), "999"),        # not an offence code
    ])
    report = import_records(actor=admin, path=write(tmp_path / "events.csv", rows, HEADER), mapping_text=MAPPING)
    assert not report.loaded and report.rows == 7
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(2, "PERSON_ID"), (3, "EVENT"), (4, "EVENT_DATE"), (5, "EVENT_DATE"), (6, "EVENT_ID"),
                     (7, "OFFENSE")}
    assert Problem(6, "EVENT_ID", "'E1' appears twice in the file") in report.problems
    assert not Contact.objects.filter(agency=admin.agency).exists()
    assert ImportRun.objects.get(pk=report.run_id).status == ImportRun.REJECTED


@pytest.mark.parametrize(("mapping", "message"), [
    (MAPPING.replace("  record_local_id: PERSON_ID\n", ""), "'record_local_id' is a required property"),
    (MAPPING.replace("offence_category:", "shoe_size:"), "details.shoe_size: is not a detail of any contact type"),
    (MAPPING.replace("probation_intake", "intake"), "columns.contact_type.codes.INT: 'intake' is not a contact type"),
    (MAPPING.replace("theft", "larceny"), "details.offence_category.codes.484: 'larceny' is not a code of"),
    (MAPPING.replace("OFFENSE", "CHARGE"), "file: no column 'CHARGE'"),
])
def test_mapping_mistakes_are_named(admin: User, tmp_path: Path, mapping: str, message: str) -> None:
    path = write(tmp_path / "events.csv", events([("E1", "P00001", "DET", day(3), "484")]), HEADER)
    with pytest.raises(MappingInvalid) as caught:
        import_records(actor=admin, path=path, mapping_text=mapping)
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert not Contact.objects.exists()


def test_only_an_agency_administrator_loads_contacts(admin: User, make_user: Callable[..., User],
                                                    tmp_path: Path) -> None:
    screener = make_user("screener", admin.agency)
    path = write(tmp_path / "events.csv", events([("E1", "P00001", "DET", day(3), "484")]), HEADER)
    with pytest.raises(AccessDenied):
        import_records(actor=screener, path=path, mapping_text=MAPPING)
    assert not Contact.objects.exists()
