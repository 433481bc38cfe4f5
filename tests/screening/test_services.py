"""Screening records: drafts you can resume, results that never change, access and audit."""

from __future__ import annotations

import pytest

from nowrongdoor import events
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import Immutable, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.screening import selectors, services
from nowrongdoor.screening.events import ScreeningCompleted
from nowrongdoor.screening.instruments import for_agency_type


def neutral(item):
    fixed = {"yes_no_unknown": "no", "rating": "no_concern", "count": 0}
    if item.answer in fixed:
        return fixed[item.answer]
    return next(o for o in item.options if o not in item.positive_options)


def positive(item):
    fixed = {"yes_no_unknown": "yes", "rating": "clear_concern"}
    if item.answer in fixed:
        return fixed[item.answer]
    return item.positive_at if item.answer == "count" else sorted(item.positive_options)[0]


@pytest.fixture
def probation(make_agency, make_user, make_record):
    agency = make_agency("probation")
    screener = make_user("screener", agency)
    record = make_record(screener)
    instrument = for_agency_type("probation")[0]
    return agency, screener, record, instrument


def start(screener, record, instrument, form="short"):
    return services.start_screening(
        actor=screener, youth_public_id=str(record.youth.public_id), instrument_id=instrument.id, form=form
    )


def test_a_draft_is_saved_in_parts_and_resumed(probation):
    _, screener, record, instrument = probation
    draft = start(screener, record, instrument)
    first, *rest = instrument.form_items("short")
    saved = services.save_answers(
        actor=screener, screening_public_id=str(draft.public_id), expected_version=1, answers={first.id: neutral(first)}
    )
    # Later, perhaps in another session: the draft still holds the first answer.
    again = selectors.get_screening(actor=screener, public_id=str(draft.public_id))
    assert again.status == "draft" and again.answers == {first.id: neutral(first)}
    done = services.complete_screening(
        actor=screener,
        screening_public_id=str(draft.public_id),
        expected_version=saved.version,
        answers={i.id: neutral(i) for i in rest},
    )
    assert done.status == "completed" and done.completed_at is not None
    assert done.result["instrument"] == instrument.key


def test_two_tabs_cannot_overwrite_each_other(probation):
    _, screener, record, instrument = probation
    draft = start(screener, record, instrument)
    item = instrument.form_items("short")[0]
    services.save_answers(
        actor=screener, screening_public_id=str(draft.public_id), expected_version=1, answers={item.id: neutral(item)}
    )
    with pytest.raises(StaleEdit):
        services.save_answers(
            actor=screener,
            screening_public_id=str(draft.public_id),
            expected_version=1,
            answers={item.id: positive(item)},
        )


def test_completing_names_every_missing_or_misfit_item(probation):
    _, screener, record, instrument = probation
    draft = start(screener, record, instrument)
    items = instrument.form_items("short")
    with pytest.raises(ValidationFailed) as refused:
        services.complete_screening(
            actor=screener,
            screening_public_id=str(draft.public_id),
            expected_version=1,
            answers={items[0].id: "perhaps", "not_an_item": "yes"},
        )
    assert set(refused.value.errors) == {f"answers.{i.id}" for i in items} | {"answers.not_an_item"}


def test_a_completed_screening_never_changes_and_is_corrected_by_a_new_one(probation):
    _, screener, record, instrument = probation
    draft = start(screener, record, instrument)
    items = instrument.form_items("short")
    done = services.complete_screening(
        actor=screener,
        screening_public_id=str(draft.public_id),
        expected_version=1,
        answers={i.id: neutral(i) for i in items},
    )
    with pytest.raises(Immutable):
        services.save_answers(
            actor=screener,
            screening_public_id=str(done.public_id),
            expected_version=done.version,
            answers={items[0].id: positive(items[0])},
        )
    with pytest.raises(Immutable):
        services.complete_screening(
            actor=screener, screening_public_id=str(done.public_id), expected_version=done.version
        )
    correction = services.correct_screening(actor=screener, screening_public_id=str(done.public_id))
    assert correction.status == "draft" and correction.corrects_id == done.pk
    assert correction.answers == done.answers
    done.refresh_from_db()
    assert done.level == "no_concern" and done.status == "completed"


def test_a_clear_indicator_gives_clear_indicators_and_announces_it_after_commit(
    probation, django_capture_on_commit_callbacks
):
    _, screener, record, instrument = probation
    items = instrument.form_items("short")
    clear = next(i for i in items if i.kind == "clear_indicator")
    answers = {i.id: neutral(i) for i in items} | {clear.id: positive(clear)}
    heard: list[ScreeningCompleted] = []
    unsubscribe = events.subscribe(ScreeningCompleted, heard.append)
    try:
        draft = start(screener, record, instrument)
        with django_capture_on_commit_callbacks(execute=True):
            done = services.complete_screening(
                actor=screener, screening_public_id=str(draft.public_id), expected_version=1, answers=answers
            )
    finally:
        unsubscribe()
    assert done.level == "clear_indicators"
    assert clear.id in done.result["drivers"]
    assert [(e.screening_id, e.level) for e in heard] == [(done.pk, "clear_indicators")]


def test_immediate_safety_is_flagged_whatever_the_level(probation):
    _, screener, record, instrument = probation
    items = instrument.form_items("short")
    danger = next(i for i in items if i.kind == "immediate_safety")
    draft = start(screener, record, instrument)
    done = services.complete_screening(
        actor=screener,
        screening_public_id=str(draft.public_id),
        expected_version=1,
        answers={i.id: neutral(i) for i in items} | {danger.id: positive(danger)},
    )
    assert done.immediate_safety is True
    assert done.result["safety_items"] == [danger.id]


def test_only_a_youth_you_can_see_is_screened(probation, make_agency, make_user, make_record):
    _, screener, _, instrument = probation
    unseen = make_record(make_user("screener", make_agency("health")))
    with pytest.raises(NotFound):
        start(screener, unseen, instrument)


def test_an_instrument_of_another_setting_is_refused(probation):
    _, screener, record, _ = probation
    school = for_agency_type("education")[0]
    with pytest.raises(ValidationFailed) as refused:
        start(screener, record, school)
    assert "instrument" in refused.value.errors


def test_sharing_shows_completed_screenings_not_drafts_and_never_unshared_ones(
    probation, make_agency, make_user, link_records, make_record
):
    from nowrongdoor.access.services import create_agreement
    from nowrongdoor.clock import today

    agency, screener, record, instrument = probation
    child_welfare = make_agency("child_welfare")
    worker = make_user("case_manager", child_welfare)
    create_agreement(
        actor=make_user("system_admin", None),
        county=agency.county,
        title="Probation shares screenings",
        discloser=agency,
        recipient=child_welfare,
        categories=["identity", "screening"],
        purposes=["screening"],
        legal_basis_code="WIC827",
        valid_from=today(),
    )
    items = instrument.form_items("short")
    done = start(screener, record, instrument)
    services.complete_screening(
        actor=screener,
        screening_public_id=str(done.public_id),
        expected_version=1,
        answers={i.id: neutral(i) for i in items},
    )
    draft = start(screener, record, instrument)

    seen = selectors.screenings_of_youth(actor=worker, youth_public_id=str(record.youth.public_id), purpose="screening")
    assert [s.public_id for s in seen] == [str(done.public_id)]
    assert seen[0].notes is None  # screening does not use case notes
    with pytest.raises(NotFound):
        selectors.get_screening(actor=worker, public_id=str(draft.public_id))

    outsider = make_user("screener", make_agency("education"))
    with pytest.raises(NotFound):
        selectors.get_screening(actor=outsider, public_id=str(done.public_id))
    refused = AuditEvent.objects.filter(actor=outsider, object_type="screening", allowed=False)
    assert refused.count() == 1


def test_every_screening_write_is_audited(probation):
    _, screener, record, instrument = probation
    draft = start(screener, record, instrument)
    items = instrument.form_items("short")
    services.complete_screening(
        actor=screener,
        screening_public_id=str(draft.public_id),
        expected_version=1,
        answers={i.id: neutral(i) for i in items},
    )
    actions = list(AuditEvent.objects.filter(object_id=str(draft.public_id)).values_list("action", "category"))
    assert actions == [("create", "screening"), ("complete", "screening")]


def test_what_another_agency_shared_starts_answered_with_its_source(
    probation, make_agency, make_user, make_record, make_contact, link_records
):
    import datetime as dt

    from nowrongdoor.access.services import create_agreement
    from nowrongdoor.clock import today

    agency, screener, record, instrument = probation
    form = "full"
    item = next(i for i in instrument.form_items(form) if i.known_from and i.answer != "choice")
    rule = item.known_from
    owner_type = {
        "hotline_report": "child_welfare",
        "removal": "child_welfare",
        "placement_start": "child_welfare",
        "absence_start": "child_welfare",
        "arrest": "law_enforcement",
        "citation": "law_enforcement",
        "health_visit": "health",
        "school_event": "education",
    }.get(rule["contact_type"], "child_welfare")
    other = make_agency(owner_type)
    worker = make_user("case_manager", other)
    theirs = make_record(worker)
    link_records(theirs, record)
    from nowrongdoor.dictionary import vocabulary
    from nowrongdoor.youth.services import create_contact

    spec = vocabulary().contact_type(rule["contact_type"])
    details = dict(rule.get("details") or {})
    for f in spec.fields:
        if f.required and f.name not in details:
            details[f.name] = [vocabulary().codes(f.code_list)[0]] if f.many else vocabulary().codes(f.code_list)[0]
    for n in range(int(rule.get("min_count", 1))):
        create_contact(
            actor=worker,
            source_record_public_id=str(theirs.public_id),
            contact_type=rule["contact_type"],
            occurred_at=dt.datetime(2025, 4, 1 + n, 9, tzinfo=dt.UTC),
            details=details,
        )
    category = spec.category
    create_agreement(
        actor=make_user("system_admin", None),
        county=agency.county,
        title="Shared for screening",
        discloser=other,
        recipient=agency,
        categories=["identity", category],
        purposes=["screening"],
        legal_basis_code="MOU",
        valid_from=today(),
    )
    if vocabulary().requires_consent(category):
        from nowrongdoor.access.services import record_consent

        record_consent(actor=worker, youth=record.youth, category=category, given_by="youth", given_on=today())

    draft = start(screener, record, instrument, form=form)
    assert item.id in draft.answers
    assert draft.known[item.id]["agency"] == other.name
    assert draft.known[item.id]["count"] == int(rule.get("min_count", 1))


def test_nothing_is_taken_from_records_that_are_not_shared(
    probation, make_agency, make_user, make_record, make_contact, link_records
):
    _, screener, record, instrument = probation
    clinic_nurse = make_user("screener", make_agency("health"))
    theirs = make_record(clinic_nurse)
    link_records(theirs, record)
    for _ in range(3):
        make_contact(clinic_nurse, theirs, "health_visit", reason="sti_testing")
    draft = start(screener, record, instrument, form="full")
    assert not any(v["agency_type"] == "health" for v in draft.known.values())
