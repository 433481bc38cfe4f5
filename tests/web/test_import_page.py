"""The import page: an agency administrator uploads an extract with its mapping and gets
"loaded: N records", or the row-by-row report with nothing loaded; other roles are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from nowrongdoor.directory.models import Agency, User
from nowrongdoor.youth.models import SourceRecord
from tests.youth.test_imports import MAPPING, people, write


def upload(client: Any, path: Path, mapping: str = MAPPING) -> str:
    response = client.post("/imports/", {
        "extract": SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv"),
        "mapping": SimpleUploadedFile("mapping.yaml", mapping.encode(), content_type="application/yaml")})
    assert response.status_code == 200
    return str(response.content.decode())


def test_an_administrator_loads_an_extract_or_gets_the_report(client: Any, make_agency: Callable[..., Agency],
                                                              make_user: Callable[..., User], tmp_path: Path) -> None:
    admin = make_user("agency_admin", make_agency("probation"))
    client.force_login(admin)
    assert 'id="import-form"' in client.get("/imports/").content.decode()
    page = upload(client, write(tmp_path / "good.csv", people(8)))
    assert "loaded: 8 records (8 new, 0 updated, 0 unchanged)" in page and 'id="import-runs"' in page
    rows = people(8, seed=77)
    rows[2]["GENDER"] = "Z"
    page = upload(client, write(tmp_path / "bad.csv", rows))
    assert "nothing loaded: 1 problems in 8 rows" in page and "<td>3</td><td>GENDER</td>" in page
    assert SourceRecord.objects.filter(agency=admin.agency).count() == 8
    page = upload(client, write(tmp_path / "good.csv", people(8)), mapping=MAPPING.replace("  local_id: PERSON_ID\n",
                                                                                         ""))
    assert 'id="mapping-problems"' in page and "columns.local_id: is required" in page


def test_other_roles_do_not_get_the_page(client: Any, make_agency: Callable[..., Agency],
                                         make_user: Callable[..., User]) -> None:
    client.force_login(make_user("case_manager", make_agency("probation")))
    assert client.get("/imports/").status_code == 403
