"""Generating a synthetic county: wall time and peak memory.

    .venv/bin/python benchmarks/synth_generation.py --youth 100000 [--database-url postgres://...]

Runs in a fresh data directory (SQLite by default), prints youth, records, contacts,
wall seconds, youth per second and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import time

from _setup import configure, peak_rss_mib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--youth", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data_dir = configure(args.database_url)
    from django.db import connection

    from nowrongdoor.synth.generator import generate

    if connection.vendor == "postgresql":
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    result = generate(youth=args.youth, seed=args.seed, progress=False)
    seconds = time.perf_counter() - started
    print(f"database           {connection.vendor} ({data_dir if connection.vendor == 'sqlite' else 'server'})")
    print(f"youth generated    {result.created}")
    print(f"source records     {result.source_records}")
    print(f"contacts           {result.contacts}")
    print(f"wall time          {seconds:.1f} s")
    print(f"youth per second   {result.created / seconds:.0f}")
    print(f"peak memory (RSS)  {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
