"""Events the screening room announces to the rest of the house."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreeningCompleted:
    """A screening was completed. The protocol engine turns clear indicators and
    immediate-safety flags into tasks with legal clocks."""

    screening_id: int
    youth_id: int
    agency_id: int
    instrument: str
    level: str
    immediate_safety: bool
    completed_at: dt.datetime
