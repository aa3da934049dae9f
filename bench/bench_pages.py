"""Page benchmark: the busiest pages of Archlens against 1,000 reviewed workloads on PostgreSQL.

Fills the database named by DATABASE_URL (created when missing) with workloads reviewed against
the built-in lens, with a realistic spread of risks, improvement items and five milestones
each, then times the dashboard, the workload list, a milestone comparison and an answer save
in-process with Django's test client, and prints the median, the 95th percentile and the
number of SQL queries of each. `make bench` runs it against a database of its own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/archlens_bench \\
        .venv/bin/python bench/bench_pages.py [--workloads 1000] [--requests 30] [--refill]

The fill is kept when the next run finds the same number of bench workloads (--refill forces
a new one). A database holding anything but bench workloads is refused, never changed.
"""

from __future__ import annotations

import argparse
import copy
import gc
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NAME_PREFIX = "Bench workload "
USER_PREFIX = "bench-"
OWNERS = 10
MILESTONES = 5
TEAMS = ["payments", "web", "mobile", "data", "platform", "search", "identity", "billing"]
TARGET_P95_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--refill", action="store_true", help="fill again even when filled")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.workloads <= 20_000:
        parser.error("--workloads is 1 to 20,000")
    if not 5 <= args.requests <= 1000:
        parser.error("--requests is 5 to 1,000")

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench: set DATABASE_URL to a PostgreSQL database, for example")
        print("  DATABASE_URL=postgres://postgres@127.0.0.1:5432/archlens_bench")
        return 2
    create_database(url)

    # The test client's host; request logging would drown the figures.
    hosts = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["ALLOWED_HOSTS"] = f"{hosts},testserver"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from lenses.services import builtin_lens_load

    database = settings.DATABASES["default"]
    print(f"bench: database {database['NAME']} on {database['HOST'] or 'localhost'}")
    call_command("migrate", verbosity=0)
    builtin_lens_load()
    started = time.perf_counter()
    filled = fill(args.workloads, args.seed, refill=args.refill)
    took = time.perf_counter() - started
    print(f"bench: {'filled' if filled else 'reusing'} {args.workloads:,} workloads ({took:.1f} s)")
    return measure(args.requests)


def create_database(url: str) -> None:
    """Create the database of DATABASE_URL when it does not exist yet."""
    config = dj_database_url.parse(url)
    name = config["NAME"]
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"bench: created database {name}")


# -- fill ----------------------------------------------------------------------------------------


def fill(count: int, seed: int, *, refill: bool) -> bool:
    """Fill the database with `count` bench workloads unless exactly those are there already."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from reviews.models import Workload

    others = Workload.objects.exclude(name__startswith=NAME_PREFIX)
    if others.exists():
        raise SystemExit(
            "bench: this database holds workloads that are not bench data; "
            "point DATABASE_URL at a database of its own (e.g. archlens_bench)."
        )
    bench = Workload.objects.filter(name__startswith=NAME_PREFIX)
    if not refill and bench.count() == count:
        return False
    with transaction.atomic():
        bench.delete()
        User.objects.filter(username__startswith=USER_PREFIX).delete()
        _Filler(count, random.Random(seed)).run()
    # Vacuumed and analysed now, so autovacuum does not compete with the timed requests and
    # the planner knows the sizes.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return True


class _Filler:
    def __init__(self, count: int, rng: random.Random):
        from django.utils import timezone

        self.count = count
        self.rng = rng
        self.now = timezone.now()

    def run(self) -> None:
        from lenses.models import LensVersion
        from lenses.services import BUILTIN_ALIAS, lens_version_content

        version = (
            LensVersion.objects.filter(
                lens__alias=BUILTIN_ALIAS, status=LensVersion.Status.PUBLISHED
            )
            .select_related("lens")
            .order_by("-published_at")
            .first()
        )
        self.version = version
        self.questions = [
            q for pillar in lens_version_content(version) for q in pillar.questions.all()
        ]
        self.users()
        self.workloads()
        self.answers()
        self.milestones()

    def users(self) -> None:
        from django.contrib.auth.models import User

        owners = [User(username=f"{USER_PREFIX}owner-{n:02}", password="!") for n in range(OWNERS)]
        manager = User(username=f"{USER_PREFIX}manager", password="!")
        User.objects.bulk_create([*owners, manager])
        self.owners = list(User.objects.filter(username__startswith=f"{USER_PREFIX}owner-"))
        self.manager = User.objects.get(username=f"{USER_PREFIX}manager")

    def workloads(self) -> None:
        from reviews.models import LensReview, Role, Workload, WorkloadMember, name_key

        pillar_ids = list(
            self.version.pillars.order_by("order").values_list("pillar_id", flat=True)
        )
        workloads = []
        for n in range(self.count):
            name = f"{NAME_PREFIX}{n:04}"
            owner = self.owners[n % OWNERS]
            workloads.append(
                Workload(
                    name=name,
                    name_key=name_key(name),
                    description=f"Benchmark workload number {n}.",
                    environment=Workload.Environment.PRODUCTION
                    if self.rng.random() < 0.7
                    else Workload.Environment.PREPRODUCTION,
                    review_owner=owner.username,
                    tags={
                        "team": self.rng.choice(TEAMS),
                        "tier": str(self.rng.randint(1, 3)),
                        "cost-centre": f"cc-{self.rng.randint(100, 140)}",
                    },
                    owner=owner,
                    pillar_priorities=pillar_ids,
                )
            )
        self.workload_rows = Workload.objects.bulk_create(workloads, batch_size=1000)
        members = []
        for workload in self.workload_rows:
            members.append(WorkloadMember(workload=workload, user=workload.owner, role=Role.OWNER))
            members.append(WorkloadMember(workload=workload, user=self.manager, role=Role.READONLY))
        WorkloadMember.objects.bulk_create(members, batch_size=5000)
        self.reviews = LensReview.objects.bulk_create(
            [
                LensReview(workload=w, lens=self.version.lens, lens_version=self.version)
                for w in self.workload_rows
            ],
            batch_size=1000,
        )

    def answers(self) -> None:
        """Every question answered the way a team of that maturity would, risk from the rules."""
        from reviews.improvements import default_due_date
        from reviews.models import (
            Answer,
            AnswerRisk,
            ChoiceAnswer,
            ImprovementItem,
            ImprovementStatus,
            Reason,
        )

        statuses = [
            ImprovementStatus.NOT_STARTED,
            ImprovementStatus.NOT_STARTED,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.RISK_ACKNOWLEDGED,
            ImprovementStatus.COMPLETE,
        ]
        self.live: dict[int, tuple[int, int, int]] = {}
        for chunk in _chunks(self.reviews, 100):
            answers, selections = [], []
            for review in chunk:
                maturity = self.rng.uniform(0.55, 0.97)
                unanswered = self.rng.choice([0, 0, 0, 0.05, 0.15, 0.4])
                high = medium = answered = 0
                for question in self.questions:
                    choices = list(question.choices.all())
                    answer = Answer(lens_review=review, question=question)
                    selected: list = []
                    roll = self.rng.random()
                    if roll < unanswered:
                        pass
                    elif roll < unanswered + 0.02:
                        answer.is_applicable = False
                        answer.reason = Reason.OUT_OF_SCOPE
                        answer.risk = AnswerRisk.NOT_APPLICABLE
                        answered += 1
                    else:
                        selected = [
                            c for c in choices if not c.is_none and self.rng.random() < maturity
                        ]
                        if not selected:
                            selected = [c for c in choices if c.is_none]
                        answer.risk = question.risk_for({c.choice_id for c in selected})
                        answered += 1
                    high += answer.risk == AnswerRisk.HIGH
                    medium += answer.risk == AnswerRisk.MEDIUM
                    answers.append(answer)
                    selections.append(selected)
                self.live[review.workload_id] = (high, medium, answered)
            Answer.objects.bulk_create(answers, batch_size=5000)
            ChoiceAnswer.objects.bulk_create(
                [
                    ChoiceAnswer(answer=answer, choice=choice, status=ChoiceAnswer.Status.SELECTED)
                    for answer, selected in zip(answers, selections, strict=True)
                    for choice in selected
                ],
                batch_size=5000,
            )
            items = []
            for answer in answers:
                if answer.risk not in (AnswerRisk.HIGH, AnswerRisk.MEDIUM):
                    continue
                owner_id = answer.lens_review.workload.owner_id
                items.append(
                    ImprovementItem(
                        answer=answer,
                        status=self.rng.choice(statuses),
                        assignee_id=owner_id if self.rng.random() < 0.6 else None,
                        due_date=default_due_date(answer.risk),
                    )
                )
            ImprovementItem.objects.bulk_create(items, batch_size=5000)

    def milestones(self) -> None:
        """Five milestones a workload, the risk going down towards today's answers.

        Only the first workload (the one compared) stores full snapshots; the others store
        an empty copy, which keeps the fill small: nothing here reads their snapshots.
        """
        import datetime

        from reviews.models import Milestone
        from reviews.snapshots import workload_snapshots

        target = self.workload_rows[0]
        live_snapshots = workload_snapshots(target)
        rows = []
        for workload in self.workload_rows:
            high, medium, answered = self.live[workload.pk]
            for number in range(1, MILESTONES + 1):
                ago = MILESTONES - number + 1  # milestone 1 is the oldest
                data: dict = {"lens_reviews": []}
                if workload.pk == target.pk:
                    data = {"lens_reviews": _older(live_snapshots, ago, self.rng)}
                    totals = data["lens_reviews"][0]["counts"]
                    counts = (totals["high"], totals["medium"], totals["answered"])
                else:
                    counts = (
                        high + self.rng.randint(0, 3 * ago),
                        max(medium + self.rng.randint(-2, 2 * ago), 0),
                        max(answered - self.rng.randint(0, 2 * ago), 0),
                    )
                rows.append(
                    Milestone(
                        workload=workload,
                        number=number,
                        name=f"Review {number}",
                        name_key=f"review{number}",
                        high_count=counts[0],
                        medium_count=counts[1],
                        answered_count=counts[2],
                        question_count=len(self.questions),
                        data=data,
                    )
                )
        created = Milestone.objects.bulk_create(rows, batch_size=2000)
        # recorded_at is set on creation: move each milestone back by about two months a step.
        for milestone in created:
            ago = MILESTONES - milestone.number + 1
            days = ago * 61 - self.rng.randint(0, 40)
            milestone.recorded_at = self.now - datetime.timedelta(days=days)
        Milestone.objects.bulk_update(created, ["recorded_at"], batch_size=2000)


def _older(snapshots: list[dict], ago: int, rng: random.Random) -> list[dict]:
    """A believable earlier state of the snapshots: some questions were riskier back then."""
    from reviews.snapshots import add_counts, empty_counts

    older = copy.deepcopy(snapshots)
    for snapshot in older:
        total = empty_counts()
        for pillar in snapshot["pillars"]:
            counts = empty_counts()
            for question in pillar["questions"]:
                if rng.random() < 0.08 * ago:
                    question["risk"] = rng.choice(["HIGH", "HIGH", "MEDIUM", "UNANSWERED"])
                    for choice in question["choices"]:
                        if choice["status"] == "SELECTED" and rng.random() < 0.5:
                            choice["status"] = "UNSELECTED"
                counts[question["risk"].lower()] += 1
            counts["total"] = len(pillar["questions"])
            counts["answered"] = counts["total"] - counts["unanswered"]
            pillar["counts"] = counts
            add_counts(total, counts)
        snapshot["counts"] = total
    return older


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- measure -------------------------------------------------------------------------------------


def measure(requests: int) -> int:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from reviews.models import Workload

    manager = User.objects.get(username=f"{USER_PREFIX}manager")
    target = Workload.objects.select_related("owner").get(name=f"{NAME_PREFIX}0000")
    reader, writer = Client(), Client()
    reader.force_login(manager)
    writer.force_login(target.owner)
    htmx = {"HTTP_HX_REQUEST": "true"}

    cases: list[tuple[str, Callable[[], object] | None]] = [
        ("dashboard", lambda: reader.get(reverse("reviews:dashboard"))),
        (
            "dashboard, filtered (htmx)",
            lambda: reader.get(
                reverse("reviews:dashboard"), {"environment": "PRODUCTION", "tag": "tier=1"}, **htmx
            ),
        ),
        ("workload list", lambda: reader.get(reverse("reviews:workload_list"))),
    ]
    try:
        compare = reverse("reviews:compare", args=[target.public_id])
    except NoReverseMatch:
        cases.append(("compare", None))
    else:
        cases.append(
            ("compare (from=1, to=now)", lambda: reader.get(compare, {"from": 1, "to": "now"}))
        )
    choice = reverse(
        "reviews:choice_update", args=[target.public_id, "wellarchitected", "sec1", "sec1_bp3"]
    )
    state = {"selected": False}

    def answer_save():
        # Tick and untick in turn, so that every request really changes the answer.
        state["selected"] = not state["selected"]
        status = "SELECTED" if state["selected"] else "UNSELECTED"
        return writer.post(choice, {"status": status}, **htmx)

    cases.append(("answer save (htmx POST)", answer_save))
    # The fill's objects and logged SQL must not weigh on the timed requests.
    reset_queries()
    gc.collect()
    gc.freeze()

    print()
    print(f"{'page':<28}{'median':>10}{'p95':>10}{'cpu':>10}{'queries':>10}")
    slow = False
    for label, request in cases:
        if request is None:
            print(f"{label.split(' ')[0]}: not available")
            continue
        for _ in range(2):  # warm-up: caches, connection
            _check(request(), label)
        times, cpu = [], []
        for _ in range(requests):
            start, start_cpu = time.perf_counter(), time.process_time()
            _check(request(), label)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        with CaptureQueriesContext(connection) as queries:
            _check(request(), label)
        median = statistics.median(times)
        p95 = sorted(times)[math.ceil(0.95 * len(times)) - 1]
        print(
            f"{label:<28}{median:>8.1f} ms{p95:>7.1f} ms"
            f"{statistics.median(cpu):>7.1f} ms{len(queries):>10}"
        )
        if label == "dashboard" and p95 >= TARGET_P95_MS:
            slow = True
    print()
    print(f"{requests} timed requests each after 2 warm-ups, in-process (django.test.Client).")
    print("cpu: median CPU time of this process per request (the database's time is not in it).")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if slow:
        print(f"bench: the dashboard's p95 is over the {TARGET_P95_MS} ms target")
    return 0


def _check(response, label: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"bench: {label} answered {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
