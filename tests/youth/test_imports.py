"""Loading an agency's extract: every row validated first, nothing loaded when any row
is wrong (the report names row, column and problem), the same file twice changes
nothing, mapping mistakes are named. People come from the synthetic generator."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.directory.models import Agency, User
from nowrongdoor.errors import AccessDenied
from nowrongdoor.synth.generator import plan_person
from nowrongdoor.youth.imports import MappingInvalid, Problem, import_records, parse_mapping
from nowrongdoor.youth.models import ImportRun, SourceRecord

MAPPING = """
version: 3
kind: source_records
columns:
  local_id: PERSON_ID
  first_name: FNAME
  last_name: LNAME
  aliases: {column: AKA, separator: "|"}
  date_of_birth: {column: DOB, format: "%m/%d/%Y"}
  sex: {column: GENDER, codes: {M: male, F: female, U: unknown}}
defaults:
  race_ethnicity: unknown
"""
HEADER = ["PERSON_ID", "FNAME", "LNAME", "AKA", "DOB", "GENDER"]


def people(n: int, seed: int = 41) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        plan = plan_person(seed, i)
        rows.append({"PERSON_ID": f"P{i:05d}", "FNAME": plan.records[0].first_name,
                     "LNAME": plan.records[0].last_name, "AKA": "|".join(plan.records[0].aliases[:2]),
                     "DOB": plan.birth_date.strftime("%m/%d/%Y"), "GENDER": {"female": "F", "male": "M"}.get(
                         plan.sex, "U")})
    return rows


def write(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def admin(make_agency: Callable[..., Agency], make_user: Callable[..., User]) -> User:
    return make_user("agency_admin", make_agency("probation"))


def test_a_clean_extract_loads_and_loading_it_again_changes_nothing(admin: User, tmp_path: Path) -> None:
    rows = people(30)
    path = write(tmp_path / "extract.csv", rows)
    first = import_records(actor=admin, path=path, mapping_text=MAPPING)
    assert first.loaded and (first.rows, first.created, first.updated) == (30, 30, 0)
    assert first.summary() == "loaded: 30 records (30 new, 0 updated, 0 unchanged)"
    record = SourceRecord.objects.get(agency=admin.agency, local_id="P00000")
    assert record.first_name == rows[0]["FNAME"] and record.date_of_birth.strftime("%m/%d/%Y") == rows[0]["DOB"]
    assert record.aliases == [a for a in rows[0]["AKA"].split("|") if a]
    assert rows[0]["FNAME"].lower() in record.search_name and record.version == 1 and record.created_by == admin
    assert record.youth.source_records.get() == record and record.recorded_at is not None
    assert len({r.public_id for r in SourceRecord.objects.filter(agency=admin.agency)}) == 30

    again = import_records(actor=admin, path=path, mapping_text=MAPPING)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 30)
    assert SourceRecord.objects.filter(agency=admin.agency).count() == 30

    rows[3]["LNAME"] = "Changed-Surname"
    changed = import_records(actor=admin, path=write(tmp_path / "extract2.csv", rows), mapping_text=MAPPING)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 29)
    updated = SourceRecord.objects.get(agency=admin.agency, local_id="P00003")
    assert updated.last_name == "Changed-Surname" and updated.version == 2 and "changed surname" in \
        updated.search_name
    runs = ImportRun.objects.filter(agency=admin.agency, status=ImportRun.LOADED)
    assert runs.count() == 3
    assert AuditEvent.objects.filter(actor=admin, action="import", object_type="import_run").count() == 3


def test_any_bad_row_loads_nothing_and_the_report_names_row_column_and_problem(admin: User, tmp_path: Path) -> None:
    rows = people(12)
    rows[1]["DOB"] = "31/02/2012"
    rows[4]["GENDER"] = "X"
    rows[6]["FNAME"] = ""
    rows[9]["PERSON_ID"] = rows[8]["PERSON_ID"]
    rows[10]["DOB"] = (clock.today() + dt.timedelta(days=400)).strftime("%m/%d/%Y")
    report = import_records(actor=admin, path=write(tmp_path / "bad.csv", rows), mapping_text=MAPPING)
    assert not report.loaded and report.rows == 12
    assert SourceRecord.objects.filter(agency=admin.agency).count() == 0
    assert report.problems == [
        Problem(2, "DOB", "'31/02/2012' is not a date (%m/%d/%Y)"),
        Problem(5, "GENDER", "'X' is not a code of sex"),
        Problem(7, "FNAME", "is required"),
        Problem(10, "PERSON_ID", f"{rows[8]['PERSON_ID']!r} appears twice in the file"),
        Problem(11, "DOB", "must be between 1990 and today"),
    ]
    assert report.summary() == "nothing loaded: 5 problems in 12 rows"
    run = ImportRun.objects.get(pk=report.run_id)
    assert run.status == ImportRun.REJECTED and run.report[0] == {"row": 2, "column": "DOB",
                                                                  "problem": "'31/02/2012' is not a date (%m/%d/%Y)"}


def test_mapping_mistakes_are_named(admin: User, tmp_path: Path) -> None:
    cases = [
        (MAPPING.replace("  local_id: PERSON_ID\n", ""), "columns.local_id: is required"),
        (MAPPING.replace("first_name: FNAME", "favourite_colour: FNAME"), "columns: Additional properties"),
        (MAPPING.replace("U: unknown", "U: mystery"), "columns.sex.codes.U: 'mystery' is not a code of sex"),
        (MAPPING.replace('format: "%m/%d/%Y"', 'format: "no-format-here"'), "columns.date_of_birth.format"),
        (MAPPING.replace("kind: source_records", "kind: spreadsheets"), "kind: 'source_records' was expected"),
        ("just: [text", "not YAML"),
    ]
    for text, expected in cases:
        with pytest.raises(MappingInvalid) as failed:
            parse_mapping(text)
        assert any(expected in p for p in failed.value.problems), (expected, failed.value.problems)
    renamed = [{("SURNAME" if k == "LNAME" else k): v for k, v in r.items()} for r in people(2)]
    path = write(tmp_path / "renamed.csv", renamed,
                 header=[h if h != "LNAME" else "SURNAME" for h in HEADER])
    with pytest.raises(MappingInvalid) as failed:
        import_records(actor=admin, path=path, mapping_text=MAPPING)
    assert failed.value.problems[0].startswith("file: no column 'LNAME'")


def test_only_an_agency_administrator_loads_and_a_refusal_is_audited(make_agency: Callable[..., Agency],
                                                                     make_user: Callable[..., User],
                                                                     tmp_path: Path) -> None:
    screener = make_user("screener", make_agency("probation"))
    with pytest.raises(AccessDenied):
        import_records(actor=screener, path=write(tmp_path / "x.csv", people(1)), mapping_text=MAPPING)
    assert AuditEvent.objects.filter(actor=screener, action="import", allowed=False).exists()
    assert SourceRecord.objects.count() == 0


def test_a_parquet_extract_loads_the_same(admin: User, tmp_path: Path) -> None:
    import duckdb

    csv_path = write(tmp_path / "extract.csv", people(25))
    parquet = tmp_path / "extract.parquet"
    table = duckdb.read_csv(str(csv_path), all_varchar=True)
    table.write_parquet(str(parquet))
    report = import_records(actor=admin, path=parquet, mapping_text=MAPPING)
    assert report.loaded and report.created == 25


def test_the_command_reports_and_exits_1_on_a_bad_file(admin: User, tmp_path: Path, capsys: Any) -> None:
    from nowrongdoor.cli import _import

    rows = people(3)
    rows[0]["GENDER"] = "?"
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING)
    report = tmp_path / "report.csv"
    assert _import(write(tmp_path / "bad.csv", rows), mapping, admin.username, report) == 1
    out = capsys.readouterr().out
    assert "nothing loaded: 1 problems in 3 rows" in out and "row 1, column GENDER" in out
    assert report.read_text().splitlines()[1] == "1,GENDER,'?' is not a code of sex"
    assert _import(write(tmp_path / "good.csv", people(3)), mapping, admin.username, None) == 0


# -- the fast date reader agrees with strptime ------------------------------------------
FAST_FORMATS = ["%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d", "%m-%d-%Y", "%d.%m.%Y"]


def _strptime(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007
    except ValueError:
        return None


def _fast(text: str, fmt: str) -> dt.date | None:
    from nowrongdoor.youth.imports import _parse_date

    try:
        return _parse_date(text, fmt)
    except ValueError:
        return None


@given(day=st.dates(min_value=dt.date(1000, 1, 1)), fmt=st.sampled_from(FAST_FORMATS))
def test_the_fast_date_formats_read_every_date_they_write(day: dt.date, fmt: str) -> None:
    assert _fast(day.strftime(fmt), fmt) == day


@given(text=st.text(alphabet="0123456789/-.x ", max_size=12), fmt=st.sampled_from(FAST_FORMATS))
def test_the_fast_date_formats_accept_and_refuse_what_strptime_does(text: str, fmt: str) -> None:
    assert _fast(text, fmt) == _strptime(text, fmt)


@pytest.mark.parametrize(("text", "fmt"), [("3/7/2001", "%m/%d/%Y"), ("2001-2-30", "%Y-%m-%d"),
                                           ("12/31/99", "%m/%d/%Y"),
                                           ("\u0663/\u0667/\u0662\u0660\u0660\u0661", "%m/%d/%Y")])
# (the last: 3/7/2001 in Arabic-Indic digits, which strptime refuses)
def test_the_fast_date_formats_match_strptime_on_the_edges(text: str, fmt: str) -> None:
    assert _fast(text, fmt) == _strptime(text, fmt)
