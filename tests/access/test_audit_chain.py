"""The audit log is append-only and hash-chained, and tampering with it is found.

The events here are real ones, written by the services and selectors a user would call.
The ORM refuses to change or remove them, so the tampering is done the way an attacker
with database access would do it: raw SQL. ``verify_chain`` (and ``nowrongdoor audit
verify``) must then name the first event that no longer fits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.deletion import ProtectedError

from nowrongdoor import clock
from nowrongdoor.access.audit import GENESIS_HASH, _content_of, event_hash, verify_chain
from nowrongdoor.access.models import AppendOnly, AuditChainHead, AuditEvent
from nowrongdoor.access.services import create_agreement
from nowrongdoor.cli import main
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import NotFound
from nowrongdoor.youth import selectors

TABLE = AuditEvent._meta.db_table


def sql(statement: str, params: list[Any] | None = None) -> None:
    """Run raw SQL on the audit table (``{table}`` in the statement), bypassing the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=connection.ops.quote_name(TABLE)), params or [])


def seqs() -> list[int]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


@pytest.fixture
def chain(
    make_agency: Callable[..., Agency],
    make_user: Callable[..., User],
    make_record: Callable[..., Any],
    make_contact: Callable[..., Any],
    county: Any,
) -> list[int]:
    """A dozen or so real events: records and contacts written, an agreement, reads, a refusal."""
    probation, police = make_agency("probation"), make_agency("law_enforcement")
    screener, officer = make_user("screener", probation), make_user("screener", police)
    record = make_record(screener)
    make_contact(screener, record, "probation_intake")
    police_record = make_record(officer)
    make_contact(officer, police_record, "arrest", offence_category="theft")
    create_agreement(
        actor=make_user("system_admin", None),
        county=county,
        title="Synthetic MOU",
        discloser=police,
        recipient=probation,
        categories=["identity", "law_enforcement"],
        purposes=["screening"],
        legal_basis_code="WIC8279",
        valid_from=clock.today() - dt.timedelta(days=1),
    )
    selectors.get_youth(actor=screener, public_id=str(record.youth.public_id), purpose="screening")
    selectors.get_youth(actor=screener, public_id=str(police_record.youth.public_id), purpose="screening")
    selectors.search_youth(actor=screener, query=record.last_name, purpose="screening")
    with pytest.raises(NotFound):
        selectors.get_youth(actor=officer, public_id=str(record.youth.public_id), purpose="screening")
    numbers = seqs()
    assert len(numbers) >= 10 and numbers == list(range(1, len(numbers) + 1))
    return numbers


# -- intact ---------------------------------------------------------------------------


def test_an_intact_chain_verifies_and_every_event_links_to_the_one_before(chain: list[int]) -> None:
    result = verify_chain()

    assert result.ok and result.first_break is None
    assert result.checked == len(chain)
    events = list(AuditEvent.objects.order_by("seq"))
    assert events[0].prev_hash == GENESIS_HASH
    for before, event in itertools.pairwise(events):
        assert event.prev_hash == before.hash
    for event in events:
        assert event.hash == event_hash(event.prev_hash, _content_of(event))
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)


def test_an_empty_log_verifies(db: None) -> None:
    result = verify_chain()
    assert result.ok and result.checked == 0


# -- the ORM refuses to change or remove events ------------------------------------------


def test_the_orm_refuses_to_update_or_delete_audit_events(chain: list[int]) -> None:
    event = AuditEvent.objects.get(seq=chain[2])
    event.reason = "tampered"
    attempts: dict[str, Callable[[], object]] = {
        "queryset update": lambda: AuditEvent.objects.update(reason="tampered"),
        "filtered update": lambda: AuditEvent.objects.filter(seq=chain[2]).update(allowed=True),
        "queryset delete": lambda: AuditEvent.objects.all().delete(),
        "filtered delete": lambda: AuditEvent.objects.filter(seq=chain[-1]).delete(),
        "instance save": event.save,
        "instance delete": event.delete,
        "bulk_update": lambda: AuditEvent.objects.bulk_update([event], ["reason"]),
        "update_or_create": lambda: AuditEvent.objects.update_or_create(seq=chain[2], defaults={"reason": "x"}),
    }
    for name, attempt in attempts.items():
        with pytest.raises(AppendOnly), transaction.atomic():  # each attempt in its own savepoint
            attempt()
            pytest.fail(f"{name} was not refused")

    assert seqs() == chain
    assert AuditEvent.objects.get(seq=chain[2]).reason != "tampered"
    assert verify_chain().ok


def test_people_and_youth_named_in_the_log_cannot_be_deleted_from_under_it(chain: list[int]) -> None:
    event = AuditEvent.objects.exclude(actor=None).first()
    assert event is not None
    with pytest.raises(ProtectedError):
        User.objects.filter(pk=event.actor_id).delete()
    assert seqs() == chain


# -- tampering through raw SQL is found -----------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("allowed", True),  # turn a refusal into an access, or the reverse
        ("reason", "nothing to see here"),
        ("actor_username", "someone-else"),
        ("purpose", "case_coordination"),
        ("object_id", "0"),
    ],
)
def test_an_edited_middle_row_is_named_as_the_first_break(chain: list[int], column: str, value: Any) -> None:
    middle = chain[len(chain) // 2]
    before = AuditEvent.objects.filter(seq=middle).values_list(column, flat=True).get()
    if before == value:
        value = not value if isinstance(value, bool) else f"{value}-changed"

    quoted = connection.ops.quote_name(column)  # a column name from the list above, never input
    sql(f"UPDATE {{table}} SET {quoted} = %s WHERE seq = %s", [value, middle])  # noqa: S608

    result = verify_chain()
    assert not result.ok
    assert result.first_break is not None
    assert result.first_break.seq == middle
    assert "content does not match" in result.first_break.problem


def test_an_edited_row_whose_hash_was_recomputed_breaks_the_link_from_the_next_row(chain: list[int]) -> None:
    middle = chain[len(chain) // 2]
    event = AuditEvent.objects.get(seq=middle)
    event.reason = "rewritten to look innocent"
    forged_hash = event_hash(event.prev_hash, _content_of(event))

    sql("UPDATE {table} SET reason = %s, hash = %s WHERE seq = %s", [event.reason, forged_hash, middle])

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == middle + 1
    assert "does not link" in result.first_break.problem


def test_a_deleted_middle_row_is_named_as_missing(chain: list[int]) -> None:
    middle = chain[len(chain) // 2]

    sql("DELETE FROM {table} WHERE seq = %s", [middle])

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == middle
    assert "missing" in result.first_break.problem
    assert result.checked == len(chain) - 1


def test_two_swapped_rows_are_named_at_the_first_of_them(chain: list[int]) -> None:
    first, second = chain[3], chain[6]
    sql("UPDATE {table} SET seq = %s WHERE seq = %s", [-1, first])
    sql("UPDATE {table} SET seq = %s WHERE seq = %s", [first, second])
    sql("UPDATE {table} SET seq = %s WHERE seq = %s", [second, -1])
    assert seqs() == chain

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == first


def test_a_deleted_last_row_is_found_because_the_chain_head_remembers_it(chain: list[int]) -> None:
    last = chain[-1]

    sql("DELETE FROM {table} WHERE seq = %s", [last])

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == last
    assert "chain head" in result.first_break.problem


def test_a_rewritten_last_row_with_a_recomputed_hash_is_named(chain: list[int]) -> None:
    """The last row has no successor to break the link; the chain head's hash must catch it."""
    last = chain[-1]
    event = AuditEvent.objects.get(seq=last)
    event.allowed = not event.allowed
    sql(
        "UPDATE {table} SET allowed = %s, hash = %s WHERE seq = %s",
        [event.allowed, event_hash(event.prev_hash, _content_of(event)), last],
    )

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == last, result.first_break


def test_a_row_appended_behind_the_chain_heads_back_is_named(chain: list[int]) -> None:
    """A forged event with a valid-looking hash, added without moving the chain head."""
    last = AuditEvent.objects.get(seq=chain[-1])
    forged = AuditEvent(
        seq=last.seq + 1,
        at=last.at,
        actor_id=last.actor_id,
        actor_username=last.actor_username,
        actor_agency_id=last.actor_agency_id,
        owner_agency_id=last.owner_agency_id,
        youth_id=last.youth_id,
        category=last.category,
        purpose=last.purpose,
        action="read",
        allowed=True,
        basis="own_agency",
        reason="",
        object_type="",
        object_id="",
        detail={},
        prev_hash=last.hash,
        hash="",
    )
    forged.hash = event_hash(forged.prev_hash, _content_of(forged))
    forged.save()  # a new row: the ORM appends it, as any insert would

    result = verify_chain()
    assert result.first_break is not None
    assert result.first_break.seq == forged.seq, result.first_break


# -- the command line -------------------------------------------------------------------


def test_audit_verify_command_exits_0_on_an_intact_chain(chain: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and f"{len(chain)} events" in out


def test_audit_verify_command_exits_1_and_names_the_broken_event(
    chain: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    middle = chain[len(chain) // 2]
    sql("UPDATE {table} SET reason = %s WHERE seq = %s", ["tampered", middle])

    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"BROKEN at event {middle}:" in err
