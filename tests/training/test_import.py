"""A file of completions is all or nothing: any problem means nothing is recorded and
every problem is named by row and column; a good file records every row; loading it
again records nothing new and counts the rows as already recorded."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import AccessDenied
from nowrongdoor.placements.models import Resource
from nowrongdoor.training import services
from nowrongdoor.training.models import Assignment, Completion
from nowrongdoor.training.selectors import person_ref
from tests.training.conftest import TrainingWorld, at, caregiver_at

TODAY = at(2027, 3, 15)
HEADER = "person,course,completed_on,certificate\n"


@pytest.fixture
def people(tw: TrainingWorld, staff: Any) -> dict[str, Any]:
    return {"ana": staff("screener", tw.cws), "ben": staff("case_manager", tw.cws),
            "carer": caregiver_at(tw.cws, "foster_family"), "outsider": staff("screener", tw.probation),
            "their_carer": caregiver_at(tw.probation, "group_home")}


def load(actor: Any, text: str) -> services.CompletionImport:
    with clock.frozen(TODAY):
        return services.import_completions(actor=actor, text=text)


def good_file(p: dict[str, Any]) -> str:
    return HEADER + (f"{person_ref(p['ana'])},csec_screening,2027-01-05,SYN-1\n"
                     f"{person_ref(p['ben'])},csec_engagement,2026-11-30,\n"
                     f"{person_ref(p['carer'])},csec_caregiving,2027-03-15,SYN-3\n")


def test_a_file_with_problems_records_nothing_and_names_each_by_row_and_column(
        tw: TrainingWorld, people: dict[str, Any]) -> None:
    ana = person_ref(people["ana"])
    text = HEADER + "\n".join([
        f"{ana},csec_screening,2027-01-05,SYN-1",  # row 2: fine on its own
        "staff:nobody-here,csec_screening,2027-01-05,",  # 3: unknown person
        f"{person_ref(people['outsider'])},csec_screening,2027-01-05,",  # 4: another agency's staff
        f"{person_ref(people['their_carer'])},csec_caregiving,2027-01-05,",  # 5: another agency's caregiver
        f"{ana},csec_juggling,2027-01-05,",  # 6: unknown course
        f"{ana},csec_engagement,2027-13-01,",  # 7: not a date
        f"{ana},csec_foundations,05/01/2027,",  # 8: not ISO
        f"{ana},csec_prevention_casework,2027-03-16,",  # 9: tomorrow
        f"{ana},csec_prevention_casework,1989-12-31,",  # 10: before 1990
        f"{ana},csec_screening,2027-01-05,SYN-1b",  # 11: row 2 again
        "caregiver:999999,csec_caregiving,2027-01-05,",  # 12: unknown caregiver
        f"{person_ref(people['ben'])},,2027-01-05,",  # 13: no course
    ]) + "\n"
    report = load(tw.admin, text)
    assert not report.loaded and report.rows == 12 and report.recorded == 0 and report.already == 0
    prefixes = [p.split(":")[0] for p in report.problems]  # "row N, column" (a duplicate: the row)
    assert prefixes == ["row 3, person", "row 4, person", "row 5, person", "row 6, course", "row 7, completed_on",
                        "row 8, completed_on", "row 9, completed_on", "row 10, completed_on", "row 11",
                        "row 12, person", "row 13, course"]
    joined = "\n".join(report.problems)
    assert "'staff:nobody-here'" in joined and "'csec_juggling'" in joined and "'2027-13-01'" in joined
    assert f"{person_ref(people['outsider'])!r} is not of your agency" in joined
    assert "future" in report.problems[6] and "1990-01-01" in report.problems[7] and "twice" in report.problems[8]
    assert not Completion.objects.exists()
    event = AuditEvent.objects.filter(action="training.import").get()
    assert not event.allowed and event.detail == {"rows": 12, "problems": 11}


def test_a_missing_header_column_is_named_and_nothing_is_recorded(tw: TrainingWorld, people: dict[str, Any]) -> None:
    body = good_file(people).split("\n", 1)[1]
    report = load(tw.admin, "person,course,certificate\n" + body)
    assert report.problems == ["header: missing column(s) completed_on"] and not report.loaded
    report = load(tw.admin, "who,what\n" + body)
    assert report.problems == ["header: missing column(s) person, course, completed_on"]
    assert load(tw.admin, "").problems == ["header: missing column(s) person, course, completed_on"]
    assert not Completion.objects.exists()
    assert AuditEvent.objects.filter(action="training.import", allowed=False).count() == 3


def test_a_good_file_records_every_row_and_loading_it_again_records_nothing_new(
        tw: TrainingWorld, people: dict[str, Any]) -> None:
    carer = people["carer"]
    with clock.frozen(TODAY):
        services.assign_course(actor=tw.admin, person_key=person_ref(people["ana"]), course="csec_screening",
                               due_on=dt.date(2027, 4, 1))
    text = "\ufeff" + good_file(people)  # a spreadsheet's byte-order mark is fine
    report = load(tw.admin, text)
    assert (report.loaded, report.rows, report.recorded, report.already, report.problems) == (True, 3, 3, 0, [])
    rows = {(c.user_id, c.caregiver_id, c.course, c.completed_on, c.expires_on, c.certificate, c.source)
            for c in Completion.objects.all()}
    assert rows == {
        (people["ana"].pk, None, "csec_screening", dt.date(2027, 1, 5), dt.date(2029, 1, 5), "SYN-1", "imported"),
        (people["ben"].pk, None, "csec_engagement", dt.date(2026, 11, 30), dt.date(2028, 11, 30), "", "imported"),
        (None, carer.pk, "csec_caregiving", dt.date(2027, 3, 15), dt.date(2028, 3, 15), "SYN-3", "imported"),
    }
    assert Assignment.objects.get().status == Assignment.DONE  # the import closed the assignment
    assert Resource.objects.get(pk=carer.resource_id).csec_trained  # the caregiver holds the placement course
    again = load(tw.admin, text)
    assert (again.loaded, again.rows, again.recorded, again.already) == (True, 3, 0, 3)
    assert Completion.objects.count() == 3
    more = load(tw.admin, good_file(people) + f"{person_ref(people['ben'])},csec_screening,2027-02-01,SYN-4\n")
    assert (more.recorded, more.already) == (1, 3) and Completion.objects.count() == 4
    details = [e.detail for e in AuditEvent.objects.filter(action="training.import", allowed=True).order_by("seq")]
    assert details == [{"rows": 3, "recorded": 3, "already": 0}, {"rows": 3, "recorded": 0, "already": 3},
                       {"rows": 4, "recorded": 1, "already": 3}]


@pytest.mark.parametrize("role", ["screener", "training_coordinator", "supervisor"])
def test_only_agency_administrators_import(tw: TrainingWorld, people: dict[str, Any], staff: Any, role: str) -> None:
    actor = staff(role, tw.cws)
    with pytest.raises(AccessDenied):
        load(actor, good_file(people))
    assert not Completion.objects.exists()
    assert AuditEvent.objects.filter(action="training.import", allowed=False, actor=actor).count() == 1


def test_another_agencys_administrator_cannot_import_our_people(tw: TrainingWorld, people: dict[str, Any]) -> None:
    report = load(tw.probation_admin, good_file(people))
    assert not report.loaded and len(report.problems) == 3
    assert all(p.endswith("is not of your agency") for p in report.problems)
    assert not Completion.objects.exists()


def test_the_import_through_the_api_and_the_page(client: Any, tw: TrainingWorld, people: dict[str, Any]) -> None:
    client.force_login(tw.admin)
    bad = good_file(people) + f"{person_ref(people['ana'])},csec_juggling,2027-01-05,\n"
    with clock.frozen(TODAY):
        response = client.post("/api/training/completions/import", data=json.dumps({"csv": bad}),
                               content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"loaded": False, "rows": 4, "recorded": 0, "already": 0,
                               "problems": ["row 5, course: unknown course 'csec_juggling'"]}
    with clock.frozen(TODAY):
        page = client.post("/training/", {"action": "import",
                                          "file": SimpleUploadedFile("c.csv", bad.encode(), "text/csv")})
    assert page.status_code == 400 and "row 5, course: unknown course" in page.content.decode()
    assert not Completion.objects.exists()
    with clock.frozen(TODAY):
        page = client.post("/training/", {"action": "import", "file": SimpleUploadedFile(
            "c.csv", good_file(people).encode("utf-8-sig"), "text/csv")})
        response = client.post("/api/training/completions/import", data=json.dumps({"csv": good_file(people)}),
                               content_type="application/json")
    assert page.status_code == 200 and 'id="import-result"' in page.content.decode()
    assert "Recorded 3 completions (0 already recorded)" in page.content.decode()
    assert response.json() == {"loaded": True, "rows": 3, "recorded": 0, "already": 3, "problems": []}
    assert Completion.objects.count() == 3
    client.force_login(people["ana"])
    with clock.frozen(TODAY):
        denied = client.post("/api/training/completions/import", data=json.dumps({"csv": good_file(people)}),
                             content_type="application/json")
    assert denied.status_code == 403
