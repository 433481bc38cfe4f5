"""Loading an agency's extract in the browser (agency administrators): the extract and
the mapping file uploaded together, the answer "loaded: N records" or the row-by-row
report with nothing loaded, and the agency's recent imports. Thin: ``youth.imports``
does the work, exactly as ``nowrongdoor import`` does."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from nowrongdoor.errors import AccessDenied
from nowrongdoor.web.common import actor as _actor
from nowrongdoor.youth.imports import ImportReport, MappingInvalid, import_records, recent_runs

MAX_EXTRACT = 512 * 2**20
MAX_MAPPING = 64 * 2**10


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if actor.role != "agency_admin":
        raise AccessDenied("only an agency administrator loads the agency's extract")
    report: ImportReport | None = None
    problems: list[str] = []
    if request.method == "POST":
        extract, mapping = request.FILES.get("extract"), request.FILES.get("mapping")
        if extract is None or mapping is None:
            problems.append("choose both the extract (CSV or Parquet) and its mapping file (YAML)")
        elif (extract.size or 0) > MAX_EXTRACT or (mapping.size or 0) > MAX_MAPPING:
            problems.append("the extract may be at most 512 MiB and the mapping 64 KiB")
        else:
            suffix = Path(extract.name or "").suffix.lower()
            with tempfile.TemporaryDirectory(prefix="nwd-upload-") as folder:
                path = Path(folder) / f"{Path(extract.name or 'extract').stem[:100]}{suffix}"
                with path.open("wb") as handle:
                    for chunk in extract.chunks():
                        handle.write(chunk)
                try:
                    report = import_records(actor=actor, path=path,
                                            mapping_text=mapping.read().decode("utf-8", errors="replace"))
                except MappingInvalid as exc:
                    problems = exc.problems
    return render(request, "web/imports.html", {"report": report, "problems": problems,
                                                "runs": recent_runs(actor=actor)})
