"""Where the platform keeps its files: one data directory, created on demand.

The data directory holds the default SQLite database, the generated secret key for a
demo install, and collected static files. ``NOWRONGDOOR_DATA_DIR`` moves it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    path = Path(os.environ.get("NOWRONGDOOR_DATA_DIR") or Path.cwd() / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key() -> str:
    """Return ``SECRET_KEY`` from the environment, or one generated once and kept on disk."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = data_dir() / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(64))
    return key_file.read_text().strip()
