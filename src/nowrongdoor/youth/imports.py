"""Loading an agency's own extract of youth records (PRODUCT.md E1-E2); a mapping of
``kind: contacts`` loads the records' contacts instead (``youth.contact_imports``).

An agency administrator hands over last month's extract from their own system (CSV or
Parquet) with the agency's **mapping file**, which says which of their columns holds
which field of the data dictionary and how to read it (a date format, the agency's
codes for sex, the separator of an alias list). The import then:

1. checks the mapping against the dictionary and the file's header, naming every
   problem (``MappingInvalid``);
2. reads the file as a stream and validates **every** row (types, codes, dates in
   range, required fields, a local id used twice); any problem and **nothing is
   loaded**: the report names row, column and problem;
3. otherwise loads it in one transaction, in batches, as the agency's own records:
   new local ids become new records (each a new youth, until identity resolution links
   them), known ones are updated when the extract changed them, unchanged ones are left
   alone, so importing the same file twice changes nothing.

Rows are never all held in memory: both passes read the file in chunks. One audit event
records the load (who, which file by SHA-256, how many records created and updated);
the ``ImportRun`` keeps the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from django.db import connection, models, transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.directory.models import County, User
from nowrongdoor.errors import AccessDenied
from nowrongdoor.youth.models import ImportRun, SourceRecord, Youth
from nowrongdoor.youth.names import search_name
from nowrongdoor.youth.services import _validate_record

BATCH = 2000
MAX_PROBLEMS = 1000  # listed in the report; all are counted
FIELDS = {
    "local_id": "text", "first_name": "text", "middle_name": "text", "last_name": "text", "aliases": "list",
    "date_of_birth": "date", "estimated_age": "integer", "age_recorded_on": "date", "sex": "code",
    "gender_identity": "code", "sexual_orientation": "code", "race_ethnicity": "code", "language": "code",
    "residence_county": "county", "residence_zip": "text",
}
REQUIRED = ("local_id", "first_name", "last_name")
_COLUMN = {"type": "string", "minLength": 1, "maxLength": 100}
MAPPING_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["version", "kind", "columns"], "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "kind": {"const": "source_records"},
        "description": {"type": "string"},
        "columns": {
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {name: {"oneOf": [_COLUMN, {
                "type": "object", "required": ["column"], "additionalProperties": False,
                "properties": {"column": _COLUMN, "format": {"type": "string", "minLength": 2},
                               "separator": {"type": "string", "minLength": 1, "maxLength": 3},
                               "codes": {"type": "object", "additionalProperties": {"type": "string"}}}}]}
                           for name in FIELDS},
        },
        "defaults": {"type": "object", "additionalProperties": False,
                     "properties": {name: {"type": "string"} for name in FIELDS if FIELDS[name] in ("code", "text")}},
    },
}


class MappingInvalid(ValueError):
    """The mapping file is wrong; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    row: int  # 1 = the first data row (the header is row 0)
    column: str  # the agency's column, or the field when no column holds it
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.problem}"


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    run_id: int | None = None
    noun: str = "records"  # or "contacts"
    announced: int = 0  # contacts recent enough to start the county's protocols

    @property
    def loaded(self) -> bool:
        return self.problem_count == 0

    def add(self, row: int, column: str, text: str) -> None:
        """Count a problem; list it while the list is not full."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, text))

    def summary(self) -> str:
        if self.loaded:
            started = (f"; {self.announced} recent enough to start the county's protocols, the rest history"
                       if self.noun == "contacts" else "")
            return (f"loaded: {self.rows} {self.noun} ({self.created} new, {self.updated} updated, "
                    f"{self.unchanged} unchanged){started}")
        listed = "" if self.problem_count <= len(self.problems) else f" (first {len(self.problems)} listed)"
        return f"nothing loaded: {self.problem_count} problems in {self.rows} rows{listed}"


@dataclass(frozen=True)
class Mapping:
    version: int
    columns: dict[str, dict[str, Any]]  # field -> {"column": ..., "format"/"separator"/"codes"}
    defaults: dict[str, str]

    def column_of(self, name: str) -> str:
        spec = self.columns.get(name)
        return spec["column"] if spec else name


def parse_mapping(text: str) -> Mapping:
    """Read and check a mapping file against the data dictionary."""
    from nowrongdoor.dictionary import vocabulary

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingInvalid([f"not YAML: {exc}"]) from None
    if not isinstance(document, dict):
        raise MappingInvalid(["(top): must be a mapping with version, kind and columns"])
    problems = [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                for e in jsonschema.Draft202012Validator(MAPPING_SCHEMA).iter_errors(document)]
    if problems:
        raise MappingInvalid(sorted(problems))
    columns: dict[str, dict[str, Any]] = {name: ({"column": spec} if isinstance(spec, str) else dict(spec))
                                          for name, spec in document["columns"].items()}
    defaults = dict(document.get("defaults") or {})
    problems += [f"columns.{name}: is required" for name in REQUIRED if name not in columns]
    if "date_of_birth" not in columns and "estimated_age" not in columns:
        problems.append("columns: map date_of_birth or estimated_age (a record needs one)")
    v = vocabulary()
    for name, spec in columns.items():
        kind = FIELDS[name]
        if "format" in spec and kind != "date":
            problems.append(f"columns.{name}.format: only dates take a format")
        if "format" in spec:
            sample = dt.date(2001, 2, 3)  # a date format must give back the day, month and year it wrote
            try:
                readable = _parse_date(sample.strftime(spec["format"]), spec["format"]) == sample
            except ValueError:
                readable = False
            if not readable:
                problems.append(f"columns.{name}.format: {spec['format']!r} is not a date format with day, month "
                                "and year (e.g. %m/%d/%Y)")
        if "separator" in spec and kind != "list":
            problems.append(f"columns.{name}.separator: only aliases take a separator")
        if "codes" in spec:
            if kind != "code":
                problems.append(f"columns.{name}.codes: only coded fields take codes")
            else:
                problems += [f"columns.{name}.codes.{theirs}: {ours!r} is not a code of {name}"
                             for theirs, ours in spec["codes"].items() if ours not in v.codes(name)]
    for name, value in defaults.items():
        if FIELDS[name] == "code" and value not in v.codes(name):
            problems.append(f"defaults.{name}: {value!r} is not a code of {name}")
    if problems:
        raise MappingInvalid(problems)
    return Mapping(version=document["version"], columns=columns, defaults=defaults)


# The common formats read without strptime (ten times faster over a million rows), with
# strptime's own rules: a 4-digit year, a 1- or 2-digit month and day.
_FAST_DATES = {"%m/%d/%Y": ("/", (2, 0, 1)), "%d/%m/%Y": ("/", (2, 1, 0)), "%Y-%m-%d": ("-", (0, 1, 2)),
               "%m-%d-%Y": ("-", (2, 0, 1)), "%d.%m.%Y": (".", (2, 1, 0))}


def _parse_date(text: str, fmt: str) -> dt.date:
    """A calendar date in the agency's format (a date, so no time zone)."""
    fast = _FAST_DATES.get(fmt)
    if fast is not None:
        parts = text.split(fast[0])
        if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
            year, month, day = (parts[i] for i in fast[1])
            if len(year) == 4 and 1 <= len(month) <= 2 and 1 <= len(day) <= 2:
                return dt.date(int(year), int(month), int(day))  # ValueError for 31 February
        raise ValueError(f"{text!r} does not match {fmt!r}")
    return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007


# -- reading files as streams ------------------------------------------------------------
def _csv_chunks(path: Path) -> tuple[list[str], Callable[[], Iterator[list[dict[str, str]]]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])

    def chunks() -> Iterator[list[dict[str, str]]]:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            chunk: list[dict[str, str]] = []
            for row in reader:
                chunk.append(row)
                if len(chunk) == BATCH:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk

    return header, chunks


def _parquet_chunks(path: Path) -> tuple[list[str], Callable[[], Iterator[list[dict[str, str]]]]]:
    import duckdb

    query = "SELECT * FROM read_parquet(?)"
    with duckdb.connect() as connection:
        header = [column[0] for column in connection.execute(query + " LIMIT 0", [str(path)]).description]

    def chunks() -> Iterator[list[dict[str, str]]]:
        with duckdb.connect(config={"memory_limit": "1GB", "threads": 1}) as connection:
            cursor = connection.execute(query, [str(path)])  # streamed: fetched a chunk at a time
            while rows := cursor.fetchmany(BATCH):
                yield [{name: "" if value is None else (value.isoformat() if isinstance(value, dt.date)
                                                        else str(value))
                        for name, value in zip(header, row, strict=True)} for row in rows]

    return header, chunks


def open_extract(path: Path) -> tuple[list[str], Callable[[], Iterator[list[dict[str, str]]]]]:
    """The header and a way to read the rows in chunks (again for the second pass)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_chunks(path)
    if suffix in (".csv", ".txt"):
        return _csv_chunks(path)
    raise MappingInvalid([f"file: {path.name}: give a .csv or .parquet file"])


# -- one row -----------------------------------------------------------------------------
def _convert(mapping: Mapping, raw: dict[str, str], counties: dict[str, County],
             problem: Callable[[str, str], None]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        spec = mapping.columns.get(name)
        text = (raw.get(spec["column"]) or "").strip() if spec else ""
        if not text:
            text = mapping.defaults.get(name, "")
        column = spec["column"] if spec else name
        if kind == "date":
            if not text:
                data[name] = None
                continue
            try:
                data[name] = (_parse_date(text, spec["format"]) if spec and "format" in spec
                              else dt.date.fromisoformat(text))
            except ValueError:
                problem(column, f"{text!r} is not a date ({spec.get('format', 'YYYY-MM-DD') if spec else ''})")
        elif kind == "integer":
            if not text:
                data[name] = None
            elif text.isdigit():
                data[name] = int(text)
            else:
                problem(column, f"{text!r} is not a whole number")
        elif kind == "list":
            separator = spec.get("separator", ";") if spec else ";"
            data[name] = [part.strip() for part in text.split(separator) if part.strip()]
        elif kind == "code":
            codes = spec.get("codes") if spec else None
            data[name] = codes.get(text, text) if codes else text
        elif kind == "county":
            if text and text.lower() not in counties:
                problem(column, f"{text!r} is not a county of the directory")
            data[name] = counties.get(text.lower()) if text else None
        else:
            data[name] = text
    for name in ("sex", "race_ethnicity"):
        data[name] = data.get(name) or "unknown"
    if len(data["local_id"]) > 64:
        problem(mapping.column_of("local_id"), "is longer than 64 characters")
    return data


def _unexpected(column: str, text: str) -> None:
    raise MappingInvalid([f"file: changed while it was loaded (column {column}: {text}); nothing was loaded"])


def _check(mapping: Mapping, number: int, raw: dict[str, str], counties: dict[str, County],
           report: ImportReport, today: dt.date) -> dict[str, Any]:
    """One row converted and validated; its problems go to the report, each once."""
    unreadable: set[str] = set()

    def problem(column: str, text: str) -> None:
        report.add(number, column, text)

    def unread(column: str, text: str) -> None:
        unreadable.add(column)
        problem(column, text)

    data = _convert(mapping, raw, counties, unread)
    birth = {mapping.column_of("date_of_birth"), mapping.column_of("estimated_age")}
    for name, problems in _validate_record(data, partial=False, today=today).items():
        column = mapping.column_of(name)
        if column in unreadable or (name == "date_of_birth" and unreadable & birth):
            continue  # already reported as unreadable
        for text in problems:
            problem(column, text)
    return data


def _rows(mapping: Mapping, chunks: Callable[[], Iterator[list[dict[str, str]]]], counties: dict[str, County],
          report: ImportReport, *, validate: bool = True) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Every row converted (and validated), in chunks; problems go to the report."""
    number = 0
    seen: set[str] = set()
    today = clock.today()
    for chunk in chunks():
        out = []
        for raw in chunk:
            number += 1
            if not validate:  # the loading pass: this file was validated row by row already
                out.append((number, _convert(mapping, raw, counties, _unexpected)))
                continue
            data = _check(mapping, number, raw, counties, report, today)
            if data["local_id"] in seen:
                report.add(number, mapping.column_of("local_id"), f"{data['local_id']!r} appears twice in the file")
            seen.add(data["local_id"])
            out.append((number, data))
        report.rows = number
        yield out


def _insert(rows: list[dict[str, Any]]) -> None:
    """New source records straight from their checked values, without a model instance
    per row or a compiled 30,000-placeholder statement per batch: on PostgreSQL one COPY
    per batch, elsewhere one prepared INSERT run for every row. Each value is prepared as
    its field would for the ORM; plain text, whole numbers and foreign keys need nothing,
    dates go through the backend's adapter, the rest (the UUID, the alias list, the time)
    through the field."""
    if not rows:
        return
    fields = [f for f in SourceRecord._meta.concrete_fields if not f.primary_key]
    def as_is(value: Any) -> Any:
        return value

    def by_field(f: models.Field[Any, Any]) -> Callable[[Any], Any]:
        return lambda value: f.get_db_prep_save(value, connection)

    prepare: list[Callable[[Any], Any]] = []
    for f in fields:
        if isinstance(f, (models.CharField, models.TextField, models.IntegerField, models.ForeignKey)):
            prepare.append(as_is)
        elif type(f) is models.DateField:
            prepare.append(connection.ops.adapt_datefield_value)
        else:
            prepare.append(by_field(f))
    names = [f.attname for f in fields]
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    values = ([p(row[name]) for p, name in zip(prepare, names, strict=True)] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY: the server takes the batch as one stream
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 (names from the model, values as parameters)
        cursor.executemany(sql, list(values))


def fresh_statistics(*tables: type[models.Model]) -> None:
    """On PostgreSQL, ANALYZE the tables a load looks rows up in, batch by batch: without
    statistics the planner may read every row of the agency per batch instead of using
    the (agency, local id) index (measured: 0.28 s instead of milliseconds per batch at
    1 M records). Elsewhere nothing to do."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table._meta.db_table)}")


def _changes(record: SourceRecord, data: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != "local_id" and getattr(record, name) != value}


def import_records(*, actor: User, path: Path, mapping_text: str,
                   progress: Callable[[int], object] | None = None) -> ImportReport:
    """Validate the whole file, then load it all or nothing (see the module's docstring).
    ``progress`` is called with the number of rows done in each pass."""
    if actor.role != "agency_admin" or actor.agency_id is None or not actor.is_active:
        record_event(actor=actor, action="import", allowed=False, object_type="import_run",
                     reason="only an agency administrator loads the agency's extract")
        raise AccessDenied("only an agency administrator loads the agency's extract")
    try:
        document = yaml.safe_load(mapping_text)
    except yaml.YAMLError as exc:
        raise MappingInvalid([f"not YAML: {exc}"]) from None
    if isinstance(document, dict) and document.get("kind") == "contacts":
        from nowrongdoor.youth.contact_imports import import_contacts

        return import_contacts(actor=actor, path=path, document=document, progress=progress)
    mapping = parse_mapping(mapping_text)
    header, chunks = open_extract(path)
    missing = sorted({spec["column"] for spec in mapping.columns.values()} - set(header))
    if missing:
        raise MappingInvalid([f"file: no column {name!r} (the mapping names it; the file has "
                              f"{', '.join(header[:20]) or 'no header'})" for name in missing])
    sha256 = _sha256(path)
    counties = {c.name.lower(): c for c in County.objects.all()}
    report = ImportReport()
    for batch in _rows(mapping, chunks, counties, report):  # pass 1: validate everything
        if progress:
            progress(len(batch))
    run = ImportRun(agency_id=actor.agency_id, imported_by=actor, file_name=path.name[:200],
                    sha256=sha256, mapping_version=mapping.version, started_at=clock.now())
    if not report.loaded:
        return reject(actor, run, report)
    now = clock.now()
    # A first load (the agency has no records yet) has nothing to look up: the file's
    # local ids are all new (pass 1 refused any repeat). Before a re-load, PostgreSQL
    # gets fresh statistics, or a planner that has never seen the table scans every
    # record of the agency for each batch instead of using the (agency, local id) index.
    had_records = SourceRecord.objects.filter(agency_id=actor.agency_id).exists()
    if had_records:
        fresh_statistics(SourceRecord)
    with transaction.atomic():  # pass 2: load, all or nothing
        for batch in _rows(mapping, chunks, counties, ImportReport(), validate=False):
            ids = [data["local_id"] for _, data in batch]
            known = {r.local_id: r for r in SourceRecord.objects.filter(
                agency_id=actor.agency_id, local_id__in=ids)} if had_records else {}
            new = [data for _, data in batch if data["local_id"] not in known]
            youth = Youth.objects.bulk_create([Youth(created_at=now) for _ in new])
            created = [{**data, "public_id": uuid.uuid4(), "youth_id": y.pk, "agency_id": actor.agency_id,
                        "residence_county_id": data["residence_county"].pk if data["residence_county"] else None,
                        "recorded_at": now, "created_by_id": actor.pk, "version": 1,
                        "search_name": search_name([data["first_name"], data["middle_name"], data["last_name"],
                                                    *data["aliases"]])}
                       for y, data in zip(youth, new, strict=True)]
            _insert(created)
            changed = []
            for _, data in batch:
                existing = known.get(data["local_id"])
                if existing is None:
                    continue
                diff = _changes(existing, data)
                if diff:
                    for name, value in diff.items():
                        setattr(existing, name, value)
                    existing.search_name = search_name([existing.first_name, existing.middle_name,
                                                        existing.last_name, *existing.aliases])
                    existing.version += 1
                    changed.append(existing)
            if changed:
                SourceRecord.objects.bulk_update(changed, [*FIELDS.keys() - {"local_id"}, "search_name", "version"])
            report.created += len(created)
            report.updated += len(changed)
            report.unchanged += len(batch) - len(created) - len(changed)
            if progress:
                progress(len(batch))
        if _sha256(path) != run.sha256:  # validated one file, loaded another: undo it all
            raise MappingInvalid([f"file: {path.name} changed while it was loaded; nothing was loaded"])
        run.status, run.rows = ImportRun.LOADED, report.rows
        run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
        run.finished_at = clock.now()
        run.save()
        record_event(actor=actor, action="import", allowed=True, object_type="import_run", object_id=str(run.pk),
                     owner_agency_id=actor.agency_id, category="identity",
                     detail={"file": run.file_name, "sha256": run.sha256, "loaded": True, "created": report.created,
                             "updated": report.updated, "unchanged": report.unchanged})
    report.run_id = run.pk
    return report


def reject(actor: User, run: ImportRun, report: ImportReport, **detail: Any) -> ImportReport:
    """Keep the run of a file that is not loaded, with its report, and audit it."""
    run.status, run.rows, run.problem_count = ImportRun.REJECTED, report.rows, report.problem_count
    run.report = [vars(p) for p in report.problems]
    run.finished_at = clock.now()
    run.save()
    record_event(actor=actor, action="import", allowed=True, object_type="import_run", object_id=str(run.pk),
                 owner_agency_id=actor.agency_id,
                 detail={"file": run.file_name, "sha256": run.sha256, **detail, "loaded": False,
                         "problems": report.problem_count})
    report.run_id = run.pk
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report_csv(report: ImportReport) -> str:
    """The problems as CSV (row, column, problem), for the agency to fix its extract."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "problem"])
    for p in report.problems:
        writer.writerow([p.row, p.column, p.problem])
    return out.getvalue()


def recent_runs(*, actor: User, limit: int = 20) -> list[ImportRun]:
    """The agency's latest imports (its administrators' page)."""
    return list(ImportRun.objects.filter(agency_id=actor.agency_id or 0).select_related("imported_by")[:limit])
