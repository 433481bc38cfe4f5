"""Writes of analytics: rebuilding the snapshot (the only thing that reads youth tables
in bulk for analytics, as the system, and is audited with counts only)."""

from __future__ import annotations

from pathlib import Path

from nowrongdoor.access.audit import record_event
from nowrongdoor.analytics import snapshot
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied


def refresh_snapshot(*, actor: User, full: bool = False, path: Path | None = None,
                     progress: snapshot.Progress | None = None, memory_limit: str = "2GB") -> snapshot.RefreshResult:
    """Rebuild the snapshot (a system administrator, or the command line acting as one)."""
    if not actor.is_active or actor.role != "system_admin":
        record_event(actor=actor, action="analytics.refresh", allowed=False, purpose="analytics",
                     reason="only a system administrator rebuilds the analytics snapshot")
        raise AccessDenied("only a system administrator rebuilds the analytics snapshot")
    result = snapshot.refresh(full=full, path=path, progress=progress, memory_limit=memory_limit)
    record_event(actor=actor, action="analytics.refresh", purpose="analytics", object_type="snapshot",
                 detail={"kind": result.kind, "rows": result.rows, "contacts_read": result.contacts_read,
                         "seconds": round(result.seconds, 1)})
    return result
