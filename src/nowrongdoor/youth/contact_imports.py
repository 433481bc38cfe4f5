"""Loading an agency's own extract of **contacts** (the dated events of its records: hotline
reports, placements, arrests, clinic visits...), with a mapping file of ``kind: contacts``.

The same rules as the record import (``youth.imports``): the mapping is checked against
the data dictionary and the file's header; **every** row is validated (the record it
belongs to exists in the agency's own records, the contact type and every coded detail
are codes of the dictionary, the date is a date and not in the future, a contact id is
not used twice); any problem and nothing is loaded, with a report by row and column;
otherwise everything is loaded in one transaction, idempotent by the agency's contact id.

**History does not flood the protocols.** A contact recorded live starts the county's
response protocols (a detention starts the 24-hour clock). A contact loaded from an
extract is usually history: a placement that ended years ago must not open a task that
is overdue the moment it exists. Only contacts that occurred within the mapping's
``protocols_from_days`` (default 7) before the load are announced to the protocol
engine; older ones are recorded as history only, and the report says how many of each.

    version: 1
    kind: contacts
    protocols_from_days: 7
    columns:
      local_id: EVENT_ID                      # the agency's id of the contact
      record_local_id: PERSON_ID              # the agency's id of the youth's record (already loaded)
      contact_type: {column: EVENT, codes: {ARR: arrest, HOT: hotline_report}}
      occurred_at: {column: EVENT_DATE, format: "%m/%d/%Y"}
    details:
      offence_category: {column: OFFENSE, codes: {"647(b)": prostitution_related}}
      allegations: {column: ALLEGATIONS, separator: "|"}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.events import publish
from nowrongdoor.youth.events import ContactRecorded
from nowrongdoor.youth.imports import (
    ImportReport,
    MappingInvalid,
    _parse_date,
    _sha256,
    _unexpected,
    fresh_statistics,
    open_extract,
    reject,
)
from nowrongdoor.youth.models import Contact, ImportRun, SourceRecord
from nowrongdoor.youth.services import _validate_details

COLUMNS = ("local_id", "record_local_id", "contact_type", "occurred_at")
_COLUMN = {"type": "string", "minLength": 1, "maxLength": 100}
_SPEC = {"oneOf": [_COLUMN, {
    "type": "object", "required": ["column"], "additionalProperties": False,
    "properties": {"column": _COLUMN, "format": {"type": "string", "minLength": 2},
                   "separator": {"type": "string", "minLength": 1, "maxLength": 3},
                   "codes": {"type": "object", "additionalProperties": {"type": "string"}}}}]}
SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["version", "kind", "columns"], "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "kind": {"const": "contacts"},
        "description": {"type": "string"},
        "protocols_from_days": {"type": "integer", "minimum": 0, "maximum": 365},
        "columns": {"type": "object", "additionalProperties": False, "required": list(COLUMNS),
                    "properties": dict.fromkeys(COLUMNS, _SPEC)},
        "details": {"type": "object", "additionalProperties": _SPEC},
    },
}


@dataclass(frozen=True)
class ContactMapping:
    version: int
    columns: dict[str, dict[str, Any]]
    details: dict[str, dict[str, Any]]
    protocols_from_days: int

    def column_of(self, name: str) -> str:
        spec = self.columns.get(name) or self.details.get(name)
        return spec["column"] if spec else name


def _specs(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: ({"column": spec} if isinstance(spec, str) else dict(spec)) for name, spec in raw.items()}


def parse_contact_mapping(document: dict[str, Any]) -> ContactMapping:
    problems = [f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]
    if problems:
        raise MappingInvalid(sorted(problems))
    columns, details = _specs(document["columns"]), _specs(document.get("details") or {})
    v = vocabulary()
    fields = {f.name: f for code in v.contact_types for f in v.contact_type(code).fields}
    for name, spec in columns.items():
        if "separator" in spec:
            problems.append(f"columns.{name}.separator: only list details take a separator")
        if "format" in spec and name != "occurred_at":
            problems.append(f"columns.{name}.format: only occurred_at takes a format")
        if "codes" in spec and name != "contact_type":
            problems.append(f"columns.{name}.codes: only contact_type and coded details take codes")
    problems += [f"columns.contact_type.codes.{theirs}: {ours!r} is not a contact type"
                 for theirs, ours in columns["contact_type"].get("codes", {}).items() if ours not in v.contact_types]
    for name, spec in details.items():
        known = fields.get(name)
        if known is None:
            problems.append(f"details.{name}: is not a detail of any contact type")
            continue
        if "format" in spec:
            problems.append(f"details.{name}.format: details take no format")
        if "separator" in spec and not known.many:
            problems.append(f"details.{name}.separator: {name} is one value, not a list")
        if "codes" in spec:
            if not known.code_list:
                problems.append(f"details.{name}.codes: {name} is free text, not coded")
            else:
                problems += [f"details.{name}.codes.{theirs}: {ours!r} is not a code of {known.code_list}"
                             for theirs, ours in spec["codes"].items() if ours not in v.codes(known.code_list)]
    if problems:
        raise MappingInvalid(problems)
    return ContactMapping(version=document["version"], columns=columns, details=details,
                          protocols_from_days=int(document.get("protocols_from_days", 7)))


def _when(text: str, spec: dict[str, Any]) -> dt.datetime:
    """A date (noon, the county's day) or an ISO date-time; naive times are the county's."""
    if "format" in spec:
        day = _parse_date(text, spec["format"])
        return dt.datetime.combine(day, dt.time(12), tzinfo=clock.now().tzinfo)
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.now().tzinfo) if len(text) > 10 else dt.datetime.combine(
            value.date(), dt.time(12), tzinfo=clock.now().tzinfo)
    return value


def _convert(mapping: ContactMapping, raw: dict[str, str], problem: Callable[[str, str], None]) -> dict[str, Any]:
    def text(spec: dict[str, Any] | None) -> str:
        return (raw.get(spec["column"]) or "").strip() if spec else ""

    data: dict[str, Any] = {"local_id": text(mapping.columns["local_id"]),
                            "record_local_id": text(mapping.columns["record_local_id"])}
    for name in ("local_id", "record_local_id"):
        if not data[name]:
            problem(mapping.column_of(name), "is required")
        elif len(data[name]) > 64:
            problem(mapping.column_of(name), "is longer than 64 characters")
    kind_spec = mapping.columns["contact_type"]
    kind = text(kind_spec)
    data["contact_type"] = kind_spec.get("codes", {}).get(kind, kind)
    when = text(mapping.columns["occurred_at"])
    data["occurred_at"] = None
    if not when:
        problem(mapping.column_of("occurred_at"), "is required")
    else:
        try:
            data["occurred_at"] = _when(when, mapping.columns["occurred_at"])
        except ValueError:
            fmt = mapping.columns["occurred_at"].get("format", "YYYY-MM-DD or an ISO date-time")
            problem(mapping.column_of("occurred_at"), f"{when!r} is not a date ({fmt})")
    details: dict[str, Any] = {}
    if data["contact_type"] in vocabulary().contact_types:
        fields = {f.name: f for f in vocabulary().contact_type(data["contact_type"]).fields}
        for name, spec in mapping.details.items():
            value = text(spec)
            if not value or name not in fields:
                continue  # a detail of another contact type: that column is empty or not this type's
            codes = spec.get("codes", {})
            if fields[name].many:
                details[name] = [codes.get(part.strip(), part.strip())
                                 for part in value.split(spec.get("separator", ";")) if part.strip()]
            else:
                details[name] = codes.get(value, value)
    data["details"] = details
    return data


def _rows(mapping: ContactMapping, chunks: Callable[[], Iterator[list[dict[str, str]]]], report: ImportReport,
          agency_id: int, validate: bool = True) -> Iterator[list[dict[str, Any]]]:
    number = 0
    seen: set[str] = set()
    now = clock.now()
    for chunk in chunks():
        out = []
        records = dict(SourceRecord.objects.filter(
            agency_id=agency_id, local_id__in=[(raw.get(mapping.column_of("record_local_id")) or "").strip()
                                               for raw in chunk]).values_list("local_id", "pk"))
        for raw in chunk:
            number += 1

            def problem(column: str, text: str, row: int = number) -> None:
                report.add(row, column, text)

            data = _convert(mapping, raw, problem if validate else _unexpected)
            data["record_id"] = records.get(data["record_local_id"])
            if validate:
                if data["record_local_id"] and data["record_id"] is None:
                    problem(mapping.column_of("record_local_id"),
                            f"{data['record_local_id']!r} is not one of your agency's records (load the records first)")
                for name, problems in _validate_details(data["contact_type"], data["details"]).items():
                    column = mapping.column_of("contact_type" if name == "contact_type" else name.split(".", 1)[1])
                    for text in problems:
                        problem(column, text)
                if data["occurred_at"] is not None and data["occurred_at"] > now + dt.timedelta(minutes=5):
                    problem(mapping.column_of("occurred_at"), "is in the future")
                if data["local_id"] in seen:
                    problem(mapping.column_of("local_id"), f"{data['local_id']!r} appears twice in the file")
                seen.add(data["local_id"])
            out.append(data)
        report.rows = number
        yield out


def import_contacts(*, actor: User, path: Path, document: dict[str, Any],
                    progress: Callable[[int], object] | None = None) -> ImportReport:
    """Validate the whole file, then load it all or nothing (the caller checked the actor)."""
    mapping = parse_contact_mapping(document)
    header, chunks = open_extract(path)
    missing = sorted({spec["column"] for spec in (*mapping.columns.values(), *mapping.details.values())}
                     - set(header))
    if missing:
        raise MappingInvalid([f"file: no column {name!r} (the mapping names it; the file has "
                              f"{', '.join(header[:20]) or 'no header'})" for name in missing])
    assert actor.agency_id is not None
    sha256 = _sha256(path)
    fresh_statistics(SourceRecord, Contact)
    report = ImportReport(noun="contacts")
    for batch in _rows(mapping, chunks, report, actor.agency_id):
        if progress:
            progress(len(batch))
    run = ImportRun(agency_id=actor.agency_id, imported_by=actor, file_name=path.name[:200], kind="contacts",
                    sha256=sha256, mapping_version=mapping.version, started_at=clock.now())
    if not report.loaded:
        return reject(actor, run, report, kind="contacts")
    now = clock.now()
    since = now - dt.timedelta(days=mapping.protocols_from_days)
    v = vocabulary()
    with transaction.atomic():
        for batch in _rows(mapping, chunks, ImportReport(), actor.agency_id, validate=False):
            known = {c.local_id: c for c in Contact.objects.filter(agency_id=actor.agency_id,
                                                                    local_id__in=[d["local_id"] for d in batch])}
            youth_of = dict(SourceRecord.objects.filter(pk__in={d["record_id"] for d in batch})
                            .values_list("pk", "youth_id"))
            new, changed = [], []
            for data in batch:
                existing = known.get(data["local_id"])
                category = v.contact_type(data["contact_type"]).category
                if existing is None:
                    new.append(Contact(
                        youth_id=youth_of[data["record_id"]], source_record_id=data["record_id"],
                        agency_id=actor.agency_id, contact_type=data["contact_type"], category=category,
                        occurred_at=data["occurred_at"], details=data["details"], local_id=data["local_id"],
                        recorded_at=now, created_by=actor))
                elif (existing.contact_type, existing.occurred_at, existing.details, existing.source_record_id) != (
                        data["contact_type"], data["occurred_at"], data["details"], data["record_id"]):
                    existing.contact_type, existing.category = data["contact_type"], category
                    existing.occurred_at, existing.details = data["occurred_at"], data["details"]
                    existing.source_record_id, existing.youth_id = data["record_id"], youth_of[data["record_id"]]
                    existing.version += 1
                    changed.append(existing)
            created = Contact.objects.bulk_create(new)
            if changed:
                Contact.objects.bulk_update(changed, ["contact_type", "category", "occurred_at", "details",
                                                      "source_record", "youth", "version"])
            for contact in created:
                if contact.occurred_at >= since:  # recent: the response starts; older: history only
                    publish(ContactRecorded(
                        contact_id=contact.pk, public_id=str(contact.public_id), youth_id=contact.youth_id,
                        agency_id=contact.agency_id, actor_id=actor.pk, contact_type=contact.contact_type,
                        details=dict(contact.details), occurred_at=contact.occurred_at))
                    report.announced += 1
            report.created += len(created)
            report.updated += len(changed)
            report.unchanged += len(batch) - len(created) - len(changed)
            if progress:
                progress(len(batch))
        if _sha256(path) != sha256:
            raise MappingInvalid([f"file: {path.name} changed while it was loaded; nothing was loaded"])
        run.status, run.rows = ImportRun.LOADED, report.rows
        run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
        run.finished_at = clock.now()
        run.save()
        record_event(actor=actor, action="import", object_type="import_run", object_id=str(run.pk),
                     owner_agency_id=actor.agency_id,
                     detail={"file": run.file_name, "sha256": sha256, "kind": "contacts", "loaded": True,
                             "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                             "protocols_started_for": report.announced})
    report.run_id = run.pk
    return report
