"""Workshop load test (issue #6): many participants answer one workload at once.

Runs Archlens under gunicorn on a throw-away PostgreSQL database, on loopback only, and drives
simulated participants through the workshop screen: open a question, poll it, tick and untick
choices, write notes (saving again with the newer version after a conflict, as a person would).
Afterwards it checks every acknowledged change against the database and the audit trail
(AnswerEvent), measures the answer-save throughput against a trivial view under the same
concurrency, prints the figures and exits non-zero on a lost or phantom update or an
unexpected error. `make load` runs it; bench/README.md explains the checks.

    .venv/bin/python bench/load_workshop.py [--users 50] [--seconds 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import random
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/archlens_load"
PASSWORD = "load-test-" + secrets.token_hex(8)
UNSELECTED, SELECTED = "UNSELECTED", "SELECTED"
# Server timestamps (AnswerEvent.at) and client timestamps come from the same clock; this only
# absorbs rounding to microseconds.
CLOCK_SLACK = 0.002
# gunicorn (gunicorn.conf.py) closes idle connections after SERVER_KEEPALIVE s; clients drop
# theirs a second sooner, or a request sent just as the server closes fails with "Server
# disconnected" (a browser would retry). Both outlast a page's pause between two polls.
SERVER_KEEPALIVE = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["keepalive"]
CLIENT_KEEPALIVE = SERVER_KEEPALIVE - 1.0

# The token of what the page shows sits on the element that polls (the forms send it along);
# before issue 13 that was the live region itself.
LIVE_VERSION = re.compile(r'id="question-(?:poll|live)"[^>]*\bdata-version="([^"]+)"', re.S)
CHOICE_ITEM = re.compile(
    r'<li class="answer-choice(?: none-choice)? choice-([A-Z_]+)" id="choice-\d+"'
    r'(?: hx-swap-oob="true")?>\s*'
    r'<form method="post" action="[^"]*/choices/([^/"]+)/"'
)
WHOLE_REGION = '<section id="question-live"'
# A view that only reads the session and the user (bench/bench_urls.py, served through
# bench/bench_settings.py): what every logged-in request costs at least.
AUTHENTICATED_TRIVIAL = "/bench/trivial/"
NOTES_VERSION = re.compile(r'name="notes_version" value="(\d+)"')
# How often the question page polls (hx-trigger="every 2s" in reviews/question.html).
POLL_SECONDS = 2.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="participants (default 50)")
    parser.add_argument(
        "--writers",
        type=int,
        default=None,
        help="how many of them tick and write notes; the others only watch: their page polls"
        " every 2 s and now and then they open another question (default: all write)",
    )
    parser.add_argument("--seconds", type=float, default=60, help="workshop length (default 60)")
    parser.add_argument(
        "--questions", type=int, default=4, help="questions they share, so they collide (4)"
    )
    parser.add_argument(
        "--think", type=float, default=0.5, help="mean pause between actions in s (0.5)"
    )
    parser.add_argument(
        "--burst-seconds",
        type=float,
        default=5,
        help="length of each throughput burst (trivial view, then answer saves; default 5)",
    )
    parser.add_argument(
        "--trivial-path",
        default="/healthz",
        help="the trivial view for the throughput ratio (/healthz, else the login page)",
    )
    parser.add_argument("--timeout", type=float, default=10, help="per-request timeout in s (10)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (4)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to DROP and re-create; its name must contain 'load' "
        f"(LOAD_DATABASE_URL, default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for the participants")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (logs, static files)"
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0 or args.questions < 1 or args.timeout <= 0:
        parser.error("--users, --seconds, --questions and --timeout must be positive")
    if args.writers is None:
        args.writers = args.users
    if not 0 <= args.writers <= args.users:
        parser.error("--writers must be between 0 and --users")
    return args


# -- set-up ---------------------------------------------------------------------------------------


def app_env(args: argparse.Namespace, workdir: Path, secret_key: str) -> dict[str, str]:
    """The environment of every Django process of the run: production settings, plain HTTP."""
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY_FILE"}
    var = workdir / "var"
    env.update(
        # Production settings plus the trivial authenticated view (bench/bench_settings.py).
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), *filter(None, [env.get("PYTHONPATH")])]),
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL="filesystem://",
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS="",
        # Loopback HTTP: no secure cookies, no HTTPS redirect, no HSTS, no proxy headers.
        SECURE_COOKIES="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        SECURE_PROXY_SSL_HEADER="0",
        TRUSTED_PROXY_COUNT="0",
        ARCHLENS_VAR_DIR=str(var),
        MEDIA_ROOT=str(var / "media"),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    return env


def reset_database(url: str, marker: str = "load") -> None:
    """DROP and CREATE the database of `url` (its name must contain `marker`), connected to the
    `postgres` database."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    name = params.get("dbname") or ""
    if marker not in name:
        raise SystemExit(f"Refusing to drop database {name!r}: its name must contain {marker!r}.")
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict[str, str], *command: str) -> subprocess.Popen:
    """Start `manage.py command`; `finish()` waits for it."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.started = time.monotonic()  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen) -> None:
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    command = " ".join(process.args[2:3])  # type: ignore[index]
    if process.returncode != 0:
        sys.stderr.write(output[-6000:])
        raise SystemExit(f"manage.py {command} failed ({process.returncode}).")
    print(f"  manage.py {command}: {time.monotonic() - process.started:.1f} s")  # type: ignore[attr-defined]


def prepare(env: dict[str, str], database_url: str) -> None:
    """A new database with the built-in lens, and the static files a DEBUG=0 server needs."""
    reset_database(database_url)
    # DEBUG=0 serves hashed static file names: the manifest must exist, and migrate's system
    # checks refuse to run without it (archlens.E001), so it comes first.
    finish(manage(env, "collectstatic", "--no-input", "--verbosity", "0"))
    finish(manage(env, "migrate", "--no-input"))
    finish(manage(env, "load_builtin_lens"))


def django_setup(env: dict[str, str]) -> None:
    """Use the run's settings in this process too (for seeding and checking, never during load)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass
class Plan:
    public_id: str
    alias: str
    review_pk: int
    usernames: list[str]
    # question_id -> the choice ids participants tick (never the exclusive "none" choice, whose
    # side effect of unticking the others would make "last write wins" per choice meaningless)
    questions: dict[str, list[str]]


def seed(users: int, questions: int) -> Plan:
    """Participants, and one workload shared with all of them as contributors."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import connections

    from lenses.models import Choice, Question
    from lenses.services import BUILTIN_ALIAS
    from reviews.models import Role, Workload
    from reviews.services import workload_create, workload_share

    hashed = make_password(PASSWORD)  # once: hashing 50 passwords would take a while
    owner = User.objects.create(username="load-owner", password=hashed)
    usernames = [f"load-user-{n:03d}" for n in range(1, users + 1)]
    User.objects.bulk_create(User(username=name, password=hashed) for name in usernames)
    workload = workload_create(
        owner=owner,
        name="Load test workshop",
        description="Simulated participants answering at once.",
        environment=Workload.Environment.PREPRODUCTION,
        review_owner="load-owner",
    )
    for user in User.objects.filter(username__in=usernames):
        workload_share(workload=workload, user=user, role=Role.CONTRIBUTOR)
    review = workload.lens_reviews.select_related("lens").get(lens__alias=BUILTIN_ALIAS)
    chosen = Question.objects.filter(lens_version=review.lens_version).order_by(
        "pillar__order", "order"
    )[:questions]
    plan = Plan(
        public_id=workload.public_id,
        alias=review.lens.alias,
        review_pk=review.pk,
        usernames=usernames,
        questions={
            q.question_id: list(
                Choice.objects.filter(question=q, is_none=False)
                .order_by("order")
                .values_list("choice_id", flat=True)
            )
            for q in chosen
        },
    )
    connections.close_all()
    return plan


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn in its own process group; `stop()` ends exactly that group."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            # Not the shared ~/.gunicorn/gunicorn.ctl of every other gunicorn on the machine.
            "--no-control-socket",
        ]
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                response = httpx.get(self.base_url + "/accounts/login/", timeout=2, trust_env=False)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"gunicorn did not answer on {self.base_url}.\n{tail}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid  # start_new_session: the group id is gunicorn's own pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)


# -- participants ---------------------------------------------------------------------------------


@dataclass
class ChoiceRequest:
    user: str
    question: str
    choice: str
    status: str  # the state the participant asked for
    t_send: float  # wall clock, comparable with AnswerEvent.at
    t_ack: float  # wall clock of the response; inf when no response came back
    outcome: str  # "ack" (2xx, the page shows the asked state) or "failed"
    phase: str


@dataclass
class NotesRequest:
    user: str
    question: str
    text: str
    base_version: int
    t_send: float
    t_ack: float
    outcome: str  # "saved", "conflict" or "failed"
    phase: str


@dataclass
class Ledger:
    samples: list[tuple[str, str, float, int]] = field(default_factory=list)  # phase, kind, s, code
    errors: list[tuple[str, str]] = field(default_factory=list)  # kind, detail
    # For each error: when its request was sent and when it failed (time.time()).
    error_times: list[tuple[float, float]] = field(default_factory=list)
    choices: list[ChoiceRequest] = field(default_factory=list)
    notes: list[NotesRequest] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    trivial_path: str = ""
    machine: dict[str, float] = field(default_factory=dict)
    # (request kind, what came back): "204", "part" (out-of-band pieces) or "whole" (the region)
    shapes: Counter = field(default_factory=Counter)
    # CPU seconds the server's processes used in each phase
    server_cpu: dict[str, float] = field(default_factory=dict)

    def shape(self, kind: str, response: httpx.Response) -> None:
        if response.status_code == 204:
            self.shapes[(kind, "204")] += 1
        else:
            self.shapes[(kind, "whole" if WHOLE_REGION in response.text else "part")] += 1

    def error(self, kind: str, detail: str, sent: float | None = None) -> None:
        now = time.time()
        self.errors.append((kind, detail[:300]))
        self.error_times.append((now if sent is None else sent, now))


class Participant:
    def __init__(
        self,
        username: str,
        base_url: str,
        plan: Plan,
        ledger: Ledger,
        args: argparse.Namespace,
        rng: random.Random,
    ) -> None:
        self.username = username
        self.plan = plan
        self.ledger = ledger
        self.args = args
        self.rng = rng
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=args.timeout,
            trust_env=False,  # loopback only, never through a proxy
            limits=httpx.Limits(keepalive_expiry=CLIENT_KEEPALIVE),
            follow_redirects=False,
        )
        self.phase = "login"
        self.question = ""
        self.version = "0"
        self.notes_version = 0
        self.states: dict[str, str] = {}
        self.edits = 0

    def url(self, question: str) -> str:
        return f"/workloads/{self.plan.public_id}/lenses/{self.plan.alias}/questions/{question}/"

    async def send(
        self,
        kind: str,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        htmx: bool = False,
        expect: tuple[int, ...] = (200,),
        timeout: float | None = None,
    ) -> tuple[httpx.Response | None, float, float]:
        """One request, timed; returns the response (None on failure) and its wall-clock span."""
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "POST":
            token = self.client.cookies.get("csrftoken", "")
            headers["X-CSRFToken"] = token
            data = {"csrfmiddlewaretoken": token, **(data or {})}
        t_send = time.time()
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout or self.args.timeout,
            )
        except httpx.TimeoutException:
            self.ledger.samples.append((self.phase, kind, time.perf_counter() - started, 0))
            self.ledger.error(f"{kind} timeout", f"{method} {url}", t_send)
            return None, t_send, math.inf
        except httpx.HTTPError as problem:
            self.ledger.samples.append((self.phase, kind, time.perf_counter() - started, 0))
            self.ledger.error(
                f"{kind} {type(problem).__name__}", f"{method} {url}: {problem}", t_send
            )
            return None, t_send, math.inf
        elapsed = time.perf_counter() - started
        t_ack = time.time()
        self.ledger.samples.append((self.phase, kind, elapsed, response.status_code))
        if response.status_code not in expect:
            self.ledger.error(
                f"{kind} HTTP {response.status_code}",
                f"{method} {url}: {response.text[:200]}",
                t_send,
            )
            return None, t_send, t_ack
        return response, t_send, t_ack

    async def login(self) -> bool:
        got, _, _ = await self.send("login page", "GET", "/accounts/login/", timeout=120)
        if got is None:
            return False
        done, _, _ = await self.send(
            "login",
            "POST",
            "/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "next": ""},
            expect=(302,),
            timeout=120,  # password hashing is slow on purpose, and everyone arrives at once
        )
        if done is None or "sessionid" not in self.client.cookies:
            self.ledger.error("login refused", self.username)
            return False
        return True

    def read_live(self, html: str) -> None:
        if match := LIVE_VERSION.search(html):
            self.version = match.group(1)
        for status, choice in CHOICE_ITEM.findall(html):
            self.states[choice] = status

    def read_notes_version(self, html: str) -> None:
        if match := NOTES_VERSION.search(html):
            self.notes_version = int(match.group(1))

    async def open_question(self, question: str) -> None:
        self.question = question
        self.states = {}
        response, _, _ = await self.send("question page", "GET", self.url(question))
        if response is not None:
            self.read_live(response.text)
            self.read_notes_version(response.text)

    async def poll(self) -> None:
        response, _, _ = await self.send(
            "poll",
            "GET",
            self.url(self.question) + "poll/",
            params={"v": self.version},
            htmx=True,
            expect=(200, 204),
        )
        if response is not None:
            self.ledger.shape("poll", response)
        if response is not None and response.status_code == 200:
            self.read_live(response.text)
            self.read_notes_version(response.text)  # the editor is swapped while nobody types

    async def toggle(self, question: str, kind: str = "choice") -> None:
        choice = self.rng.choice(self.plan.questions[question])
        known = self.states.get(choice, UNSELECTED) if question == self.question else None
        if known is None:
            wanted = self.rng.choice((SELECTED, UNSELECTED))
        else:
            wanted = UNSELECTED if known == SELECTED else SELECTED
        # An unticked checkbox sends nothing, exactly like the browser form; the page's token
        # goes along (hx-include), so the server knows what the page shows.
        data = {"status": SELECTED} if wanted == SELECTED else {}
        if question == self.question:
            data["v"] = self.version
        response, t_send, t_ack = await self.send(
            kind,
            "POST",
            self.url(question) + f"choices/{choice}/",
            data=data,
            htmx=True,
            expect=(200, 204),
        )
        outcome = "failed"
        if response is not None:
            self.ledger.shape(kind, response)
        if response is not None and response.status_code == 204:
            # The choice was already in that state: nothing to do, the server says so at once.
            outcome = "ack"
            if question == self.question:
                self.states[choice] = wanted
        elif response is not None:
            html = response.text
            shown = {c: s for s, c in CHOICE_ITEM.findall(html)}
            if 'class="errors" role="alert"' in html:
                refusal = html[html.find('class="errors"') :][:200]
                self.ledger.error(f"{kind} refused", refusal, t_send)
            elif shown.get(choice) != wanted:
                self.ledger.error(
                    f"{kind} acknowledged the wrong state",
                    f"{question}/{choice}: asked {wanted}, page shows {shown.get(choice)}",
                    t_send,
                )
            else:
                outcome = "ack"
            if question == self.question:
                self.read_live(html)
        self.ledger.choices.append(
            ChoiceRequest(
                self.username, question, choice, wanted, t_send, t_ack, outcome, self.phase
            )
        )

    async def write_notes(self, deadline: float) -> None:
        """Type for a moment, save; after a conflict keep my text and save on the newer version."""
        base = self.notes_version
        self.edits += 1
        text = f"{self.username} edit {self.edits}: {self.rng.choice(PHRASES)}"
        typing = self.rng.uniform(0.2, 1.5)
        if time.monotonic() + typing >= deadline:
            return
        await asyncio.sleep(typing)
        for _ in range(3):
            response, t_send, t_ack = await self.send(
                "notes",
                "POST",
                self.url(self.question) + "notes/",
                data={"notes": text, "notes_version": str(base), "next": self.url(self.question)},
                htmx=True,
            )
            outcome, html = "failed", response.text if response is not None else ""
            if "data-notes-saved" in html:
                outcome = "saved"
            elif 'class="conflict"' in html:
                outcome = "conflict"
            elif response is not None:
                self.ledger.error("notes refused", html[:200], t_send)
            self.ledger.notes.append(
                NotesRequest(
                    self.username, self.question, text, base, t_send, t_ack, outcome, self.phase
                )
            )
            match = NOTES_VERSION.search(html)
            if outcome == "saved" and match:
                self.notes_version = int(match.group(1))
                return
            if outcome != "conflict" or not match:
                return
            base = int(match.group(1))  # the version shown beside their text
            await asyncio.sleep(self.rng.uniform(0.1, 0.5))  # read theirs, decide to keep mine

    async def pause(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left > 0:
            await asyncio.sleep(min(left, self.rng.uniform(0, 2 * self.args.think)))

    async def workshop(self, deadline: float, *, writes: bool = True) -> None:
        self.phase = "workshop"
        questions = list(self.plan.questions)
        await self.open_question(self.rng.choice(questions))
        if not writes:
            await self.watch(deadline, questions)
            return
        while time.monotonic() < deadline:
            roll = self.rng.random()
            if roll < 0.08:
                await self.open_question(self.rng.choice(questions))
            elif roll < 0.55:
                await self.poll()
            elif roll < 0.94:
                await self.toggle(self.question)
            else:
                await self.write_notes(deadline)
            await self.pause(deadline)

    async def watch(self, deadline: float, questions: list[str]) -> None:
        """What a page left open does (question.html): poll every 2 s; now and then its reader
        moves on to another question."""
        await asyncio.sleep(self.rng.uniform(0, POLL_SECONDS))  # pages opened at other moments
        while time.monotonic() < deadline:
            if self.rng.random() < 0.08:
                await self.open_question(self.rng.choice(questions))
            else:
                await self.poll()
            left = deadline - time.monotonic()
            if left > 0:
                await asyncio.sleep(min(left, POLL_SECONDS))

    async def burst_trivial(self, deadline: float, path: str, phase: str = "burst trivial") -> None:
        self.phase = phase
        while time.monotonic() < deadline:
            await self.send("trivial view", "GET", path)

    async def burst_saves(self, deadline: float) -> None:
        self.phase = "burst saves"
        questions = list(self.plan.questions)
        while time.monotonic() < deadline:
            await self.toggle(self.rng.choice(questions), kind="answer save")

    async def burst_ticks(self, deadline: float) -> None:
        """Ticks as the question page sends them: on the question it shows, with its token."""
        self.phase = "burst ticks"
        while time.monotonic() < deadline:
            await self.toggle(self.question, kind="page tick")


PHRASES = [
    "Runbooks live in the ops wiki; on-call reviews them quarterly.",
    "No game days yet; the team wants one before the next release.",
    "Deployments are automated except for the database migrations.",
    "Alarms page the on-call engineer; dashboards need an owner.",
    "We still need to confirm this with the security team.",
]


LOCKED_TABLE = re.compile(r'(UPDATE|INSERT INTO|FROM) "(\w+)"')


async def lock_sampler(url: str, stop: asyncio.Event, samples: list[list[str]]) -> None:
    """Every 0.25 s: the sessions of the load database that wait for a lock, and on what.

    While the database is away (bench/faults.py restarts it) it tries to connect again.
    """
    dbname = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=2)
            async with conn:
                while not stop.is_set():
                    samples.append(await _lock_waits(conn, dbname))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.25)
        except psycopg.Error:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


async def _lock_waits(conn: psycopg.AsyncConnection, dbname: str | None) -> list[str]:
    cursor = await conn.execute(
        "SELECT wait_event, query FROM pg_stat_activity"
        " WHERE datname = %s AND wait_event_type = 'Lock'",
        (dbname,),
    )
    waiting = []
    for wait_event, query in await cursor.fetchall():
        match = LOCKED_TABLE.search(query or "")
        statement = f"{match.group(1)} {match.group(2)}" if match else "?"
        if "FOR UPDATE" in (query or ""):
            statement += " FOR UPDATE"
        waiting.append(f"{statement} ({wait_event})")
    return waiting


def process_group_cpu(pgid: int | None) -> float:
    """CPU seconds (user and system) used so far by the live processes of group `pgid`: the
    gunicorn master and its workers. 0 when unknown (no /proc)."""
    if pgid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid pgrp ...; utime and stime are fields 14 and 15 of stat
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


async def drive(
    args: argparse.Namespace,
    base_url: str,
    plan: Plan,
    ledger: Ledger,
    lock_waits: list[list[str]],
    server_pgid: int | None = None,
) -> int:
    rng = random.Random(args.seed)
    people = [
        Participant(name, base_url, plan, ledger, args, random.Random(rng.random()))
        for name in plan.usernames
    ]
    stop_sampler = asyncio.Event()
    sampler = asyncio.create_task(lock_sampler(args.database_url, stop_sampler, lock_waits))
    try:
        started = time.monotonic()
        # People arrive over a few seconds; password hashing is deliberately slow.
        gate = asyncio.Semaphore(max(2, args.workers * 2))

        async def arrive(person: Participant) -> bool:
            async with gate:
                return await person.login()

        logged_in = await asyncio.gather(*(arrive(p) for p in people))
        ledger.phase_seconds["login"] = time.monotonic() - started
        present = [p for p, ok in zip(people, logged_in, strict=True) if ok]
        print(f"  {len(present)} of {len(people)} participants logged in", end="")
        print(f" in {ledger.phase_seconds['login']:.1f} s")
        if not present:
            return 0

        print(f"  workshop: {len(present)} participants for {args.seconds:g} s ...", flush=True)
        started = time.monotonic()
        deadline = started + args.seconds
        cpu = process_group_cpu(server_pgid)
        await asyncio.gather(
            *(p.workshop(deadline, writes=n < args.writers) for n, p in enumerate(present))
        )
        ledger.phase_seconds["workshop"] = time.monotonic() - started
        ledger.server_cpu["workshop"] = process_group_cpu(server_pgid) - cpu

        if args.burst_seconds > 0:
            trivial = args.trivial_path
            try:
                probe = await present[0].client.get(trivial)
                if probe.status_code != 200:
                    trivial = "/accounts/login/"
            except httpx.HTTPError:
                trivial = "/accounts/login/"
            ledger.trivial_path = trivial
            print(
                f"  bursts: {trivial}, {AUTHENTICATED_TRIVIAL} (logged in), answer saves,"
                f" page ticks, {args.burst_seconds:g} s each ..."
            )
            bursts = [
                ("burst trivial", lambda p, d: p.burst_trivial(d, trivial)),
                (
                    "burst authenticated",
                    lambda p, d: p.burst_trivial(d, AUTHENTICATED_TRIVIAL, "burst authenticated"),
                ),
                ("burst saves", lambda p, d: p.burst_saves(d)),
                ("burst ticks", lambda p, d: p.burst_ticks(d)),
            ]
            for phase, run in bursts:
                started = time.monotonic()
                deadline = started + args.burst_seconds
                cpu = process_group_cpu(server_pgid)
                await asyncio.gather(*(run(p, deadline) for p in present))
                ledger.phase_seconds[phase] = time.monotonic() - started
                ledger.server_cpu[phase] = process_group_cpu(server_pgid) - cpu
        return len(present)
    finally:
        stop_sampler.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sampler, 5)
        await asyncio.gather(*(p.client.aclose() for p in people), return_exceptions=True)


# -- checking -------------------------------------------------------------------------------------


@dataclass
class Check:
    events: int = 0
    choice_events: int = 0
    notes_events: int = 0
    choice_acks: int = 0
    acks_with_event: int = 0
    acks_noop: int = 0
    events_from_unacknowledged: int = 0
    notes_saved: int = 0
    notes_conflicts: int = 0
    choices_touched: int = 0
    lost: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)


def verify(plan: Plan, ledger: Ledger) -> Check:
    """Compare what the participants were told with the database and its audit trail."""
    from reviews.models import Answer, AnswerEvent, ChoiceAnswer

    check = Check()
    events = list(
        AnswerEvent.objects.order_by("pk").values_list(
            "pk", "answer__question__question_id", "user__username", "at", "changes"
        )
    )
    check.events = len(events)
    final_choices = {
        (q, c): s
        for q, c, s in ChoiceAnswer.objects.filter(
            answer__lens_review_id=plan.review_pk
        ).values_list("answer__question__question_id", "choice__choice_id", "status")
    }
    final_notes = dict(
        Answer.objects.filter(lens_review_id=plan.review_pk).values_list(
            "question__question_id", "notes"
        )
    )

    # Every request of one participant, in the order it sent them (one at a time).
    by_user: dict[str, list[ChoiceRequest | NotesRequest]] = defaultdict(list)
    for request in [*ledger.choices, *ledger.notes]:
        by_user[request.user].append(request)
    matched: dict[int, int] = {}  # id(request) -> event pk

    def window(request: ChoiceRequest | NotesRequest, at: float) -> bool:
        return request.t_send - CLOCK_SLACK <= at <= request.t_ack + CLOCK_SLACK

    # Each event was caused by exactly one request of its user that was in flight at the time
    # and asked for exactly that change; anything else is a phantom update.
    chains: dict[tuple[str, str], list[tuple[float, str, str]]] = defaultdict(list)
    notes_chains: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for pk, question, user, at_dt, changes in events:
        at = at_dt.timestamp()
        choice_changes = [c for c in changes if c.get("field") == "choice"]
        notes_changes = [c for c in changes if c.get("field") == "notes"]
        other = [c for c in changes if c.get("field") not in {"choice", "notes", "risk"}]
        if other or len(choice_changes) + len(notes_changes) != 1:
            check.phantom.append(f"event {pk} by {user} on {question}: unexpected {changes}")
            continue
        if choice_changes:
            change = choice_changes[0]
            check.choice_events += 1
            chains[(question, change["choice"])].append((at, change["before"], change["after"]))

            def fits(r, question=question, change=change, at=at) -> bool:
                return (
                    isinstance(r, ChoiceRequest)
                    and r.question == question
                    and r.choice == change["choice"]
                    and r.status == change["after"]
                    and window(r, at)
                )
        else:
            change = notes_changes[0]
            check.notes_events += 1
            notes_chains[question].append((at, change["before"], change["after"]))

            def fits(r, question=question, change=change, at=at) -> bool:
                return (
                    isinstance(r, NotesRequest)
                    and r.question == question
                    and r.text == change["after"]
                    and r.outcome != "conflict"  # a refused save must not have written
                    and window(r, at)
                )

        candidates = [r for r in by_user.get(user, []) if id(r) not in matched and fits(r)]
        if not candidates:
            check.phantom.append(
                f"event {pk} by {user} on {question}: {change} matches no request in flight"
            )
            continue
        # A request that timed out stays "in flight" for ever: prefer one that was answered.
        cause = min(candidates, key=lambda r: (math.isinf(r.t_ack), r.t_send))
        matched[id(cause)] = pk
        if cause.outcome not in {"ack", "saved"}:
            check.events_from_unacknowledged += 1

    # The audit trail of each choice and of each question's notes is one unbroken chain that
    # ends in the stored state; a break means a change was overwritten without a trace.
    for (question, choice), chain in chains.items():
        state = UNSELECTED
        for at, before, after in chain:
            if before != state:
                check.lost.append(f"{question}/{choice}: event at {at:.6f} starts from {before}")
            state = after
        stored = final_choices.get((question, choice), UNSELECTED)
        if stored != state:
            check.lost.append(f"{question}/{choice}: stored {stored}, last event says {state}")
    for question, chain in notes_chains.items():
        state = ""
        for at, before, after in chain:
            if before != state:
                check.lost.append(f"notes of {question}: event at {at:.6f} starts elsewhere")
            state = after
        if final_notes.get(question, "") != state:
            check.lost.append(f"notes of {question}: stored text is not the last saved one")

    def state_between(chain: list[tuple[float, str, str]], start: float, end: float, first: str):
        """Every state the item had between `start` and `end` (from the event timestamps)."""
        states, current = set(), first
        for at, _, after in chain:
            if at <= start:
                current = after
            elif at <= end:
                states.add(after)
        states.add(current)
        return states

    # Every acknowledged choice change left an event, unless the choice already had that state
    # while the request was in flight (a no-op writes nothing).
    touched: dict[tuple[str, str], list[ChoiceRequest]] = defaultdict(list)
    for r in ledger.choices:
        touched[(r.question, r.choice)].append(r)
        if r.outcome != "ack":
            continue
        check.choice_acks += 1
        if id(r) in matched:
            check.acks_with_event += 1
        elif r.status in state_between(
            chains.get((r.question, r.choice), []), r.t_send, r.t_ack, UNSELECTED
        ):
            check.acks_noop += 1
        else:
            check.lost.append(
                f"{r.user} {r.question}/{r.choice} -> {r.status} acknowledged, never applied"
            )
    for r in ledger.notes:
        if r.outcome == "conflict":
            check.notes_conflicts += 1
        if r.outcome != "saved":
            continue
        check.notes_saved += 1
        if id(r) not in matched:
            check.lost.append(f"{r.user} notes of {r.question} saved, no event")

    # Client-side view of "last write wins": the stored state is what one of the requests that
    # may have been the last (none acknowledged before another one was sent) asked for.
    check.choices_touched = len(touched)
    for (question, choice), requests in touched.items():
        # A request that got no answer may or may not have applied: the chain check covers it.
        known = [r for r in requests if r.outcome == "ack" or id(r) in matched]
        if not known:
            continue
        latest_send = max(r.t_send for r in known)
        last = {r.status for r in known if r.t_ack >= latest_send}
        stored = final_choices.get((question, choice), UNSELECTED)
        if stored not in last:
            check.lost.append(f"{question}/{choice}: stored {stored}, last requests asked {last}")
    notes_by_question: dict[str, list[NotesRequest]] = defaultdict(list)
    for r in ledger.notes:
        if r.outcome == "saved" or (id(r) in matched):
            notes_by_question[r.question].append(r)
    for question, saves in notes_by_question.items():
        latest_send = max(r.t_send for r in saves)
        last = {r.text for r in saves if r.t_ack >= latest_send}
        if final_notes.get(question, "") not in last:
            check.lost.append(f"notes of {question}: stored text is none of the last saves")
    return check


# -- report ---------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


def latency_table(ledger: Ledger, phase: str) -> list[dict]:
    kinds: dict[str, list[float]] = defaultdict(list)
    for sample_phase, kind, seconds, code in ledger.samples:
        if sample_phase == phase:
            if kind == "poll":
                kind = {200: "poll, changed", 204: "poll, 204"}.get(code, "poll, failed")
            kinds[kind].append(seconds)
    rows = []
    for kind, values in sorted(kinds.items()):
        rows.append(row_for(kind, values))
    if phase == "workshop" and rows:
        rows.append(row_for("overall", [v for values in kinds.values() for v in values]))
    return rows


def row_for(kind: str, values: list[float]) -> dict:
    return {
        "kind": kind,
        "count": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": max(values) * 1000,
    }


def print_table(rows: list[dict], seconds: float, header: bool = True) -> None:
    if header:
        print(f"    {'request':<16}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}", end="")
        print(f"{'p99 ms':>9}{'max ms':>9}")
    for row in rows:
        print(
            f"    {row['kind']:<16}{row['count']:>7}{row['count'] / seconds:>8.1f}"
            f"{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}{row['p99_ms']:>9.0f}{row['max_ms']:>9.0f}"
        )


SERVER_LINE = re.compile(
    r"archlens\.requests (GET|POST) (\S+) (\d{3}) duration_ms=(\d+) cpu_ms=([\d.]+)"
    r" user_id=\S+ request_id=\S+(?: served=(\w+))?"
)


def server_log_summary(log: Path) -> dict:
    """What gunicorn and the app logged: 5xx, tracebacks, worker timeouts, slowest views."""
    text = log.read_text(errors="replace") if log.exists() else ""
    durations: dict[str, list[int]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for method, path, status, ms, cpu_ms, served in SERVER_LINE.findall(text):
        kind = request_kind(method, path, status, served)
        durations[kind].append(int(ms))
        cpu[kind].append(float(cpu_ms))
        statuses[status[0] + "xx"] += 1
    return {
        "status_classes": dict(statuses),
        "tracebacks": text.count("Traceback"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "view_ms": {
            kind: {
                "count": len(values),
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "max": max(values),
                "cpu_p50": percentile(cpu[kind], 50),
                "cpu_s": sum(cpu[kind]) / 1000,
            }
            for kind, values in sorted(durations.items())
        },
    }


def request_kind(method: str, path: str, status: str, served: str = "") -> str:
    if "/choices/" in path:
        return "choice"
    if path.split("?")[0].endswith("/poll/"):
        # A poll that found a change says whether another page's render answered it.
        return f"poll, {served}" if status == "200" and served else f"poll, {status}"
    if path.endswith("/notes/"):
        return "notes"
    if "/questions/" in path:
        return "question page"
    if path.startswith("/accounts/login"):
        return f"login {method}"
    return path.split("?")[0]


def report(
    args: argparse.Namespace,
    plan: Plan,
    ledger: Ledger,
    check: Check,
    server: dict,
    lock_waits: list[list[str]],
    present: int,
) -> dict:
    workshop_s = max(ledger.phase_seconds.get("workshop", 0.0), 1e-9)
    workshop = [s for s in ledger.samples if s[0] == "workshop"]
    print()
    print(
        f"Workshop: {present} participants ({min(args.writers, present)} writing) on"
        f" {len(plan.questions)} shared questions for"
        f" {workshop_s:.1f} s: {len(workshop)} requests, {len(workshop) / workshop_s:.1f}/s"
    )
    rows = latency_table(ledger, "workshop")
    print_table(rows, workshop_s)
    conflicts = sum(1 for r in ledger.notes if r.outcome == "conflict")
    print(f"    notes conflicts shown (then saved again on the newer version): {conflicts}")

    ratio = None
    burst_rows: list[dict] = []
    if "burst saves" in ledger.phase_seconds:
        trivial_s = ledger.phase_seconds["burst trivial"]
        saves_s = ledger.phase_seconds["burst saves"]
        trivial_ok = sum(1 for s in ledger.samples if s[0] == "burst trivial" and s[3] == 200)
        saves_ok = sum(1 for r in ledger.choices if r.phase == "burst saves" and r.outcome == "ack")
        trivial_rate, save_rate = trivial_ok / trivial_s, saves_ok / saves_s
        ratio = save_rate / trivial_rate if trivial_rate else None
        print()
        print(f"Throughput, {present} clients back to back, {args.burst_seconds:g} s each:")
        trivial_rows = latency_table(ledger, "burst trivial")
        save_rows = latency_table(ledger, "burst saves")
        print_table(trivial_rows, trivial_s)
        print_table(save_rows, saves_s, header=False)
        burst_rows = trivial_rows + save_rows
        print(
            f"    answer saves {save_rate:.1f}/s / trivial view ({ledger.trivial_path})"
            f" {trivial_rate:.1f}/s = {ratio if ratio is not None else math.nan:.3f}"
        )
        if "burst authenticated" in ledger.phase_seconds:
            auth_s = ledger.phase_seconds["burst authenticated"]
            auth_ok = sum(
                1 for s in ledger.samples if s[0] == "burst authenticated" and s[3] == 200
            )
            auth_rate = auth_ok / auth_s
            auth_ratio = save_rate / auth_rate if auth_rate else math.nan
            print_table(latency_table(ledger, "burst authenticated"), auth_s, header=False)
            print(
                f"    answer saves {save_rate:.1f}/s / authenticated trivial view"
                f" ({AUTHENTICATED_TRIVIAL}) {auth_rate:.1f}/s = {auth_ratio:.3f}"
            )
            if "burst ticks" in ledger.phase_seconds:
                ticks_s = ledger.phase_seconds["burst ticks"]
                ticks_ok = sum(
                    1 for r in ledger.choices if r.phase == "burst ticks" and r.outcome == "ack"
                )
                tick_rate = ticks_ok / ticks_s
                print_table(latency_table(ledger, "burst ticks"), ticks_s, header=False)
                print(
                    f"    page ticks {tick_rate:.1f}/s / authenticated trivial view"
                    f" {auth_rate:.1f}/s = {tick_rate / auth_rate if auth_rate else math.nan:.3f}"
                    " (ticks as the page sends them: its question, its token)"
                )

    print()
    print("What the server sent and the CPU it used (comparable between runs):")
    for kind in ("poll", "choice", "answer save", "page tick"):
        shapes = {shape: ledger.shapes[(kind, shape)] for shape in ("204", "part", "whole")}
        total = sum(shapes.values()) or 1
        print(
            f"    {kind:<12} {total:>6}: 204 {shapes['204']:>5} ({shapes['204'] / total:.0%}),"
            f" parts only {shapes['part']:>5} ({shapes['part'] / total:.0%}),"
            f" whole region {shapes['whole']:>5} ({shapes['whole'] / total:.0%})"
        )
    for phase, seconds in ledger.server_cpu.items():
        count = sum(1 for s in ledger.samples if s[0] == phase)
        per = 1000 * seconds / count if count else math.nan
        print(
            f"    server CPU, {phase:<20} {seconds:>7.1f} s for {count:>6} requests"
            f" = {per:.1f} ms each"
        )

    by_kind = Counter(kind for kind, _ in ledger.errors)
    print()
    print(
        f"Unexpected errors (status, timeout, refusal, wrong acknowledgement): {len(ledger.errors)}"
    )
    for kind, count in by_kind.most_common():
        example = next(detail for k, detail in ledger.errors if k == kind)
        print(f"    {count:>5} {kind}: {example}")

    print()
    print("Consistency:")
    print(f"    choices touched: {check.choices_touched}; AnswerEvent rows: {check.events}")
    print(
        f"    choice POSTs acknowledged: {check.choice_acks} = {check.acks_with_event} with their"
        f" event + {check.acks_noop} no-ops (the choice already had that state)"
    )
    print(f"    choice events: {check.choice_events}, notes events: {check.notes_events}")
    print(
        f"    events caused by requests that were not acknowledged (timed out, then applied):"
        f" {check.events_from_unacknowledged}"
    )
    print(
        f"    notes saves acknowledged: {check.notes_saved}, conflicts shown:"
        f" {check.notes_conflicts}"
    )
    print(f"    lost updates: {len(check.lost)}")
    for line in check.lost[:10]:
        print(f"        {line}")
    print(f"    phantom updates: {len(check.phantom)}")
    for line in check.phantom[:10]:
        print(f"        {line}")

    print()
    print(
        f"Server: responses {server['status_classes']}, tracebacks {server['tracebacks']},"
        f" worker timeouts {server['worker_timeouts']}"
    )
    blocked = [sample for sample in lock_waits if sample]
    on_what = Counter(statement for sample in lock_waits for statement in sample)
    if lock_waits:
        print(
            f"    lock waits: sessions waiting in {len(blocked)} of {len(lock_waits)} samples"
            f" (every 0.25 s), at most {max(len(sample) for sample in lock_waits)} at once"
        )
        for statement, count in on_what.most_common(5):
            print(f"        {count:>5} x {statement}")
    machine = ledger.machine
    if machine:
        print(
            f"    machine: {machine['cpus']} CPUs, load average"
            f" {machine['load_average_before']:.1f} before / {machine['load_average_after']:.1f}"
            " after; the load generator itself used"
            f" {machine['client_cpu_seconds']:.0f} CPU s"
        )
    print("    time in the view (app log), ms, and its CPU (the request's thread):")
    for kind, stats in server["view_ms"].items():
        print(
            f"        {kind:<16}{stats['count']:>7}  p50 {stats['p50']:>5}  p95 {stats['p95']:>5}"
            f"  max {stats['max']:>5}  cpu p50 {stats['cpu_p50']:>5.1f}  in all"
            f" {stats['cpu_s']:>5.1f} s"
        )
    return {
        "users": present,
        "writers": min(args.writers, present),
        "questions": list(plan.questions),
        "seconds": workshop_s,
        "requests_per_second": len(workshop) / workshop_s,
        "latency": rows,
        "burst_latency": burst_rows,
        "trivial_path": ledger.trivial_path,
        "save_to_trivial_ratio": ratio,
        "errors": dict(by_kind),
        "check": asdict(check),
        "server": server,
        "lock_waits": {
            "samples": len(lock_waits),
            "with_waiters": len(blocked),
            "statements": dict(on_what),
        },
        "phase_seconds": ledger.phase_seconds,
        "machine": ledger.machine,
    }


# -- main -----------------------------------------------------------------------------------------


def interrupt(signum, frame):  # noqa: ARG001
    """SIGTERM (a `timeout`, a CI runner) stops the run like Ctrl-C: servers are stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    signal.signal(signal.SIGTERM, interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="archlens-load-"))
    env = app_env(args, workdir, secrets.token_urlsafe(50))
    server: Gunicorn | None = None
    failed = True
    try:
        print(f"Setting up {args.database_url} (work folder {workdir})")
        prepare(env, args.database_url)
        django_setup(env)
        # Django's logging settings would print every client request at INFO.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
        plan = seed(args.users, args.questions)
        print(f"  {args.users} contributors on one workload; questions {', '.join(plan.questions)}")

        server = Gunicorn(args, env, workdir / "gunicorn.log")
        server.start()
        server.wait_ready()
        print(f"  gunicorn on {server.base_url}: {args.workers} workers x {args.threads} threads")

        ledger, lock_waits = Ledger(), []
        budget = 180 + args.seconds + 4 * args.burst_seconds + 4 * args.timeout
        load_before, cpu_before = os.getloadavg()[0], time.process_time()
        present = asyncio.run(
            asyncio.wait_for(
                drive(
                    args,
                    server.base_url,
                    plan,
                    ledger,
                    lock_waits,
                    server.process.pid if server.process else None,
                ),
                budget,
            )
        )
        ledger.machine = {  # the load generator shares the machine with the server (and others)
            "cpus": os.cpu_count(),
            "client_cpu_seconds": time.process_time() - cpu_before,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg()[0],
        }
        server.stop()
        check = verify(plan, ledger)
        summary = report(
            args, plan, ledger, check, server_log_summary(server.log), lock_waits, present
        )
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2, default=str))
        failed = bool(check.lost or check.phantom or ledger.errors or not present)
        print()
        verdict = "FAILED" if failed else "OK: no lost or phantom update, no unexpected error"
        print(f"{verdict} ({time.monotonic() - began:.0f} s in all)")
        return 1 if failed else 0
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.stop()
        if failed or args.keep:
            print(f"Work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
