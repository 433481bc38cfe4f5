"""Background work of identity resolution: a linkage run a steward started from the web,
carried out by the task worker (``nowrongdoor worker``) while the page shows its progress."""

from __future__ import annotations

from django.tasks import task

from nowrongdoor.identity.models import LinkageRun


@task()
def link_records(run_id: int) -> int:
    """Carry out the queued run ``run_id``; a run already started or finished is left alone,
    so a task delivered twice links once. Returns the run's id."""
    from nowrongdoor.identity.services import run_linkage

    claimed = LinkageRun.objects.filter(pk=run_id, status=LinkageRun.QUEUED).update(status=LinkageRun.RUNNING)
    if claimed:
        run = LinkageRun.objects.select_related("started_by").get(pk=run_id)
        run_linkage(actor=run.started_by, full=run.kind == LinkageRun.FULL, run=run)
    return run_id
