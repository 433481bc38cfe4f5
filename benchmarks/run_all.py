"""Run every benchmark at its default size on SQLite (and PostgreSQL if DATABASE_URL is set).

    .venv/bin/python benchmarks/run_all.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> None:
    print(f"\n$ {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True)


def main() -> None:
    youth = os.environ.get("NWD_BENCH_YOUTH", "100000")
    run("synth_generation.py", "--youth", youth)
    run("youth_search.py", "--youth", youth)
    run("placement_match.py")
    run("profile_apply.py")
    run("linkage/accuracy.py")
    pg = os.environ.get("DATABASE_URL", "")
    if pg.startswith(("postgres://", "postgresql://")):
        run("synth_generation.py", "--youth", youth, "--database-url", pg)
        run("youth_search.py", "--youth", youth, "--database-url", pg)
        run("placement_match.py", "--database-url", pg)
        run("profile_apply.py", "--database-url", pg)
    else:
        print("\nPostgreSQL figures skipped: set DATABASE_URL=postgres://... (a database the benchmark may flush)")


if __name__ == "__main__":
    main()
