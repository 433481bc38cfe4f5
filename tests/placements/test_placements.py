"""Placing a youth safely: the search names every excluded resource's rule and ranks
the rest; a no-reject-no-eject hold keeps the bed through an absence and expires on
time; an absence starts the missing-from-care protocol; the rules are checked again at
the moment of placing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.cases import services as case_services
from nowrongdoor.errors import Immutable, StaleEdit, ValidationFailed
from nowrongdoor.placements import selectors, services
from nowrongdoor.placements.matching import rules
from nowrongdoor.placements.models import Hold, Placement
from nowrongdoor.protocols.models import Task
from nowrongdoor.protocols.services import tick
from tests.placements.conftest import T0, PlacementWorld


def search(pw: PlacementWorld, at: dt.datetime = T0, **needs: Any) -> selectors.MatchView:
    with clock.frozen(at):
        run = services.search(actor=pw.worker, youth_public_id=pw.youth, needs=needs)
        return selectors.get_match(actor=pw.worker, public_id=str(run.public_id))


def ranked_names(view: selectors.MatchView) -> list[str]:
    return [o.resource.name for o in view.options if o.resource]


def refused(view: selectors.MatchView) -> dict[str, list[str]]:
    return {r.name: r.rules for r in view.refusals}


def place(pw: PlacementWorld, key: str, at: dt.datetime = T0, **extra: Any) -> Placement:
    with clock.frozen(at):
        return services.place(actor=pw.worker, youth_public_id=pw.youth,
                              resource_public_id=str(pw.resources[key].public_id), started_at=at, **extra)


def test_a_search_ranks_what_is_safe_and_names_the_rule_for_every_exclusion(pw: PlacementWorld) -> None:
    view = search(pw)
    assert view.ranked_count + view.excluded_count == len(pw.resources)
    assert refused(view) == {"Oak Boys Home": ["Does not serve this gender (serves boys)"]}
    # CSEC-trained, LGBTQ-affirming safe home and the trained foster family rank first; the
    # shelter speaks her language (es).
    names = ranked_names(view)
    assert names[:2] == ["Lantern Safe Home", "Rivera Family"]
    shelter = next(o for o in view.options if o.resource and o.resource.name == "Harbor Shelter")
    assert any("Speaks the youth's language" in reason for reason in shelter.reasons)
    assert view.rules_version == rules().version


def test_the_ranking_is_deterministic(pw: PlacementWorld) -> None:
    assert [o.resource_public_id for o in search(pw).options] == [o.resource_public_id for o in search(pw).options]


def test_the_complicit_caregiver_and_the_area_where_she_was_exploited_exclude(pw: PlacementWorld) -> None:
    caregiver = pw.resources["family"].caregivers.get()
    with clock.frozen(T0):
        services.record_complicity(actor=pw.worker, youth_public_id=pw.youth, caregiver_id=caregiver.pk,
                                   note="Recorded by the investigating detective (synthetic).")
        services.record_exploitation_area(actor=pw.worker, youth_public_id=pw.youth, area_id=pw.area.pk)
    view = search(pw)
    assert refused(view)["Rivera Family"] == ["Caregiver complicit in this youth's exploitation"]
    assert refused(view)["Southside Group Home"][0].startswith("Group home near where this youth was exploited")
    with pytest.raises(ValidationFailed) as failed:
        place(pw, "family")
    assert "Caregiver complicit in this youth's exploitation" in failed.value.errors["resource"]


def test_the_rules_are_checked_again_when_placing_and_the_last_bed_is_not_given_twice(
        pw: PlacementWorld, make_record: Any) -> None:
    resource = pw.resources["safe"]
    resource.capacity = 1
    resource.save()
    with clock.frozen(T0 - dt.timedelta(days=1)):
        other = make_record(pw.worker, date_of_birth=dt.date(2011, 1, 1), sex="female")
        services.place(actor=pw.worker, youth_public_id=str(other.youth.public_id),
                       resource_public_id=str(resource.public_id), started_at=T0 - dt.timedelta(days=1))
    assert "No bed free" in " ".join(refused(search(pw))["Lantern Safe Home"])
    with pytest.raises(ValidationFailed) as failed:
        place(pw, "safe")
    assert failed.value.errors["resource"][0].startswith("No bed free")


def test_a_young_child_is_not_placed_with_an_older_youth_being_exploited(pw: PlacementWorld, make_record: Any) -> None:
    with clock.frozen(T0 - dt.timedelta(days=2)):
        older = make_record(pw.worker, date_of_birth=dt.date(2009, 3, 3), sex="female")
        case_services.record_status(actor=pw.worker, youth_public_id=str(older.youth.public_id),
                                    status="victim_in_foster_care", start_date=dt.date(2026, 10, 1))
        services.place(actor=pw.worker, youth_public_id=str(older.youth.public_id),
                       resource_public_id=str(pw.resources["shelter"].public_id), started_at=T0 - dt.timedelta(days=2))
    assert refused(search(pw))["Harbor Shelter"] == [
        "Young child with an older youth being exploited (age gap at least 3)"]


def test_a_hold_keeps_the_bed_through_an_absence_starts_the_protocol_and_expires_on_time(pw: PlacementWorld) -> None:
    placement = place(pw, "family", hold_days=90, hold_agreed_by="Foster mother (synthetic)")
    hold = Hold.objects.get(placement=placement)
    assert hold.expires_on == T0.date() + dt.timedelta(days=90)
    # Two weeks later she runs away: the absence is recorded and the missing-from-care protocol starts.
    gone = T0 + dt.timedelta(days=14)
    with clock.frozen(gone):
        absence = services.record_absence(actor=pw.worker, placement_public_id=str(placement.public_id),
                                          expected_version=placement.version, started_at=gone)
        tick()  # the protocols' outbox: evaluated on commit in production, by the tick here
    tasks = set(Task.objects.filter(youth=placement.youth).values_list("protocol_id", flat=True))
    assert "missing_from_placement" in tasks
    placement.refresh_from_db()
    assert placement.status == Placement.ABSENT
    # Found three days later and taken to the shelter: the placement ends, the hold keeps the bed.
    back = gone + dt.timedelta(days=3)
    with clock.frozen(back):
        services.record_return(actor=pw.worker, absence_public_id=str(absence.public_id),
                               expected_version=absence.version, returned_at=back,
                               whereabouts="Found by police downtown (synthetic)", back_in_placement=False)
        tick()
    assert "return_from_absence" in set(Task.objects.filter(youth=placement.youth).values_list("protocol_id",
                                                                                                flat=True))
    placement.refresh_from_db()
    assert placement.status == Placement.ENDED and placement.end_reason == "ran_away"
    with clock.frozen(back):
        beds = {r.name: r for r in selectors.resource_directory(actor=pw.worker)}
    assert (beds["Rivera Family"].placed, beds["Rivera Family"].held, beds["Rivera Family"].free) == (0, 1, 1)
    view = search(pw, back)
    assert ranked_names(view)[0] == "Rivera Family"
    assert any(r.startswith("+50 Holds a bed for this youth") for r in view.options[0].reasons)
    # She comes back to the same caregiver.
    again = place(pw, "family", back + dt.timedelta(hours=2))
    assert again.resource_id == placement.resource_id
    # The day after the hold's end it no longer counts, nor ranks.
    after = dt.datetime.combine(hold.expires_on + dt.timedelta(days=1), dt.time(12), tzinfo=T0.tzinfo)
    with clock.frozen(after):
        services.end_placement(actor=pw.worker, placement_public_id=str(again.public_id),
                               expected_version=again.version, ended_at=after, reason="reunified")
        beds = {r.name: r for r in selectors.resource_directory(actor=pw.worker)}
    assert beds["Rivera Family"].held == 0
    assert not any("Holds a bed" in r for o in search(pw, after).options for r in o.reasons)


def test_a_hold_is_only_where_the_caregiver_takes_holds_and_within_the_county_limit(pw: PlacementWorld) -> None:
    with pytest.raises(ValidationFailed) as failed:
        place(pw, "shelter", hold_days=30)
    assert "does not take" in failed.value.errors["hold_days"][0]
    with pytest.raises(ValidationFailed) as failed:
        place(pw, "family", hold_days=rules().hold_max_days + 1)
    assert "hold_days" in failed.value.errors


def test_a_second_placement_needs_a_move_and_a_move_is_one_step(pw: PlacementWorld) -> None:
    first = place(pw, "shelter")
    with pytest.raises(ValidationFailed) as failed:
        place(pw, "safe", T0 + dt.timedelta(hours=1))
    assert "move" in failed.value.errors["youth"][0]
    later = T0 + dt.timedelta(days=3)
    with clock.frozen(later):
        moved = services.move(actor=pw.worker, placement_public_id=str(first.public_id),
                              expected_version=first.version, resource_public_id=str(pw.resources["safe"].public_id),
                              moved_at=later)
        with pytest.raises(StaleEdit):
            services.end_placement(actor=pw.worker, placement_public_id=str(moved.public_id),
                                   expected_version=moved.version + 5, ended_at=later, reason="reunified")
        history = selectors.youth_placements(actor=pw.worker, youth_public_id=pw.youth)
    first.refresh_from_db()
    assert first.end_reason == "moved" and moved.status == Placement.ACTIVE
    assert [p.resource_name for p in history.placements] == ["Lantern Safe Home", "Harbor Shelter"]
    assert history.moves == 1 and history.moves_per_year == round(365 / 3, 2)


def test_absence_and_return_rules(pw: PlacementWorld) -> None:
    placement = place(pw, "shelter")
    gone = T0 + dt.timedelta(days=1)
    with clock.frozen(gone):
        absence = services.record_absence(actor=pw.worker, placement_public_id=str(placement.public_id),
                                          expected_version=placement.version, started_at=gone)
        with pytest.raises(Immutable):
            services.record_absence(actor=pw.worker, placement_public_id=str(placement.public_id),
                                    expected_version=placement.version + 1, started_at=gone)
        with pytest.raises(ValidationFailed) as failed:
            services.record_return(actor=pw.worker, absence_public_id=str(absence.public_id),
                                   expected_version=absence.version, returned_at=gone - dt.timedelta(hours=1))
        assert "returned_at" in failed.value.errors
    with clock.frozen(gone + dt.timedelta(hours=5)):
        services.record_return(actor=pw.worker, absence_public_id=str(absence.public_id),
                               expected_version=absence.version, returned_at=gone + dt.timedelta(hours=5))
    placement.refresh_from_db()
    assert placement.status == Placement.ACTIVE


def test_other_agencies_see_the_type_and_county_never_the_address(pw: PlacementWorld, make_record: Any,
                                                                   link_records: Any) -> None:
    place(pw, "safe")
    with clock.frozen(T0):
        own = selectors.youth_placements(actor=pw.worker, youth_public_id=pw.youth)
        assert own.placements[0].resource_name == "Lantern Safe Home"
        screener = selectors.youth_placements(actor=pw.screener, youth_public_id=pw.youth, purpose="screening")
    # A screener of the same agency: the screening purpose does not use placement addresses.
    assert screener.placements[0].type_label == "Specialised safe home"
    assert screener.placements[0].resource_name is None and screener.placements[0].address is None
    assert AuditEvent.objects.filter(actor=pw.screener, object_type="placement").exists()


def test_bad_needs_name_the_field(pw: PlacementWorld) -> None:
    with clock.frozen(T0), pytest.raises(ValidationFailed) as failed:
        services.search(actor=pw.worker, youth_public_id=pw.youth,
                        needs={"types": ["castle"], "language": "xx", "school_zone": "999999"})
    assert set(failed.value.errors) == {"types", "language", "school_zone"}


def test_the_case_shows_where_the_youth_lives_and_the_hold_joins_its_timeline(pw: PlacementWorld) -> None:
    from nowrongdoor.cases import selectors as case_selectors

    with clock.frozen(T0):
        case = case_services.open_case(actor=pw.worker, youth_public_id=pw.youth,
                                       reason="Recovered tonight (synthetic).")
    placement = place(pw, "family", hold_days=30, hold_agreed_by="Foster mother (synthetic)")
    assert placement.case == case  # the agency's open case is linked without being named
    with clock.frozen(T0 + dt.timedelta(hours=1)):
        view = case_selectors.get_case(actor=pw.worker, public_id=str(case.public_id))
    assert view.placements.current.resource_name == "Rivera Family"
    assert [item.kind for item in view.timeline].count("hold") == 1


def test_a_search_sees_a_bed_taken_since_the_last_search(pw: PlacementWorld, make_record: Any) -> None:
    """Occupancy is kept per process between searches; a placement anywhere refreshes it."""
    resource = pw.resources["safe"]
    resource.capacity = 1
    resource.save()
    assert "Lantern Safe Home" in ranked_names(search(pw))
    with clock.frozen(T0):
        other = make_record(pw.worker, date_of_birth=dt.date(2012, 2, 2), sex="female")
        services.place(actor=pw.worker, youth_public_id=str(other.youth.public_id),
                       resource_public_id=str(resource.public_id), started_at=T0)
    assert refused(search(pw))["Lantern Safe Home"][0].startswith("No bed free")
