"""Events the youth room announces to the rest of the house."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ContactRecorded:
    """An agency recorded a contact (a report, a placement, an absence, an arrest, a
    visit...). The protocol engine turns some of them into tasks with legal clocks."""

    contact_id: int
    public_id: str
    youth_id: int
    agency_id: int
    actor_id: int | None
    contact_type: str
    details: dict[str, Any]
    occurred_at: dt.datetime
