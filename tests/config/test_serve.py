"""``nowrongdoor serve`` starts real server processes that answer over HTTP."""

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
        if children.exists():  # Linux: the workers are the server's child processes
            assert len(children.read_text().split()) == 2
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "2 workers x 2 threads" in output
