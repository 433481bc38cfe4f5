"""Loading one agency's extract: rows per second and peak memory of `import_records`.

    .venv/bin/python benchmarks/import_extract.py [--rows 1000000] [--database-url URL] [--parquet]

Writes a synthetic extract (names, aliases and birth dates from the generator, the
agency's own column names and codes) to a temporary CSV (or Parquet), then loads it as an
agency administrator: pass 1 validates every row, pass 2 loads it in one transaction.
Then loads it again (nothing changes: the idempotent path). Prints wall time, rows per
second and the process's peak RSS, which shows that rows are streamed, not held. The
database is flushed first: give it one of its own. Target: 1 M rows in ≤ 3 min.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from _setup import configure, peak_rss_mib

MAPPING = """
version: 1
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--parquet", action="store_true")
    args = parser.parse_args()
    configure(args.database_url)
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    from nowrongdoor.directory.models import Agency, County, User
    from nowrongdoor.synth.generator import plan_person
    from nowrongdoor.youth.imports import import_records

    county = County.objects.create(name="Import County (synthetic)")
    agency = Agency.objects.create(county=county, name="Import Probation (synthetic)", agency_type="probation")
    admin = User.objects.create(username="bench.admin", role="agency_admin", agency=agency)
    folder = Path(tempfile.mkdtemp(prefix="nwd-import-"))
    path = folder / "extract.csv"
    started = time.perf_counter()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["PERSON_ID", "FNAME", "LNAME", "AKA", "DOB", "GENDER"])
        for i in range(args.rows):
            plan = plan_person(11, i % 50_000)  # 50,000 distinct people, repeated under new ids
            record = plan.records[0]
            writer.writerow([f"P{i:07d}", record.first_name, record.last_name, "|".join(record.aliases[:2]),
                             plan.birth_date.strftime("%m/%d/%Y"), {"female": "F", "male": "M"}.get(plan.sex, "U")])
    if args.parquet:
        import duckdb

        parquet = folder / "extract.parquet"
        duckdb.read_csv(str(path), all_varchar=True).write_parquet(str(parquet))
        path = parquet
    print(f"extract: {args.rows} rows, {path.stat().st_size / 2**20:.0f} MiB {path.suffix} "
          f"(written in {time.perf_counter() - started:.0f} s)")
    for label in ("first load", "same file again"):
        started = time.perf_counter()
        report = import_records(actor=admin, path=path, mapping_text=MAPPING)
        seconds = time.perf_counter() - started
        print(f"{label:>16}: {report.summary()} in {seconds:.1f} s ({report.rows / seconds:,.0f} rows/s)")
    print(f"peak RSS {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
