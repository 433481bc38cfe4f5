from nowrongdoor.youth import selectors


def test_probation_screener_sees_own_contact_but_not_unshared_health(make_agency, make_user, make_record, make_contact):
    probation = make_agency("probation")
    clinic = make_agency("health")
    screener = make_user("screener", probation)
    nurse = make_user("screener", clinic)
    record = make_record(screener)
    make_contact(screener, record, "probation_intake")
    clinic_record = make_record(nurse, youth_public_id=None, first_name=record.first_name, last_name=record.last_name)
    make_contact(nurse, clinic_record, "health_visit", reason="sti_testing")

    view = selectors.get_youth(actor=screener, public_id=str(record.youth.public_id), purpose="screening")
    assert [c.contact_type for c in view.contacts] == ["probation_intake"]
    assert view.withheld_contacts == 0  # the clinic record is a separate, unlinked youth
