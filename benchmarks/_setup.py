"""Shared set-up for benchmarks: a throwaway data directory and database per run."""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
from pathlib import Path


def configure(database_url: str | None, data_dir: Path | None = None) -> Path:
    """Point the platform at a data directory (fresh unless given) and database, set up Django."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="nwd-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NOWRONGDOOR_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nowrongdoor.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return data_dir


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values)


class LocalServer:
    """``nowrongdoor serve`` on a free local port against the benchmark's database, and a
    JSON POST with an integration token. ``stop()`` (or leaving a ``with`` block) ends it."""

    def __init__(self, database_url: str, data_dir: Path, workers: int, threads: int) -> None:
        import socket
        import subprocess
        import sys
        import time
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        env = {**os.environ, "DATABASE_URL": database_url, "NOWRONGDOOR_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("nowrongdoor")), "serve", "--port", str(port),
             "--workers", str(workers), "--threads", str(threads)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(data_dir / "server.log", "w"),  # noqa: SIM115
        )
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.base}/api/openapi.json", timeout=1)  # noqa: S310 - local server
                break
            except OSError:
                time.sleep(0.2)

    def post(self, token: str, path: str, body: dict[str, object]) -> dict[str, object]:
        import json
        import urllib.request

        request = urllib.request.Request(  # noqa: S310
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return dict(json.loads(response.read()))

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
