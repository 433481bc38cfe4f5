"""Reads of governance records: the audit log and the break-glass review queue."""

from __future__ import annotations

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from nowrongdoor.access.audit import record_event
from nowrongdoor.access.models import AuditEvent, BreakGlass
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied

WITHHELD_REASON = "another agency's data that is not shared with yours"


def audit_log(
    *, actor: User, action: str = "", actor_username: str = "", denied_only: bool = False
) -> QuerySet[AuditEvent]:
    """Who saw what. An agency administrator sees what their staff did and who touched
    their agency's records; a system administrator sees everything. Reading the log is
    itself audited.

    Rows carry ``shown_category``, ``shown_owner`` and ``shown_reason``: for an agency
    administrator, a refused attempt on another agency's data keeps its time, actor and
    outcome but loses which data and whose, which that agency may not learn."""
    scope = vocabulary().role_reads_audit(actor.role)
    if scope is None or (scope == "agency" and actor.agency_id is None):
        record_event(actor=actor, action="audit_read_denied", allowed=False, reason="role may not read the audit log")
        raise AccessDenied("only administrators read the audit log")
    events = AuditEvent.objects.select_related("actor_agency").order_by("-seq")
    if scope == "agency":
        agency_id = actor.agency_id or 0
        events = events.filter(Q(actor_agency_id=agency_id) | Q(owner_agency_id=agency_id))
        # A refused look at another agency's data must not tell this agency what that
        # agency holds (e.g. that a teen clinic has health records of the youth).
        hidden = Q(allowed=False, owner_agency__isnull=False) & ~Q(owner_agency_id=agency_id)
    else:
        hidden = Q(pk__in=[])
    events = events.annotate(
        shown_category=Case(When(hidden, then=Value("")), default=F("category")),
        shown_owner=Case(When(hidden, then=Value("")), default=Coalesce(F("owner_agency__name"), Value(""))),
        shown_reason=Case(When(hidden, then=Value(WITHHELD_REASON)), default=F("reason")),
        youth_ref=F("youth__public_id"),
    )
    if action:
        events = events.filter(action=action)
    if actor_username:
        events = events.filter(actor_username=actor_username)
    if denied_only:
        events = events.filter(allowed=False)
    record_event(actor=actor, action="audit_read", detail={"scope": scope})
    return events


def break_glass_queue(*, actor: User) -> QuerySet[BreakGlass]:
    """Emergency accesses in the supervisor's agency still waiting for review."""
    if not vocabulary().role_reviews_break_glass(actor.role):
        raise AccessDenied("only supervisors review emergency access")
    return (
        BreakGlass.objects.filter(agency_id=actor.agency_id or 0, reviewed_at__isnull=True)
        .exclude(actor=actor)
        .filter(Q(reviewer__isnull=True) | Q(reviewer=actor))
        .select_related("actor")
        .order_by("opened_at")
    )
