"""The analytics snapshot: a DuckDB file built from the operational database.

Dashboards, exports and the API read the snapshot, never the operational database, so a
heavy aggregate cannot slow a screener down. ``refresh`` reads the operational tables a
chunk at a time (SQLite or PostgreSQL, the same SQL) into a new DuckDB file, derives the
facts the measures use, and then swaps the new file in; readers that opened the old file
finish on it.

**What is copied**: codes, dates and ids only. No names, no addresses, no free text, no
birth dates beyond what an age needs (the snapshot keeps one birth date per youth for
ages; exports never show it). A contact's details are reduced to their coded fields.

**Incremental**: contacts (the big table) are carried over from the previous snapshot;
only contacts added since (a higher id) and contacts ever edited (version above 1) are
read again. Every other table is read whole (they are small next to contacts).
``--full`` reads everything. Contacts are never deleted in the product, so carrying
them over loses nothing; which youth a contact belongs to is taken from its source
record at every refresh, so merges and splits made since are followed.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import connection, models

from nowrongdoor import clock
from nowrongdoor.cases.models import Case, ExploitationStatus, Referral
from nowrongdoor.directory.models import Agency, County
from nowrongdoor.placements.models import Absence, MatchRun, Placement
from nowrongdoor.prevention.models import Enrolment
from nowrongdoor.protocols.models import Task
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.models import Contact, SourceRecord

Progress = Callable[[str, int, int], object]
CHUNK = 50_000
FORMAT = 2  # bump when the snapshot's tables change; an older file is rebuilt in full

# The coded fields of a contact's details that measures use (never addresses or text).
# Snapshot column: key in the details. Each is a code of a code list.
DETAIL_FIELDS = {
    "offence_category": "offence_category", "placement_type": "placement_type", "finding": "finding",
    "placement_end_reason": "reason", "component": "component", "service": "service", "event": "event",
    "hearing_type": "hearing_type",
}


@dataclass(frozen=True)
class Source:
    """One operational table: the snapshot table it becomes and its columns (name: kind)."""

    name: str
    model: type[models.Model]
    columns: dict[str, tuple[str, str]]  # snapshot column -> (model field, kind)
    where: str = ""


def _c(field: str, kind: str = "int") -> tuple[str, str]:
    return field, kind


SOURCES: list[Source] = [
    Source("counties", County, {"county_id": _c("id"), "county": _c("name", "text")}),
    Source("agencies", Agency, {"agency_id": _c("id"), "county_id": _c("county"),
                                "agency_type": _c("agency_type", "text"), "agency": _c("name", "text")}),
    Source("records", SourceRecord, {
        "record_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"),
        "date_of_birth": _c("date_of_birth", "date"), "estimated_age": _c("estimated_age"),
        "age_recorded_on": _c("age_recorded_on", "date"), "sex": _c("sex", "text"),
        "gender_identity": _c("gender_identity", "text"), "sexual_orientation": _c("sexual_orientation", "text"),
        "race_ethnicity": _c("race_ethnicity", "text"), "residence_county_id": _c("residence_county"),
        "residence_zip": _c("residence_zip", "text"), "recorded_at": _c("recorded_at", "ts")}),
    Source("contacts", Contact, {
        "contact_id": _c("id"), "record_id": _c("source_record"), "agency_id": _c("agency"),
        "contact_type": _c("contact_type", "text"), "occurred_at": _c("occurred_at", "ts"),
        "details": _c("details", "json"), "version": _c("version")}),
    Source("screenings", Screening, {
        "screening_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"),
        "setting": _c("setting", "text"), "level": _c("level", "text"), "completed_at": _c("completed_at", "ts")},
        where="status = 'completed'"),
    Source("tasks", Task, {
        "task_id": _c("id"), "youth_id": _c("youth"), "county_id": _c("county"),
        "agency_type": _c("agency_type", "text"),
        "kind": _c("kind", "text"), "created_at": _c("created_at", "ts"), "due_at": _c("due_at", "ts"),
        "closed_at": _c("closed_at", "ts"), "status": _c("status", "text")}),
    Source("exploitation_statuses", ExploitationStatus, {
        "youth_id": _c("youth"), "agency_id": _c("agency"), "status": _c("status", "text"),
        "start_date": _c("start_date", "date"), "end_date": _c("end_date", "date")}),
    Source("cases", Case, {
        "case_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"), "status": _c("status", "text"),
        "opened_on": _c("opened_on", "date"), "closed_on": _c("closed_on", "date")}),
    Source("referrals", Referral, {
        "referral_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"), "provider_id": _c("provider"),
        "services": _c("services", "json"), "status": _c("status", "text"),
        "decline_reason": _c("decline_reason", "text"), "created_at": _c("created_at", "ts")}),
    Source("match_runs", MatchRun, {
        "match_run_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"),
        "requested_at": _c("requested_at", "ts"), "options": _c("ranked", "json_length")}),
    Source("placements", Placement, {
        "placement_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"),
        "started_at": _c("started_at", "ts"), "ended_at": _c("ended_at", "ts"), "end_reason": _c("end_reason", "text"),
        "match_run_id": _c("match_run")}),
    Source("enrolments", Enrolment, {
        "enrolment_id": _c("id"), "youth_id": _c("youth"), "agency_id": _c("agency"), "status": _c("status", "text"),
        "enrolled_at": _c("enrolled_at", "ts"), "completed_on": _c("completed_on", "date")}),
    Source("absences", Absence, {
        "absence_id": _c("id"), "placement_id": _c("placement"), "youth_id": _c("youth"), "agency_id": _c("agency"),
        "started_at": _c("started_at", "ts"), "returned_at": _c("returned_at", "ts")}),
]

ARROW = {"json_length": pa.int64(), "int": pa.int64(), "text": pa.string(), "date": pa.string(),
         "ts": pa.string(), "json": pa.string(), "bool": pa.bool_()}
DUCK = {"json_length": "BIGINT", "int": "BIGINT", "text": "VARCHAR", "date": "DATE", "ts": "TIMESTAMPTZ",
        "json": "VARCHAR", "bool": "BOOLEAN"}


def default_path() -> Path:
    return Path(os.environ.get("NOWRONGDOOR_ANALYTICS_PATH") or Path(settings.DATA_DIR) / "analytics.duckdb")


def _column_sql(model: type[models.Model], field: str, kind: str) -> str:
    found = model._meta.get_field(field)
    assert isinstance(found, models.Field) and found.column
    column = connection.ops.quote_name(found.column)
    postgres = connection.vendor == "postgresql"
    if kind in ("date", "json"):  # as text: no per-row conversion into Python objects
        return f"{column}::text" if postgres else f"({column} || '')"
    if kind == "json_length":
        return f"jsonb_array_length({column})" if postgres else f"json_array_length({column})"
    if kind == "ts":
        return f"{column}::text" if postgres else f"({column} || '+00:00')"
    return column


def _select(source: Source, after: int | None = None, edited: bool = False) -> tuple[str, str]:
    table = connection.ops.quote_name(source.model._meta.db_table)
    columns = ", ".join(_column_sql(source.model, field, kind) for field, kind in source.columns.values())
    conditions = [source.where] if source.where else []
    if after is not None:
        conditions.append(f"id > {int(after)}")
    if edited:
        conditions.append("version > 1")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {columns} FROM {table}{where} ORDER BY id", f"SELECT count(*) FROM {table}{where}"


def _load(con: duckdb.DuckDBPyConnection, source: Source, target: str, progress: Progress, stage: str,
          after: int | None = None, edited: bool = False) -> int:
    """Stream ``source`` (optionally only new or edited rows) into DuckDB table ``target``."""
    names = list(source.columns)
    kinds = [kind for _, kind in source.columns.values()]
    schema = pa.schema([(n, ARROW[k]) for n, k in zip(names, kinds, strict=True)])
    query, count = _select(source, after, edited)
    with connection.cursor() as cursor:
        cursor.execute(count)
        total = int(cursor.fetchone()[0])
    con.execute(f"CREATE TABLE IF NOT EXISTS {target} ("
                + ", ".join(f"{n} {DUCK[k]}" for n, k in zip(names, kinds, strict=True)) + ")")
    done = 0
    progress(stage, 0, total)
    with connection.chunked_cursor() as cursor:
        cursor.execute(query)
        while rows := cursor.fetchmany(CHUNK):
            columns = list(zip(*rows, strict=True))
            batch = pa.table([pa.array(col, type=schema.field(i).type) for i, col in enumerate(columns)],
                             schema=schema)
            con.register("nwd_batch", batch)
            con.execute(f"INSERT INTO {target} SELECT "
                        + ", ".join(f"CAST({n} AS {DUCK[k]})" for n, k in zip(names, kinds, strict=True))
                        + " FROM nwd_batch")
            con.unregister("nwd_batch")
            done += len(rows)
            progress(stage, done, max(done, total))
    return done


@dataclass(frozen=True)
class RefreshResult:
    path: Path
    kind: str  # "full" or "incremental"
    rows: dict[str, int]
    contacts_read: int
    seconds: float


def refresh(*, full: bool = False, path: Path | None = None, progress: Progress | None = None,
            memory_limit: str = "2GB", threads: int = 2, publish: bool = False) -> RefreshResult:
    """Build a new snapshot and swap it in (see the module docstring). The caller audits.
    ``publish``: protect every measure of every year now and keep the results in the
    snapshot, so dashboards only read them (``release.publish``)."""
    started = time.perf_counter()
    target = path or default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda *_: None)
    previous = _previous(target) if not full else None
    kind = "incremental" if previous else "full"
    handle, building = tempfile.mkstemp(prefix=".analytics-", suffix=".duckdb", dir=target.parent)
    os.close(handle)
    os.unlink(building)  # DuckDB creates the file itself
    spill = Path(tempfile.mkdtemp(prefix="nwd-analytics-"))
    rows: dict[str, int] = {}
    contacts_read = 0
    try:
        con = duckdb.connect(building, config={"memory_limit": memory_limit, "threads": threads,
                                               "temp_directory": str(spill)})
        con.execute("SET TimeZone = 'UTC'")
        for source in SOURCES:
            if source.name == "contacts":
                continue
            rows[source.name] = _load(con, source, f"src_{source.name}", report, source.name)
        contacts = next(s for s in SOURCES if s.name == "contacts")
        if previous is not None:
            watermark = previous
            con.execute(f"ATTACH '{target}' AS old (READ_ONLY)")
            _load(con, contacts, "src_new_contacts", report, "contacts (edited)", edited=True)
            contacts_read += con.execute("SELECT count(*) FROM src_new_contacts").fetchall()[0][0]
            report("contacts (carried over)", 0, 0)
            con.execute("CREATE TABLE contacts AS SELECT * FROM old.contacts WHERE contact_id NOT IN "
                        "(SELECT contact_id FROM src_new_contacts)")
            con.execute("DETACH old")
            contacts_read += _load(con, contacts, "src_new_contacts", report, "contacts (new)", after=watermark)
        else:
            contacts_read = _load(con, contacts, "src_new_contacts", report, "contacts")
            con.execute("CREATE TABLE contacts AS SELECT * EXCLUDE (details) FROM src_new_contacts LIMIT 0")
            for name in DETAIL_FIELDS:
                con.execute(f"ALTER TABLE contacts ADD COLUMN {name} VARCHAR")
            con.execute("ALTER TABLE contacts ADD COLUMN allegations VARCHAR[]")
        report("contacts (coding)", 0, 0)
        con.execute("DELETE FROM contacts WHERE contact_id IN (SELECT contact_id FROM src_new_contacts)")
        con.execute("INSERT INTO contacts SELECT * EXCLUDE (details), "
                    + ", ".join(f"json_extract_string(details, '$.{key}')" for key in DETAIL_FIELDS.values())
                    + ", CAST(json_extract(details, '$.allegations') AS VARCHAR[]) FROM src_new_contacts")
        con.execute("DROP TABLE src_new_contacts")
        rows["contacts"] = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
        report("facts", 0, 0)
        derive(con, today=clock.today(), time_zone=settings.TIME_ZONE)
        top = con.execute("SELECT coalesce(max(contact_id), 0) FROM contacts").fetchall()[0][0]
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", str(FORMAT)), ("built_at", clock.now().isoformat()), ("kind", kind),
            ("source", connection.vendor), ("contacts_watermark", str(top)), ("time_zone", settings.TIME_ZONE)])
        if publish:
            from nowrongdoor.analytics import release

            release.publish(con, report)
        con.execute("CHECKPOINT")
        con.close()
        os.replace(building, target)
    finally:
        for leftover in (Path(building), Path(building + ".wal")):
            leftover.unlink(missing_ok=True)
        for spilled in spill.glob("*"):
            spilled.unlink(missing_ok=True)
        spill.rmdir()
    return RefreshResult(target, kind, rows, contacts_read, time.perf_counter() - started)


def _previous(path: Path) -> int | None:
    """The previous snapshot's contact watermark, if it can be carried over."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except duckdb.Error:
        return None
    if meta.get("format") != str(FORMAT) or meta.get("source") != connection.vendor:
        return None
    return int(meta["contacts_watermark"])


# -- facts --------------------------------------------------------------------------------

IDENTIFYING = """
    -- a child-abuse report alleging commercial sexual exploitation
    SELECT youth_id, occurred_at AS event_at, agency_type, 'csec_report' AS how FROM contacts_y
     WHERE contact_type = 'hotline_report' AND list_contains(allegations, 'sexual_exploitation')
    UNION ALL
    -- a minor arrested, cited or detained for a prostitution-related offence is a victim
    SELECT c.youth_id, c.occurred_at, c.agency_type, 'prostitution_related_offence' FROM contacts_y c
      JOIN youth_birth b USING (youth_id)
     WHERE c.contact_type IN ('arrest', 'citation', 'detention') AND c.offence_category = 'prostitution_related'
       AND (b.birth_date IS NULL OR c.occurred_on < b.birth_date + INTERVAL 18 YEAR)
    UNION ALL
    -- an exploitation status in one of the victim categories
    SELECT s.youth_id, CAST(s.start_date AS TIMESTAMPTZ), a.agency_type, 'victim_status'
      FROM src_exploitation_statuses s JOIN src_agencies a USING (agency_id) WHERE s.status LIKE 'victim_%'
"""

AT_RISK = """
    SELECT s.youth_id, s.completed_at AS event_at, a.agency_type, 'screening' AS how
      FROM src_screenings s JOIN src_agencies a USING (agency_id)
     WHERE s.level IN ('at_risk', 'possible_exploitation', 'clear_indicators')
    UNION ALL
    SELECT s.youth_id, CAST(s.start_date AS TIMESTAMPTZ), a.agency_type, 'at_risk_status'
      FROM src_exploitation_statuses s JOIN src_agencies a USING (agency_id) WHERE s.status = 'at_risk'
"""


def derive(con: duckdb.DuckDBPyConnection, *, today: dt.date, time_zone: str) -> None:
    """The facts the measures read: one row per youth, and events with their youth."""
    tz = time_zone.replace("'", "")
    con.execute(f"""
        CREATE OR REPLACE TABLE contacts_y AS
        SELECT c.*, r.youth_id, a.agency_type, a.county_id AS agency_county_id,
               CAST(timezone('{tz}', c.occurred_at) AS DATE) AS occurred_on
          FROM contacts c JOIN src_records r USING (record_id) JOIN src_agencies a ON a.agency_id = c.agency_id
    """)
    con.execute("""
        CREATE OR REPLACE TABLE youth_birth AS
        SELECT youth_id, coalesce(min(date_of_birth),
                                  min(CAST(age_recorded_on - INTERVAL (estimated_age) YEAR AS DATE))) AS birth_date
          FROM src_records GROUP BY youth_id
    """)
    con.execute(f"CREATE OR REPLACE TABLE identifying AS SELECT *, CAST(timezone('{tz}', event_at) AS DATE) AS on_day "
                f"FROM ({IDENTIFYING})")
    con.execute(f"CREATE OR REPLACE TABLE at_risk AS SELECT *, CAST(timezone('{tz}', event_at) AS DATE) AS on_day "
                f"FROM ({AT_RISK})")
    con.execute(f"""
        CREATE OR REPLACE TABLE youth_facts AS
        WITH recs AS (
            SELECT r.*, a.county_id AS agency_county_id, a.agency_type
              FROM src_records r JOIN src_agencies a USING (agency_id)
        ), person AS (
            SELECT youth_id,
                   mode(sex) FILTER (WHERE sex IN ('female', 'male', 'intersex')) AS sex,
                   mode(gender_identity) FILTER (WHERE gender_identity NOT IN ('', 'unknown', 'declined')) AS gender,
                   mode(sexual_orientation) FILTER (WHERE sexual_orientation NOT IN ('', 'unknown', 'declined'))
                       AS orientation,
                   mode(race_ethnicity) FILTER (WHERE race_ethnicity NOT IN ('', 'unknown', 'declined')) AS race,
                   coalesce(mode(residence_county_id), arg_min(agency_county_id, recorded_at)) AS county_id,
                   mode(residence_zip) FILTER (WHERE residence_zip <> '') AS zip,
                   count(*) AS records
              FROM recs GROUP BY youth_id
        ), firsts AS (
            SELECT youth_id, min(occurred_at) AS first_contact_at FROM contacts_y GROUP BY youth_id
        ), ident AS (
            SELECT youth_id, min(event_at) AS identified_at, arg_min(agency_type, event_at) AS identified_by,
                   arg_min(how, event_at) AS identified_how
              FROM identifying GROUP BY youth_id
        ), risk AS (
            SELECT youth_id, min(event_at) AS at_risk_at FROM at_risk GROUP BY youth_id
        )
        SELECT p.youth_id, p.county_id, p.zip, b.birth_date,
               coalesce(p.sex, 'unknown') AS sex,
               CASE WHEN p.gender IN ('transgender_girl', 'transgender_boy', 'nonbinary') THEN p.gender
                    WHEN p.sex = 'female' THEN 'girl' WHEN p.sex = 'male' THEN 'boy' ELSE 'unknown' END AS gender,
               coalesce(p.race, 'unknown') AS race,
               CASE WHEN p.gender IN ('transgender_girl', 'transgender_boy', 'nonbinary', 'questioning')
                      OR p.orientation IN ('lesbian_gay', 'bisexual', 'questioning', 'other') THEN 'lgbtq'
                    WHEN p.gender IS NULL AND p.orientation IS NULL THEN 'not_recorded'
                    ELSE 'not_lgbtq' END AS lgbtq,
               f.first_contact_at, i.identified_at, i.identified_by, i.identified_how,
               CAST(timezone('{tz}', i.identified_at) AS DATE) AS identified_on,
               k.at_risk_at, CAST(timezone('{tz}', k.at_risk_at) AS DATE) AS at_risk_on,
               CAST(timezone('{tz}', least(i.identified_at, k.at_risk_at)) AS DATE) AS flagged_on
          FROM person p JOIN youth_birth b USING (youth_id) LEFT JOIN firsts f USING (youth_id)
          LEFT JOIN ident i USING (youth_id) LEFT JOIN risk k USING (youth_id)
    """)
    del today  # ages are computed at the event, not today


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot (raises SnapshotMissing without one)."""
    target = path or default_path()
    if not target.exists():
        raise SnapshotMissing(str(target))
    con = duckdb.connect(str(target), read_only=True, config={"memory_limit": "1GB", "threads": 2})
    con.execute("SET TimeZone = 'UTC'")
    return con


class SnapshotMissing(Exception):
    """No analytics snapshot has been built yet (``nowrongdoor analytics refresh``)."""


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())
