"""``nowrongdoor serve`` starts real server processes that answer over HTTP, and one
background task worker beside them that stops with the server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_worker_processes_that_answer_over_http(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("nowrongdoor")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["NOWRONGDOOR_DATA_DIR"] = str(tmp_path)
    subprocess.run([command, "migrate"], env=env, check=True, capture_output=True, timeout=120)  # noqa: S603
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own command
        [command, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        answered = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as response:
                    answered = response.status
                    break
            except OSError:
                time.sleep(0.2)
        assert answered == 200
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        task_workers: list[str] = []
        if children.exists():  # Linux: the workers are the server's child processes
            pids = children.read_text().split()
            for _ in range(50):  # the task worker is started once the server is ready
                task_workers = [p for p in pids
                                if Path(f"/proc/{p}/cmdline").read_bytes().endswith(b"\x00worker\x00")]
                if task_workers:
                    break
                time.sleep(0.1)
                pids = children.read_text().split()
            assert len(pids) == 3 and len(task_workers) == 1, pids
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "2 workers x 2 threads" in output
    for pid in task_workers:
        assert not Path(f"/proc/{pid}").exists() or b"(Z)" in Path(f"/proc/{pid}/stat").read_bytes()
