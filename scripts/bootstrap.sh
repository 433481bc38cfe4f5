#!/usr/bin/env bash
# Create .venv with a working Python >= 3.12 and install NoWrongDoor into it.
#   scripts/bootstrap.sh          runtime dependencies
#   scripts/bootstrap.sh dev      plus test, lint and type-check tools
# Candidates are *run*, not just looked up: on machines with pyenv, `python3.13` may be
# a shim that exists but fails unless PYENV_VERSION is set.
set -euo pipefail
cd "$(dirname "$0")/.."

extra="${1:-}"
venv=".venv"

works() {  # works CMD... -> prints the interpreter path if it runs and is >= 3.12
  "$@" -c 'import sys, venv; assert sys.version_info >= (3, 12); print(sys.executable)' 2>/dev/null
}

find_python() {
  local found
  for cmd in python3.14 python3.13 python3.12 python3; do
    if command -v "$cmd" >/dev/null 2>&1 && found=$(works "$cmd"); then echo "$found"; return 0; fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root version
    root=$(pyenv root)
    for version in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.(1[2-9])(\.[0-9]+)?$' | sort -Vr); do
      for exe in "$root/versions/$version/bin/python3" "$root/versions/$version/bin/python"; do
        if [ -x "$exe" ] && found=$(works "$exe"); then echo "$found"; return 0; fi
      done
    done
  fi
  return 1
}

if [ ! -x "$venv/bin/python" ] || ! works "$venv/bin/python" >/dev/null; then
  if ! python=$(find_python); then
    echo "NoWrongDoor needs Python 3.12 or newer (Django 6 requires it)." >&2
    echo "Tried python3.14, python3.13, python3.12, python3 and pyenv's installed versions; none ran." >&2
    echo "Install Python 3.12+ (e.g. 'pyenv install 3.13') and run this again." >&2
    exit 1
  fi
  echo "Creating $venv with $python"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

stamp="$venv/.installed-${extra:-runtime}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  if [ "$extra" = "dev" ]; then
    "$venv/bin/python" -m pip install --quiet -e ".[dev]"
  else
    "$venv/bin/python" -m pip install --quiet -e .
  fi
  touch "$stamp"
fi
