"""Fault scripts (issue #6): PostgreSQL restarted under load, Redis stopped, a report worker killed.

Archlens runs under gunicorn and Celery on loopback against a PostgreSQL cluster and a Redis
server of the script's own, created in a temporary folder on free ports, so the machine's own
services are never stopped. Each scenario does what people would do, checks what they see and
what the database holds, and prints its figures. Everything is bounded in time and stopped at
the end; the script exits 1 when a check fails. `make faults` runs all three scenarios;
bench/README.md explains them.

    .venv/bin/python bench/faults.py [postgres] [redis] [worker] [--users 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import load_workshop as load
from load_workshop import PASSWORD, ROOT, Gunicorn, free_port

SCENARIOS = ("postgres", "redis", "worker")
DATABASE = "archlens_faults_load"  # load_workshop.reset_database wants "load" in the name
# Short heartbeat and stale limit for the worker scenario, so that it takes seconds, not minutes.
HEARTBEAT_SECONDS = 1
STALE_SECONDS = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "scenarios", nargs="*", metavar="scenario", help="postgres, redis, worker (default: all)"
    )
    parser.add_argument("--users", type=int, default=30, help="participants under load (30)")
    parser.add_argument("--seconds", type=float, default=45, help="length of the load (45)")
    parser.add_argument(
        "--restart-at", type=float, default=15, help="s into the load PostgreSQL stops (15)"
    )
    parser.add_argument(
        "--down-seconds", type=float, default=3, help="how long PostgreSQL stays down (3)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for the participants")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args(argv)
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}; choose from {SCENARIOS}")
    if args.restart_at + args.down_seconds + 5 > args.seconds:
        parser.error("--restart-at plus --down-seconds must leave 5 s of load after the restart")
    chosen = set(args.scenarios) or set(SCENARIOS)
    args.scenarios = [name for name in SCENARIOS if name in chosen]  # the load check runs first
    return args


# -- servers of our own ---------------------------------------------------------------------------


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root; root runs it as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("PostgreSQL's initdb was not found (Debian: apt-get install postgresql).")


class Postgres:
    """A PostgreSQL cluster in a folder of its own, on a free port of 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.bin = postgres_bindir()
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.log = folder / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, *command: str, timeout: float = 60) -> None:
        subprocess.run(
            [*as_postgres_user(), *command],
            check=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def create(self) -> None:
        self.folder.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._pg(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._pg(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, the WAL is replayed at the next start."""
        self._pg(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


class Redis:
    """A Redis server on a free port of 127.0.0.1 that keeps nothing on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class Worker:
    """`celery worker` (one build at a time) in its own process group."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.hostname = f"{name}@{socket.gethostname()}"
        self.log = folder / f"worker-{name}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker",
                 "-n", self.hostname, "--concurrency", "1", "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            if self.process is None or self.process.poll() is not None:
                break
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"worker {self.name} did not start.\n{tail}")

    def children(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill(self, *, child_only: bool = False) -> None:
        """SIGKILL the build process only (as the OOM killer would) or the whole worker."""
        assert self.process is not None
        if child_only:
            for pid in self.children():
                os.kill(pid, signal.SIGKILL)
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


# -- results --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((what, bool(ok), detail))
        print(f"    [{'ok' if ok else 'FAILED'}] {what}{': ' + detail if detail else ''}")
        return ok

    def figure(self, name: str, value: object, unit: str = "") -> None:
        self.figures[name] = value
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"    {name}: {shown}{' ' + unit if unit else ''}")

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


class Browser:
    """A signed-in person: an HTTP client with the session and CSRF cookies."""

    def __init__(self, base_url: str, username: str) -> None:
        self.client = httpx.Client(
            base_url=base_url, timeout=30, trust_env=False, follow_redirects=True
        )
        self.client.get("/accounts/login/")
        self.client.post(
            "/accounts/login/",
            data={"username": username, "password": PASSWORD, "next": ""} | self._token(),
            follow_redirects=False,
        )
        if "sessionid" not in self.client.cookies:
            raise SystemExit(f"could not sign in as {username}")

    def _token(self) -> dict[str, str]:
        return {"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}

    def get(self, url: str, **kwargs) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = self.client.get(url, **kwargs)
        return response, time.perf_counter() - started

    def post(
        self, url: str, data: dict[str, str], htmx: bool = False
    ) -> tuple[httpx.Response, float]:
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        if htmx:
            headers["HX-Request"] = "true"
        started = time.perf_counter()
        response = self.client.post(url, data=data | self._token(), headers=headers)
        return response, time.perf_counter() - started

    def close(self) -> None:
        self.client.close()


def report_row(report_id: int):
    from reviews.models import Report

    return Report.objects.get(pk=report_id)


def wait_for(predicate, timeout: float, every: float = 0.05, while_waiting=None) -> float | None:
    """Seconds until `predicate()` is true (None on timeout); `while_waiting` runs every 2 s."""
    started = last_nudge = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        if while_waiting is not None and time.monotonic() - last_nudge >= 2:
            while_waiting()
            last_nudge = time.monotonic()
        time.sleep(every)
    return None


def newest_report_id(plan: load.Plan) -> int | None:
    from reviews.models import Report

    return (
        Report.objects.filter(workload__public_id=plan.public_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


# -- PostgreSQL restarted under load --------------------------------------------------------------


def scenario_postgres(args, run: Run) -> Outcome:
    """The workshop load test, with PostgreSQL crashing and coming back in the middle."""
    outcome = Outcome("postgres")
    load_args = load.parse_args(
        ["--users", str(args.users), "--seconds", str(args.seconds), "--burst-seconds", "0",
         "--database-url", run.database_url, "--workers", "4", "--threads", "4"]
        + (["--seed", str(args.seed)] if args.seed is not None else [])
    )  # fmt: skip
    server = run.gunicorn(load_args, "postgres")
    fault: dict[str, float] = {}
    ledger, lock_waits = load.Ledger(), []

    async def crash_and_restart() -> None:
        while "login" not in ledger.phase_seconds:  # the workshop starts after the logins
            await asyncio.sleep(0.1)
        await asyncio.sleep(args.restart_at)
        fault["stop"] = time.time()
        await asyncio.to_thread(run.postgres.stop, "immediate")
        fault["stopped"] = time.time()
        await asyncio.sleep(args.down_seconds)
        fault["start"] = time.time()
        await asyncio.to_thread(run.postgres.start)
        fault["up"] = time.time()
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as probe:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/healthz", timeout=2)).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        fault["healthy"] = time.time()

    async def workshop() -> int:
        restart = asyncio.create_task(crash_and_restart())
        present = await load.drive(load_args, server.base_url, run.plan, ledger, lock_waits)
        await asyncio.wait_for(restart, 60)
        return present

    print(f"  {args.users} participants for {args.seconds:g} s; PostgreSQL crashes (immediate")
    print(f"  stop) {args.restart_at:g} s in and stays down {args.down_seconds:g} s", flush=True)
    present = asyncio.run(asyncio.wait_for(workshop(), 240 + args.seconds))
    server.stop()
    from django.db import connections

    connections.close_all()  # this process's connection did not survive the restart either
    check = load.verify(run.plan, ledger)

    samples = [s for s in ledger.samples if s[0] == "workshop"]
    ok_samples = [s for s in samples if s[3] in (200, 204)]
    outcome.figure("participants", present)
    outcome.figure("requests", len(samples))
    outcome.figure("requests answered 200/204", len(ok_samples))
    outcome.figure("PostgreSQL down (stop to ready again)", fault["up"] - fault["stop"], "s")
    outcome.figure(
        "app healthy again after PostgreSQL was ready", fault["healthy"] - fault["up"], "s"
    )
    during, after = [], []
    for (kind, detail), (sent, failed_at) in zip(ledger.errors, ledger.error_times, strict=True):
        # Expected: requests in flight when PostgreSQL went away or sent before the app was
        # seen answering again. Anything failing after that is a failure to recover.
        in_window = failed_at >= fault["stop"] and sent <= fault["healthy"]
        (during if in_window else after).append((kind, detail))
    kinds: dict[str, int] = {}
    for kind, _ in during:
        kinds[kind] = kinds.get(kind, 0) + 1
    outcome.figure("failed during the outage", len(during))
    late = sum(1 for sent, _ in ledger.error_times if sent >= fault["up"])
    outcome.figure("of them sent after PostgreSQL was ready again", late)
    for kind, count in sorted(kinds.items()):
        print(f"      {count:>5} x {kind}")
    outcome.figures["failed during the outage, by kind"] = kinds
    clean = all(re.search(r"HTTP 50[03]$", kind) for kind, _ in during)
    outcome.check(
        "requests in flight fail cleanly (HTTP 500/503, no timeout, no dropped connection)",
        clean,
        "" if clean else ", ".join(sorted(kinds)),
    )
    outcome.check(
        "the app recovers by itself: nothing fails once /healthz answers again",
        not after,
        "; ".join(f"{kind}: {detail[:120]}" for kind, detail in after[:5]),
    )
    outcome.check("every participant signed in", present == args.users, f"{present}")
    acknowledged = check.choice_acks + check.notes_saved
    outcome.figure("acknowledged changes", acknowledged)
    outcome.figure("changes applied by requests that failed", check.events_from_unacknowledged)
    outcome.check("no acknowledged change is lost", not check.lost, "; ".join(check.lost[:5]))
    outcome.check(
        "nothing changed that nobody asked for", not check.phantom, "; ".join(check.phantom[:5])
    )
    outcome.figures["lost"] = len(check.lost)
    outcome.figures["phantom"] = len(check.phantom)
    return outcome


# -- Redis stopped --------------------------------------------------------------------------------


def scenario_redis(args, run: Run) -> Outcome:
    """Stop the broker: reports say the queue is unavailable, the rest of the app works."""
    outcome = Outcome("redis")
    env = run.env()
    server = run.gunicorn(load.parse_args(["--workers", "2", "--threads", "4"]), "redis", env)
    worker = run.worker("redis-1", env)
    person = Browser(server.base_url, "load-owner")
    plan = run.plan
    reports_url = f"/workloads/{plan.public_id}/reports/"
    review_url = f"/workloads/{plan.public_id}/lenses/{plan.alias}/"
    question = next(iter(plan.questions))
    question_url = f"{review_url}questions/{question}/"
    choice = plan.questions[question][0]
    ask = {"lens": plan.alias, "milestone": "", "paper": "A4"}
    try:
        print("  with Redis running", flush=True)
        response, _ = person.post(reports_url, ask)
        first = newest_report_id(plan)
        built = wait_for(lambda: report_row(first).status == "DONE", 90)
        outcome.check("a report is built", built is not None, f"{built or 0:.1f} s")

        run.redis.stop()
        print("  Redis stopped", flush=True)
        response, seconds = person.get("/healthz")
        body = response.json() if response.status_code in (200, 503) else {}
        outcome.check(
            "/healthz: 200, database ok, broker error",
            response.status_code == 200 and body == {"database": "ok", "broker": "error"},
            f"{response.status_code} {body} in {seconds:.2f} s",
        )
        response, seconds = person.post(reports_url, ask)
        refused = newest_report_id(plan)
        row = report_row(refused)
        outcome.figure("asking for a report answered in", seconds, "s")
        outcome.check(
            "asking for a report says the queue is unavailable",
            response.status_code == 200
            and "report queue is unavailable" in response.text
            and row.status == "FAILED",
            f"HTTP {response.status_code}, report {row.status}: {row.error}",
        )
        pages = {
            "workload list": "/workloads/",
            "dashboard": "/dashboard/",
            "lens review overview": review_url,
            "question page": question_url,
            "reports page": reports_url,
            "milestones": f"/workloads/{plan.public_id}/milestones/",
            "report download": f"{reports_url}{first}/download/",
        }
        for name, url in pages.items():
            response, seconds = person.get(url)
            outcome.check(f"{name} works", response.status_code == 200, f"{seconds * 1000:.0f} ms")
        response, seconds = person.post(
            f"{question_url}choices/{choice}/", {"status": "SELECTED"}, htmx=True
        )
        outcome.check(
            "ticking a choice works",
            response.status_code == 200 and 'class="errors"' not in response.text,
            f"{seconds * 1000:.0f} ms",
        )
        from reviews.models import Answer

        notes_version = Answer.objects.get(
            lens_review_id=plan.review_pk, question__question_id=question
        ).notes_version
        response, seconds = person.post(
            f"{question_url}notes/",
            {"notes": "Saved while Redis was down.", "notes_version": str(notes_version)},
            htmx=True,
        )
        outcome.check(
            "saving notes works",
            response.status_code == 200 and "data-notes-saved" in response.text,
            f"{seconds * 1000:.0f} ms",
        )

        run.redis.start()
        print("  Redis started again (empty: it keeps nothing on disk)", flush=True)
        started = time.monotonic()
        person.post(reports_url, ask)
        again = newest_report_id(plan)
        built = wait_for(lambda: report_row(again).status == "DONE", 120)
        outcome.check(
            "reports are built again without restarting anything",
            built is not None,
            f"report asked for and built {time.monotonic() - started:.1f} s after Redis started",
        )
        person.post(f"{reports_url}{refused}/retry/", {})
        retried = wait_for(lambda: report_row(refused).status == "DONE", 90)
        outcome.check("the refused report can be retried", retried is not None)
        response, _ = person.get("/healthz")
        outcome.check("/healthz: broker ok again", response.json().get("broker") == "ok")
    finally:
        person.close()
        worker.stop()
        server.stop()
    return outcome


# -- a worker killed in the middle of a report ----------------------------------------------------


def scenario_worker(args, run: Run) -> Outcome:
    """SIGKILL the worker building a report: another one finishes it, or it fails, never stuck."""
    outcome = Outcome("worker")
    env = run.env(
        REPORT_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS), REPORT_STALE_SECONDS=str(STALE_SECONDS)
    )
    server = run.gunicorn(load.parse_args(["--workers", "2", "--threads", "4"]), "worker", env)
    workers = {w.hostname: w for w in (run.worker("a", env), run.worker("b", env))}
    person = Browser(server.base_url, "load-owner")
    plan = run.plan
    reports_url = f"/workloads/{plan.public_id}/reports/"
    ask = {"lens": plan.alias, "milestone": "", "paper": "A4"}
    spare = iter("cdefgh")
    print(f"  heartbeat every {HEARTBEAT_SECONDS} s, stale after {STALE_SECONDS} s; 2 workers")

    def start_report() -> int:
        person.post(reports_url, ask)
        return newest_report_id(plan)

    def kill_while_running(report_id: int, attempt: int, *, child_only: bool) -> tuple[str, float]:
        """Wait until a worker builds the report, kill it, start a fresh one in its place."""
        running = wait_for(
            lambda: (r := report_row(report_id)).status == "RUNNING" and r.attempts == attempt,
            60,
            while_waiting=watch(report_id),
        )
        if running is None:
            row = report_row(report_id)
            raise SystemExit(f"attempt {attempt} of report {report_id} never ran: {row.status}")
        victim = workers[report_row(report_id).worker]
        victim.kill(child_only=child_only)
        killed_at = time.monotonic()
        if not child_only:
            del workers[victim.hostname]
            # It boots while the report is recovered: the next attempt may well be its own.
            fresh = run.worker(next(spare), env, wait=False)
            workers[fresh.hostname] = fresh
        return victim.hostname, killed_at

    def watch(report_id: int):
        # What the browser of the person who asked does: poll the report's row every 2 s.
        return lambda: person.get(f"{reports_url}{report_id}/", headers={"HX-Request": "true"})

    try:
        for case, child_only in (("the whole worker", False), ("only its build process", True)):
            print(f"  killing {case} (SIGKILL) in the middle of a report", flush=True)
            report_id = start_report()
            victim, killed_at = kill_while_running(report_id, 1, child_only=child_only)
            wait_for(
                lambda report_id=report_id: report_row(report_id).status in ("DONE", "FAILED"),
                120,
                while_waiting=watch(report_id),
            )
            row = report_row(report_id)
            outcome.check(
                f"killing {case}: the report is completed",
                row.status == "DONE" and row.attempts == 2,
                f"{row.status}, attempt {row.attempts}, killed on {victim}, built by {row.worker}",
            )
            outcome.figure(
                f"killing {case}: done after", round(time.monotonic() - killed_at, 1), "s"
            )
            response, _ = person.get(f"{reports_url}{report_id}/download/")
            outcome.check(
                f"killing {case}: the PDF downloads",
                response.status_code == 200 and response.content.startswith(b"%PDF"),
            )

        print("  killing every worker that takes the same report, three times", flush=True)
        report_id = start_report()
        started = time.monotonic()
        for attempt in (1, 2, 3):
            kill_while_running(report_id, attempt, child_only=False)
        failed = wait_for(
            lambda: report_row(report_id).status == "FAILED", 60, while_waiting=watch(report_id)
        )
        row = report_row(report_id)
        response, _ = person.get(f"{reports_url}{report_id}/")
        outcome.check(
            "a report whose worker dies three times fails with a message",
            failed is not None and row.attempts == 3 and "stopped answering" in row.error,
            f"{row.status} after {time.monotonic() - started:.1f} s: {row.error}",
        )
        outcome.check("the report page shows that message", "stopped answering" in response.text)
        response, _ = person.post(f"{reports_url}{report_id}/retry/", {})
        retried = wait_for(lambda: report_row(report_id).status == "DONE", 90)
        outcome.check("retrying it builds it", retried is not None)
    finally:
        person.close()
        for worker in workers.values():
            worker.stop()
        server.stop()
    return outcome


# -- the run --------------------------------------------------------------------------------------


class Run:
    """The servers, the app's environment and the seeded workshop, shared by the scenarios."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres = Postgres(folder / "postgres")
        self.redis = Redis(folder / "redis")
        self.database_url = self.postgres.url(DATABASE)
        self.secret_key = secrets.token_urlsafe(50)
        self.plan: load.Plan | None = None
        self.started: list[Gunicorn | Worker] = []

    def env(self, **extra: str) -> dict[str, str]:
        arguments = load.parse_args(["--database-url", self.database_url])
        env = load.app_env(arguments, self.folder, self.secret_key)
        env.update(CELERY_BROKER_URL=self.redis.url, **extra)
        return env

    def set_up(self, users: int) -> None:
        self.postgres.create()
        self.postgres.start()
        self.redis.start()
        env = self.env()
        load.prepare(env, self.database_url)
        load.django_setup(env)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.plan = load.seed(users, 4)

    def gunicorn(self, arguments, name: str, env: dict[str, str] | None = None) -> Gunicorn:
        server = Gunicorn(arguments, env or self.env(), self.folder / f"gunicorn-{name}.log")
        self.started.append(server)
        server.start()
        server.wait_ready()
        return server

    def worker(self, name: str, env: dict[str, str], wait: bool = True) -> Worker:
        worker = Worker(name, env, self.folder).start()
        self.started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    def tear_down(self) -> None:
        for process in reversed(self.started):
            with contextlib.suppress(Exception):
                process.stop()
        with contextlib.suppress(Exception):
            self.redis.stop()
        if self.postgres.running():
            with contextlib.suppress(Exception):
                self.postgres.stop("immediate")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    signal.signal(signal.SIGTERM, load.interrupt)
    folder = Path(tempfile.mkdtemp(prefix="archlens-faults-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    run = Run(folder)
    outcomes: list[Outcome] = []
    failed = True
    try:
        print(f"Own PostgreSQL on port {run.postgres.port}, Redis on port {run.redis.port}")
        print(f"(work folder {folder})")
        run.set_up(args.users)
        scenarios = {
            "postgres": scenario_postgres,
            "redis": scenario_redis,
            "worker": scenario_worker,
        }
        for name in args.scenarios:
            print(f"\n== {scenarios[name].__doc__.splitlines()[0]}")
            outcomes.append(scenarios[name](args, run))
        failed = not all(outcome.ok for outcome in outcomes)
        if args.json:
            results = [
                {"scenario": o.scenario, "ok": o.ok, "checks": o.checks, "figures": o.figures}
                for o in outcomes
            ]
            args.json.write_text(json.dumps(results, indent=2, default=str))
        print()
        verdict = "FAILED" if failed else "OK: every fault was survived as expected"
        print(f"{verdict} ({time.monotonic() - began:.0f} s in all)")
        return 1 if failed else 0
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        run.tear_down()
        if failed or args.keep:
            print(f"Work folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
