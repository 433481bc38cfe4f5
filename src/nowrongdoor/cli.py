"""The ``nowrongdoor`` command.

    nowrongdoor demo [--youth N] [--seed S] [--port P]   migrate, generate a synthetic county,
                                                         create demo accounts, serve with debug on
    nowrongdoor serve [--host H] [--port P] [--workers N] serve the web UI and API (gunicorn)
    nowrongdoor migrate                                  create or upgrade the database
    nowrongdoor tick [--every N]                         evaluate events, mark overdue tasks, escalate
    nowrongdoor worker [--batch]                         run background tasks (serve starts one itself)
    nowrongdoor synth --youth N --seed S [--counties C]  generate (or resume) a synthetic county
    nowrongdoor link [--full]                            link the platform's records into youth; queue doubts
    nowrongdoor synth-records --people N --out DIR       synthetic linkage records + separate truth file
    nowrongdoor link-file INPUT --out DIR [--train]      link a CSV/Parquet file of records (no database)
    nowrongdoor encode-file INPUT --key-file K --out F   encode records for privacy-preserving linkage
    nowrongdoor analytics refresh [--full]               rebuild the analytics snapshot (DuckDB)
    nowrongdoor analytics private-release --measure M --year Y --epsilon E --note N --user U
    nowrongdoor analytics extract --year-from Y --year-to Y --user U --out F   de-identified research extract
    nowrongdoor audit verify                             check the audit hash chain
    nowrongdoor token issue --agency ID --name NAME      issue an integration token (prints it once)
    nowrongdoor token revoke --id ID                     revoke an integration token
    nowrongdoor manage ...                               any Django management command
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _setup(debug: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nowrongdoor.config.settings")
    if debug:
        os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn: ``workers`` processes (each with its own database connections)
    of ``threads`` threads, so both cores of a small server answer requests."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()  # no connection may cross the fork into the workers

    from nowrongdoor.config.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                "proc_name": "nowrongdoor", "accesslog": None, "errorlog": "-", "loglevel": "warning",
                "graceful_timeout": 10, "timeout": 60, "keepalive": 5, "when_ready": when_ready, "on_exit": on_exit,
            }.items():
                self.cfg.set(key, value)

        def load(self) -> object:
            return application

    worker: list[subprocess.Popen[bytes]] = []

    def when_ready(server: object) -> None:
        _start_ticker(settings.NOWRONGDOOR_TICK_SECONDS)
        if settings.NOWRONGDOOR_TASK_WORKER:
            # One task worker process beside the web processes, stopped with the server.
            worker.append(subprocess.Popen([sys.executable, "-m", "nowrongdoor.cli", "worker"]))

    def on_exit(server: object) -> None:
        for process in worker:
            process.terminate()
            process.wait(timeout=30)

    print(f"NoWrongDoor is serving on http://{host}:{port}/  ({workers} workers x {threads} threads; "
          "Ctrl-C stops it)", flush=True)
    Server().run()


def _start_ticker(seconds: int) -> None:
    """Run the protocol tick every ``seconds`` in a background thread of the server's
    main process (0 turns it off, e.g. when cron runs ``nowrongdoor tick``). The tick is
    safe to run while another runs, so several servers may each run one."""
    if seconds <= 0:
        return
    import threading

    def loop() -> None:
        from django.db import connection

        from nowrongdoor.protocols.services import tick

        while True:
            try:
                tick()
            except Exception:  # keep ticking; the next run retries what failed
                logging.getLogger("nowrongdoor.tick").exception("protocol tick failed")
            finally:
                connection.close()
            time.sleep(seconds)

    threading.Thread(target=loop, name="nowrongdoor-tick", daemon=True).start()


def _tick(every: int) -> None:
    from nowrongdoor import clock
    from nowrongdoor.protocols.services import tick
    from nowrongdoor.training.services import tick_training

    trained_on = None
    while True:
        started = time.perf_counter()
        result = tick()
        print(f"tick: {result.events_evaluated} events evaluated, {result.marked_overdue} tasks newly overdue, "
              f"{result.escalated} escalated, {result.notifications} notifications, {result.emailed} e-mails "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
        if trained_on != clock.today():  # training: once a day (renewals, CSEC-trained resources)
            system = _system_admin()
            if system is not None:
                renewals, resources = tick_training(system=system)
                print(f"training: {renewals} renewal reminders opened, {resources} resources' CSEC-trained "
                      "flag updated", flush=True)
            trained_on = clock.today()
        if every <= 0:
            return
        time.sleep(every)


def _default_workers() -> int:
    return int(os.environ.get("NOWRONGDOOR_WORKERS") or min(4, os.cpu_count() or 1))


def _synth(youth: int, seed: int, counties: int) -> None:
    from nowrongdoor.synth.generator import generate

    result = generate(youth=youth, seed=seed, counties=counties, progress=True)
    print(
        f"Synthetic county ready: {result.persons} youth, {result.source_records} agency records, "
        f"{result.contacts} contacts ({result.created} persons generated now)."
    )


def _import(path: Path, mapping: Path, username: str, report_path: Path | None) -> int:
    from tqdm import tqdm

    from nowrongdoor.directory.models import User
    from nowrongdoor.youth.imports import MappingInvalid, import_records, report_csv

    user = User.objects.filter(username=username).first()
    if user is None:
        print(f"no user {username!r}", file=sys.stderr)
        return 2
    if not path.is_file() or not mapping.is_file():
        print(f"no such file: {path if not path.is_file() else mapping}", file=sys.stderr)
        return 2
    try:
        with tqdm(unit="row", desc="Validating, then loading", disable=None) as bar:
            report = import_records(actor=user, path=path, mapping_text=mapping.read_text(), progress=bar.update)
    except MappingInvalid as exc:
        print("mapping or file problems, nothing loaded:", *exc.problems, sep="\n  ", file=sys.stderr)
        return 1
    print(report.summary())
    if not report.loaded:
        for problem in report.problems[:50]:
            print(f"  {problem}")
        if report_path:
            report_path.write_text(report_csv(report))
            print(f"all listed problems written to {report_path}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nowrongdoor", description="NoWrongDoor platform command")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the demo on SQLite with synthetic data")
    demo.add_argument("--youth", type=int, default=600)
    demo.add_argument("--seed", type=int, default=2013)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="prepare everything but do not serve")

    serve = sub.add_parser("serve", help="serve the web UI and API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=_default_workers(),
                       help="server processes (default: NOWRONGDOOR_WORKERS, else the cores, at most 4)")
    serve.add_argument("--threads", type=int, default=8, help="threads per process")

    sub.add_parser("migrate", help="create or upgrade the database")

    work = sub.add_parser("worker", help="run background tasks (linkage runs started from the web)")
    work.add_argument("--batch", action="store_true", help="run what is queued, then stop")

    tick = sub.add_parser("tick", help="evaluate left-over events, mark overdue tasks, escalate")
    tick.add_argument("--every", type=int, default=0, help="repeat every N seconds (default: run once)")

    synth = sub.add_parser("synth", help="generate a synthetic county (resumable)")
    synth.add_argument("--youth", type=int, required=True)
    synth.add_argument("--seed", type=int, required=True)
    synth.add_argument("--counties", type=int, default=1)

    load = sub.add_parser("import", help="load an agency's extract (CSV or Parquet) with its mapping file")
    load.add_argument("file", type=Path)
    load.add_argument("--mapping", type=Path, required=True, help="the agency's mapping file (YAML)")
    load.add_argument("--user", required=True, help="the agency administrator loading it")
    load.add_argument("--report", type=Path, help="write the row-by-row problems here (CSV)")

    linkdb = sub.add_parser("link", help="link the platform's source records into youth (incremental by default)")
    linkdb.add_argument("--full", action="store_true", help="score every record, not only those added since the "
                        "last run (stewards' decisions are still respected)")
    linkdb.add_argument("--model", type=Path, help="a saved model file (default: the platform's)")

    records = sub.add_parser("synth-records", help="write synthetic records for linkage, with a separate truth file")
    records.add_argument("--people", type=int, required=True)
    records.add_argument("--seed", type=int, default=1)
    records.add_argument("--noise", choices=["standard", "heavy"], default="standard")
    records.add_argument("--out", type=Path, required=True)

    linkf = sub.add_parser("link-file", help="link a CSV or Parquet file of records into youth (no database)")
    linkf.add_argument("input", type=Path)
    linkf.add_argument("--out", type=Path, required=True, help="directory for clusters.csv and pairs.csv")
    linkf.add_argument("--train", action="store_true", help="train the model on this file instead of using "
                       "the platform's trained model")
    linkf.add_argument("--model", type=Path, help="a saved model file (default: the platform's)")
    linkf.add_argument("--save-model", type=Path, help="with --train: save the trained model here")
    linkf.add_argument("--link-threshold", type=float, help="match probability at which records are joined")
    linkf.add_argument("--review-threshold", type=float, help="match probability from which pairs are listed")
    linkf.add_argument("--memory-limit", help="DuckDB memory limit (default 3GB; spills to disk beyond it, and "
                                              "the process peaks about 0.7 GiB above it)")
    linkf.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb",
                       help="spark: link with the saved model on Spark (docs/identity-resolution.md)")
    linkf.add_argument("--spark-master", default="local[2]", help="Spark master URL (default: local, 2 cores)")
    linkf.add_argument("--encoded", action="store_true", help="the input is an encoded file (privacy-preserving "
                       "mode); needs --train or a privacy-preserving --model")

    enc = sub.add_parser("encode-file", help="at an agency: encode a file of records with the agencies' shared key")
    enc.add_argument("input", type=Path)
    enc.add_argument("--key-file", type=Path, required=True, help="the shared key (>= 32 random bytes, raw or hex)")
    enc.add_argument("--out", type=Path, required=True, help="the encoded Parquet file to write")

    analytics = sub.add_parser("analytics", help="analytics snapshot tools")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", required=True)
    refresh = analytics_sub.add_parser("refresh", help="build the analytics snapshot from the operational "
                                       "database (incremental: only new and edited contacts are read again)")
    refresh.add_argument("--full", action="store_true", help="read every table again")
    refresh.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (spills to disk beyond it)")
    private = analytics_sub.add_parser("private-release", help="release a measure's table with differential "
                                       "privacy (OpenDP), spending epsilon from the year's budget")
    private.add_argument("--measure", required=True)
    private.add_argument("--year", type=int, required=True)
    private.add_argument("--epsilon", type=float, required=True, help="privacy loss to spend (e.g. 0.25)")
    private.add_argument("--note", required=True, help="why and where it is published")
    private.add_argument("--user", required=True, help="the state analyst releasing it")
    extract = analytics_sub.add_parser("extract", help="the de-identified research extract (zip of CSV files)")
    extract.add_argument("--year-from", type=int, required=True)
    extract.add_argument("--year-to", type=int, required=True)
    extract.add_argument("--user", required=True, help="the analyst it is made for (their agency's access)")
    extract.add_argument("--out", type=Path, required=True, help="the zip file to write")

    prof = sub.add_parser("profile", help="jurisdiction profiles: list, check, apply to a county, compare")
    prof_sub = prof.add_subparsers(dest="profile_command", required=True)
    prof_sub.add_parser("list", help="every profile, the report sections it follows and what it sets")
    check = prof_sub.add_parser("check", help="validate the profile files (and NOWRONGDOOR_PROFILE_DIR); exit 1 "
                                "naming each file and key that is wrong")
    check.add_argument("--overrides", type=Path, help="also check a county's overrides file over --profile")
    check.add_argument("--profile", default="")
    apply = prof_sub.add_parser("apply", help="apply a profile to a county (blank --profile removes it)")
    apply.add_argument("--county", required=True)
    apply.add_argument("--profile", default="")
    apply.add_argument("--overrides", type=Path, help="a YAML file of the county's own changes")
    apply.add_argument("--reason", required=True)
    cmp_ = prof_sub.add_parser("compare", help="how two profiles (or 'defaults') answer one event, step by step")
    cmp_.add_argument("left")
    cmp_.add_argument("right")
    cmp_.add_argument("--event", default="prostitution_detention")

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; exit 1 at the first broken event")

    token = sub.add_parser("token", help="integration tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    issue = token_sub.add_parser("issue")
    issue.add_argument("--agency", type=int, required=True)
    issue.add_argument("--name", required=True)
    issue.add_argument("--role", default="screener")
    revoke = token_sub.add_parser("revoke")
    revoke.add_argument("--id", type=int, required=True)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)

    if args.command == "demo":
        _setup(debug=True)
        _migrate()
        _synth(args.youth, args.seed, 1)
        from nowrongdoor.synth.demo import (
            ensure_demo_accounts,
            ensure_provider_profiles,
            ensure_public_contacts,
            seed_oversight,
            seed_prevention,
            seed_recent_activity,
        )

        print("\nDemo accounts (synthetic county; passwords are kept in the data directory):")
        for account in ensure_demo_accounts():
            print(f"  {account.username:<22} {account.password:<26} {account.description}")
        ensure_provider_profiles()
        ensure_public_contacts()
        seed_oversight()
        seed_prevention()
        if seed_recent_activity():
            print("\nRecent synthetic events recorded: the response protocols opened tasks (see My work).")
        from nowrongdoor.synth.placements import ensure_placement_resources, seed_placement_story

        ensure_placement_resources(args.seed)
        from nowrongdoor.synth.training import seed_training

        if seed_training(args.seed):
            print("\nTraining records: synthetic staff and caregivers with CSEC certificates, some expiring or "
                  "missing (sign in as probation.admin or county.training and open Training).")
        story = seed_placement_story()
        if story:
            print(f"\nPlacement story: a synthetic girl's foster family ({story['resource']}) holds her bed after "
                  "an absence; sign in as cws.placement and open Placements.")
        from nowrongdoor.directory.models import User
        from nowrongdoor.identity.services import run_linkage, under_way
        from nowrongdoor.synth.demo import seed_identity_story

        seed_identity_story()
        if under_way() is None:
            run = run_linkage(actor=User.objects.get(username="system.admin"))
            matches = "possible match" if run.queued == 1 else "possible matches"
            print(f"\nIdentity resolution: {run.merges} youth merged across agencies, {run.queued} {matches} "
                  "for a steward (sign in as county.steward).")
        from nowrongdoor.analytics.services import refresh_snapshot

        built = refresh_snapshot(actor=User.objects.get(username="system.admin"))
        print(f"\nAnalytics snapshot built ({built.rows.get('contacts', 0)} contacts, {built.seconds:.1f} s): "
              "sign in as county.analyst or state.analyst and open Data.")
        if args.no_serve:
            return 0
        _serve(args.host, args.port, 1, 8)
        return 0

    if args.command == "link-file":
        return _link_file(args)
    if args.command == "encode-file":
        return _encode_file(args)
    if args.command == "synth-records":
        from nowrongdoor.synth.people import write_population

        records_path, truth_path, count = write_population(args.out, args.seed, args.people, args.noise)
        print(f"{count} synthetic records of {args.people} people: {records_path} (truth: {truth_path})")
        return 0
    _setup()
    if args.command == "tick":
        _tick(args.every)
        return 0
    if args.command == "serve":
        _serve(args.host, args.port, args.workers, args.threads)
    elif args.command == "migrate":
        _migrate()
    elif args.command == "worker":
        from django.core.management import call_command

        call_command("db_worker", "--no-reload", *(["--batch"] if args.batch else []))
    elif args.command == "import":
        return _import(args.file, args.mapping, args.user, args.report)
    elif args.command == "synth":
        _synth(args.youth, args.seed, args.counties)
    elif args.command == "link":
        return _link_platform(args)
    elif args.command == "analytics":
        return _analytics(args)
    elif args.command == "profile":
        return _profile(args)
    elif args.command == "audit":
        return _audit_verify()
    elif args.command == "token":
        return _token(args)
    elif args.command == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["nowrongdoor manage", *args.args])
    return 0


def _profile(args: argparse.Namespace) -> int:
    import yaml

    from nowrongdoor.errors import StaleEdit, ValidationFailed
    from nowrongdoor.jurisdiction import selectors, services
    from nowrongdoor.jurisdiction.profiles import ProfileInvalid, check_overrides, profiles

    def overrides_file(path: Path | None) -> dict[str, Any]:
        if path is None:
            return {}
        found = yaml.safe_load(path.read_text())
        return found if isinstance(found, dict) else {}

    if args.profile_command == "check":
        try:
            found = profiles()
            if args.overrides:
                check_overrides(args.profile, overrides_file(args.overrides))
        except ProfileInvalid as exc:
            print(*exc.problems, sep="\n", file=sys.stderr)
            return 1
        print(f"{len(found)} profiles valid" + (f"; {args.overrides} applies over {args.profile}"
                                                 if args.overrides else ""))
        return 0
    system = _system_admin()
    if system is None:
        return 2
    if args.profile_command == "list":
        for item in selectors.list_profiles(actor=system):
            p = item.profile
            sets = ", ".join(f"{k} {n}" for k, n in item.counts.items() if n)
            print(f"{p.label:<30} {p.title['en']}\n    sets: {sets}\n    from: {'; '.join(p.sources)}"
                  + (f"\n    counties: {', '.join(item.counties)}" if item.counties else ""))
        return 0
    if args.profile_command == "compare":
        try:
            comparison = selectors.compare(actor=system, left=args.left, right=args.right, event=args.event)
        except ValidationFailed as exc:
            print(*(p for problems in exc.errors.values() for p in problems), sep="\n", file=sys.stderr)
            return 1
        print(f"{selectors.EVENTS[args.event]['label']}: {args.left} | {args.right}")
        for row in comparison.rows:
            left = f"{row.left.due} ({row.left.owner})" if row.left else "-"
            right = f"{row.right.due} ({row.right.owner})" if row.right else "-"
            print(f"  {row.key:<58} {left:<45} {right:<45} {row.verdict}")
        return 0
    from nowrongdoor.directory.models import County

    county = County.objects.filter(name=args.county).first()
    revision = services.current_revision(county) if county else 0
    try:
        applied = services.apply_profile(actor=system, county_name=args.county, profile_id=args.profile,
                                     reason=args.reason, expected_revision=revision,
                                     overrides=overrides_file(args.overrides))
    except ValidationFailed as exc:
        print(*(f"{k}: {p}" for k, problems in exc.errors.items() for p in problems), sep="\n", file=sys.stderr)
        return 1
    except StaleEdit:
        print("another change to this county's profile landed first; run the command again", file=sys.stderr)
        return 1
    print(f"{applied.county.name}: revision {applied.revision}, {applied.label or 'defaults (no profile)'}")
    return 0


def _link_file(args: argparse.Namespace) -> int:
    from nowrongdoor.identity.features import MEMORY_LIMIT, InputInvalid
    from nowrongdoor.identity.linkfile import link_file
    from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile, Thresholds

    if args.save_model and not args.train:
        print("--save-model needs --train", file=sys.stderr)
        return 2
    thresholds = None
    try:
        model = None if args.train else ModelFile.load(args.model or DEFAULT_MODEL)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        print(f"the model file cannot be used: {exc}", file=sys.stderr)
        return 2
    if args.link_threshold is not None or args.review_threshold is not None:
        base = model.thresholds if model else Thresholds()
        try:
            thresholds = Thresholds(link=args.link_threshold if args.link_threshold is not None else base.link,
                                    review=args.review_threshold if args.review_threshold is not None
                                    else base.review)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
    try:
        result = link_file(args.input, args.out, model_path=args.model, retrain=args.train,
                           save_model=args.save_model, thresholds=thresholds,
                           memory_limit=args.memory_limit or MEMORY_LIMIT, encoded=args.encoded,
                           backend=args.backend, spark_master=args.spark_master)
    except InputInvalid as exc:
        print(f"{args.input}: cannot be linked:", *exc.problems, sep="\n  ", file=sys.stderr)
        return 1
    print(result.summary())
    print(f"wrote {args.out / 'clusters.csv'} and {args.out / 'pairs.csv'}")
    return 0


def _system_admin() -> Any:
    """The account command-line actions act as (and are audited under), or None with a message."""
    from nowrongdoor.directory.models import User

    system = User.objects.filter(role="system_admin", is_active=True).order_by("pk").first()
    if system is None:
        print("No active system administrator account exists to act as.", file=sys.stderr)
    return system


class _StageBars:
    """Progress on the terminal for a job that reports (stage, done, total): one bar per
    stage, a spinner-like counter when the stage's size is not known (total 0)."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.stage = ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total or None, desc=self.labels.get(stage, stage), disable=None)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _link_platform(args: argparse.Namespace) -> int:
    from nowrongdoor.errors import ValidationFailed
    from nowrongdoor.identity.services import run_linkage

    system = _system_admin()
    if system is None:
        return 2
    bars = _StageBars({"reading": "Reading records", "linking": "Linking", "merging": "Merging youth",
                       "queueing": "Queueing pairs for review"})
    try:
        run = run_linkage(actor=system, full=args.full, model_path=args.model, progress=bars)
    except ValidationFailed as exc:
        print(*(p for problems in exc.errors.values() for p in problems), sep="\n", file=sys.stderr)
        return 1
    finally:
        bars.close()
    print(f"{run.kind} linkage run {run.pk}: {run.records} records ({run.new_records} new), {run.merges} youth "
          f"merged, {run.queued} pairs queued for review, {run.kept_apart} links not made because a steward said "
          f"not the same, {run.held_for_review} links held for review (conflicting dates of birth), {run.blocked} "
          f"merges blocked by a rule")
    return 0


def _analytics(args: argparse.Namespace) -> int:
    """``analytics refresh``, ``private-release`` and ``extract``; domain errors are one line."""
    from nowrongdoor.directory.models import User
    from nowrongdoor.errors import AccessDenied, NotFound, ValidationFailed

    if args.analytics_command == "refresh":
        return _analytics_refresh(args)
    user = User.objects.filter(username=args.user).first()
    if user is None:
        print(f"no user {args.user!r}", file=sys.stderr)
        return 2
    try:
        if args.analytics_command == "private-release":
            from nowrongdoor.analytics.services import release_privately

            made = release_privately(actor=user, measure_id=args.measure, year=args.year, epsilon=args.epsilon,
                                     note=args.note)
            print(f"release {made.pk}: {made.measure} {made.year}, epsilon {made.epsilon:g} ({made.mechanism})")
            print("county," + ",".join(made.columns))
            for county, cells in made.rows:
                print(f"{county}," + ",".join(str(c) for c in cells))
            return 0
        from nowrongdoor.analytics.research import research_extract

        extract = research_extract(actor=user, year_from=args.year_from, year_to=args.year_to)
        args.out.write_bytes(extract.body)
        print(f"wrote {args.out}: {extract.youth} youth, {extract.events} events, {extract.screenings} screenings "
              "(de-identified)")
        return 0
    except ValidationFailed as exc:
        print("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items()), file=sys.stderr)
    except (AccessDenied, NotFound) as exc:
        print(str(exc), file=sys.stderr)
    return 1


def _analytics_refresh(args: argparse.Namespace) -> int:
    from nowrongdoor.analytics.services import refresh_snapshot

    system = _system_admin()
    if system is None:
        return 2
    bars = _StageBars({})
    try:
        result = refresh_snapshot(actor=system, full=args.full, progress=bars, memory_limit=args.memory_limit)
    finally:
        bars.close()
    print(f"{result.kind} analytics snapshot {result.path}: {result.rows.get('contacts', 0)} contacts "
          f"({result.contacts_read} read), {result.rows.get('records', 0)} records, {result.seconds:.1f} s")
    return 0


def _encode_file(args: argparse.Namespace) -> int:
    from nowrongdoor.identity.encoded import encode_file, read_key
    from nowrongdoor.identity.encoding import KeyTooShort
    from nowrongdoor.identity.features import InputInvalid

    try:
        count = encode_file(args.input, read_key(args.key_file), args.out)
    except (InputInvalid, KeyTooShort, OSError) as exc:
        problems = exc.problems if isinstance(exc, InputInvalid) else [str(exc)]
        print(f"{args.input}: cannot be encoded:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"encoded {count} records into {args.out}: tokens and Bloom filters only; names, dates of birth, "
          "phones and addresses stay with you")
    return 0


def _audit_verify() -> int:
    from tqdm import tqdm

    from nowrongdoor.access.audit import verify_chain
    from nowrongdoor.access.models import AuditEvent

    with tqdm(total=AuditEvent.objects.count(), unit="event", desc="Verifying", disable=None) as bar:
        result = verify_chain(progress=bar)
    if result.ok:
        print(f"Audit chain intact: {result.checked} events verified.")
        return 0
    assert result.first_break is not None
    print(f"Audit chain BROKEN at event {result.first_break.seq}: {result.first_break.problem}", file=sys.stderr)
    return 1


def _token(args: argparse.Namespace) -> int:
    from nowrongdoor.access.models import IntegrationToken
    from nowrongdoor.access.services import issue_token, revoke_token
    from nowrongdoor.directory.models import Agency

    system = _system_admin()
    if system is None:
        return 2
    if args.token_command == "issue":  # noqa: S105
        agency = Agency.objects.get(pk=args.agency)
        issued = issue_token(actor=system, agency=agency, name=args.name, role=args.role)
        print(f"Token {issued.token.pk} for {agency.name} (shown once, store it safely):\n{issued.secret}")
    else:
        revoke_token(actor=system, token=IntegrationToken.objects.get(pk=args.id))
        print(f"Token {args.id} revoked.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
