#!/usr/bin/env bash
# The whole check: lint, types, migrations, then the test suite on SQLite and, when a
# PostgreSQL server is reachable, again on PostgreSQL. Browser (e2e) tests run when
# Debian's Chromium is at /usr/bin/chromium. Says plainly what it skipped.
#
#   DATABASE_URL=postgres://...   use this PostgreSQL (default: try postgres@127.0.0.1:5432)
#   NWD_REQUIRE_ALL=1             fail instead of skipping PostgreSQL or the browser (CI)
#   NWD_SERIAL=1                  run the PostgreSQL pass after the SQLite pass, not alongside
#   extra arguments go to pytest, e.g. scripts/test.sh -k access
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev || exit 1

py=.venv/bin/python
require_all="${NWD_REQUIRE_ALL:-0}"
export NOWRONGDOOR_DATA_DIR="${NOWRONGDOOR_DATA_DIR:-$(mktemp -d -t nwd-test-XXXXXX)}"
failed=0
summary=()

step() { echo; echo "== $1"; }

step "ruff"
if .venv/bin/ruff check src tests benchmarks; then summary+=("lint: clean"); else summary+=("lint: FAILED"); failed=1; fi

step "mypy"
if .venv/bin/mypy src; then summary+=("types: clean"); else summary+=("types: FAILED"); failed=1; fi

step "migrations up to date"
if DATABASE_URL="sqlite:///$NOWRONGDOOR_DATA_DIR/check.sqlite3" .venv/bin/nowrongdoor manage makemigrations --check --dry-run >/dev/null; then
  summary+=("migrations: up to date")
else
  summary+=("migrations: MISSING (run: .venv/bin/nowrongdoor manage makemigrations)"); failed=1
fi

skip=()
if [ -x /usr/bin/chromium ]; then
  browser_note="browser (e2e) tests: run, in the SQLite pass"
else
  skip+=("not e2e")
  browser_note="browser (e2e) tests: SKIPPED - Chromium not installed at /usr/bin/chromium (apt-get install chromium)"
  [ "$require_all" = 1 ] && { echo "Chromium is required (NWD_REQUIRE_ALL=1)"; failed=1; }
fi
if command -v java >/dev/null 2>&1; then
  spark_note="Spark (PySpark local mode) tests: run, in the SQLite pass"
else
  skip+=("not spark")
  spark_note="Spark (PySpark local mode) tests: SKIPPED - no Java runtime (apt-get install default-jre-headless)"
  [ "$require_all" = 1 ] && { echo "Java is required for the Spark tests (NWD_REQUIRE_ALL=1)"; failed=1; }
fi
markers() {  # a pytest -m expression joining the skips given
  local expr="" m
  for m in "$@"; do expr="${expr:+$expr and }$m"; done
  [ -n "$expr" ] && printf '%s' "$expr"
}
sqlite_args=(); pg_args=()
expr="$(markers "${skip[@]}")"; [ -n "$expr" ] && sqlite_args=(-m "$expr")
# Spark tests use no database, and the browser journeys drive the same services the
# PostgreSQL pass tests directly: once (in the SQLite pass) is enough for both.
expr="$(markers "${skip[@]}" "not spark" "not e2e")"; pg_args=(-m "$expr")

# The two passes run at the same time (each on its own data directory, so the analytics
# file and the secret key are not shared): on two cores that takes about as long as the
# longer pass alone. NWD_SERIAL=1 runs them one after the other.
pg_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/nowrongdoor}"
case "$pg_url" in
  postgres://*|postgresql://*) ;;
  *) pg_url="" ;;
esac
pg_up=0
if [ -n "$pg_url" ] && $py - "$pg_url" <<'PY' 2>/dev/null
import sys, urllib.parse, psycopg
u = urllib.parse.urlparse(sys.argv[1])
psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username, password=u.password,
                dbname="postgres", connect_timeout=3).close()
PY
then
  pg_up=1
fi

pg_pass() {
  mkdir -p "$NOWRONGDOOR_DATA_DIR/postgresql"
  NOWRONGDOOR_DATA_DIR="$NOWRONGDOOR_DATA_DIR/postgresql" DATABASE_URL="$pg_url" \
    .venv/bin/pytest "${pg_args[@]}" --basetemp="$NOWRONGDOOR_DATA_DIR/postgresql/pytest" "$@"
}
pg_log="$NOWRONGDOOR_DATA_DIR/postgresql-pass.log"
pg_pid=""
if [ "$pg_up" = 1 ] && [ "${NWD_SERIAL:-0}" != 1 ]; then
  step "tests on PostgreSQL ($pg_url): started alongside, output follows the SQLite pass"
  pg_pass "$@" >"$pg_log" 2>&1 &
  pg_pid=$!
fi

step "tests on SQLite"
mkdir -p "$NOWRONGDOOR_DATA_DIR/sqlite"
if NOWRONGDOOR_DATA_DIR="$NOWRONGDOOR_DATA_DIR/sqlite" env -u DATABASE_URL \
    .venv/bin/pytest "${sqlite_args[@]}" --basetemp="$NOWRONGDOOR_DATA_DIR/sqlite/pytest" "$@"; then
  summary+=("SQLite suite: passed")
else
  summary+=("SQLite suite: FAILED"); failed=1
fi

if [ "$pg_up" = 1 ]; then
  step "tests on PostgreSQL ($pg_url)"
  if [ -n "$pg_pid" ]; then
    wait "$pg_pid"; pg_rc=$?
    cat "$pg_log"
  else
    pg_pass "$@"; pg_rc=$?
  fi
  if [ "$pg_rc" = 0 ]; then
    summary+=("PostgreSQL suite: passed")
  else
    summary+=("PostgreSQL suite: FAILED"); failed=1
  fi
else
  summary+=("PostgreSQL suite: SKIPPED - no PostgreSQL reachable at ${pg_url:-DATABASE_URL} (set DATABASE_URL to run it)")
  [ "$require_all" = 1 ] && { echo "PostgreSQL is required (NWD_REQUIRE_ALL=1)"; failed=1; }
fi

summary+=("$browser_note" "$spark_note")
echo; echo "== summary"
printf '  %s\n' "${summary[@]}"
exit $failed
