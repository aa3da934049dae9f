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
import datetime
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
TARGET_P95_MS = 150
# The pages whose p95 must stay under the target however large the portfolio.
TARGETED = ("dashboard", "workload list")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--refill", action="store_true", help="fill again even when filled")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.workloads <= 100_000:
        parser.error("--workloads is 1 to 100,000")
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
        # Only bench workloads are here (checked above): emptying the tables is much faster
        # than deleting millions of rows one cascade at a time.
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Workload._meta.db_table} CASCADE")
        User.objects.filter(username__startswith=USER_PREFIX).delete()
        _Filler(count, random.Random(seed)).run()
    # Vacuumed and analysed now, so autovacuum does not compete with the timed requests and
    # the planner knows the sizes.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return True


class _Filler:
    """Writes the bench data with COPY, which 50,000 workloads (some 3 million answers and 13
    million ticked choices) need to fill in minutes rather than hours.

    Rows get their primary keys here and the sequences move past them afterwards; the fill's
    transaction is the only writer of the database. Each row gets the model's own defaults for
    every column not set here, so a new column with a default does not break the fill.
    """

    CHUNK = 500  # workloads generated and copied at a time

    def __init__(self, count: int, rng: random.Random):
        from django.utils import timezone

        self.count = count
        self.rng = rng
        self.now = timezone.now()
        self.next_ids: dict[type, int] = {}

    def run(self) -> None:
        from django.db import connection

        from lenses.models import LensVersion
        from lenses.services import BUILTIN_ALIAS, lens_version_content
        from reviews.models import LensReview, PortfolioChange, Workload

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
        self.choices = {q.pk: list(q.choices.all()) for q in self.questions}
        self.risks: dict[tuple[int, frozenset], str] = {}
        self.pillar_ids = list(
            version.pillars.order_by("order").values_list("pillar_id", flat=True)
        )
        with connection.cursor() as cursor:
            # Foreign keys are right by construction; checking 17 million of them at commit
            # would take longer than writing the rows (the bench database is its own).
            cursor.execute("SET LOCAL session_replication_role = replica")
        self.users()
        for start in range(0, self.count, self.CHUNK):
            self.chunk(range(start, min(start + self.CHUNK, self.count)))
        self.move_sequences()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            # The replica role also kept the triggers that stamp every change of the portfolio
            # (reviews.dashboard.slice_stamps) from firing: one change for each workload and
            # review written, so that the dashboard's cache knows them.
            cursor.execute(
                f"""INSERT INTO {PortfolioChange._meta.db_table} (workload_id, kind)
                    SELECT id, %s FROM {Workload._meta.db_table}
                    UNION ALL SELECT workload_id, %s FROM {LensReview._meta.db_table}""",
                [PortfolioChange.Kind.WORKLOADS, PortfolioChange.Kind.REVIEWS],
            )
        self.milestones_of_target()

    def users(self) -> None:
        from django.contrib.auth.models import User

        owners = [User(username=f"{USER_PREFIX}owner-{n:02}", password="!") for n in range(OWNERS)]
        manager = User(username=f"{USER_PREFIX}manager", password="!")
        User.objects.bulk_create([*owners, manager])
        self.owners = list(
            User.objects.filter(username__startswith=f"{USER_PREFIX}owner-").order_by("username")
        )
        self.manager = User.objects.get(username=f"{USER_PREFIX}manager")

    def ids(self, model, n: int) -> range:
        """`n` fresh primary keys of `model`, past everything in its table."""
        if model not in self.next_ids:
            from django.db.models import Max

            self.next_ids[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self.next_ids[model]
        self.next_ids[model] = first + n
        return range(first, first + n)

    def move_sequences(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            for model, next_id in self.next_ids.items():
                table = model._meta.db_table
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, next_id]
                )

    def risk(self, question, selected: frozenset) -> str:
        key = (question.pk, selected)
        if key not in self.risks:
            self.risks[key] = question.risk_for(selected)
        return self.risks[key]

    def chunk(self, numbers: range) -> None:
        """Workloads, members, lens reviews, answers, choices, items, counts and milestones."""
        from reviews.improvements import default_due_date
        from reviews.models import (
            Answer,
            AnswerRisk,
            ChoiceAnswer,
            ImprovementItem,
            ImprovementStatus,
            LensReview,
            Milestone,
            PillarCounts,
            Reason,
            Role,
            Workload,
            WorkloadMember,
            _public_id,
            name_key,
        )
        from reviews.scores import question_practices

        statuses = [
            ImprovementStatus.NOT_STARTED,
            ImprovementStatus.NOT_STARTED,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.RISK_ACKNOWLEDGED,
            ImprovementStatus.COMPLETE,
        ]
        rng, now = self.rng, self.now
        workload_ids = self.ids(Workload, len(numbers))
        review_ids = self.ids(LensReview, len(numbers))
        workloads, members, reviews, milestones = [], [], [], []
        answers, selections, items, counts = [], [], [], []
        answer_ids = iter(self.ids(Answer, len(numbers) * len(self.questions)))
        for n, workload_id, review_id in zip(numbers, workload_ids, review_ids, strict=True):
            name = f"{NAME_PREFIX}{n:05}"
            owner = self.owners[n % OWNERS]
            environment = (
                Workload.Environment.PRODUCTION
                if rng.random() < 0.7
                else Workload.Environment.PREPRODUCTION
            )
            tags = {
                "team": rng.choice(TEAMS),
                "tier": str(rng.randint(1, 3)),
                "cost-centre": f"cc-{rng.randint(100, 140)}",
            }
            workloads.append(
                {
                    "id": workload_id,
                    "public_id": _public_id(),
                    "name": name,
                    "name_key": name_key(name),
                    "description": f"Benchmark workload number {n}.",
                    "environment": environment,
                    "review_owner": owner.username,
                    "tags": tags,
                    "owner_id": owner.pk,
                    "pillar_priorities": self.pillar_ids,
                }
            )
            members.append({"workload_id": workload_id, "user_id": owner.pk, "role": Role.OWNER})
            members.append(
                {"workload_id": workload_id, "user_id": self.manager.pk, "role": Role.READONLY}
            )
            reviews.append(
                {
                    "id": review_id,
                    "workload_id": workload_id,
                    "lens_id": self.version.lens_id,
                    "lens_version_id": self.version.pk,
                }
            )
            maturity = rng.uniform(0.55, 0.97)
            unanswered = rng.choice([0, 0, 0, 0.05, 0.15, 0.4])
            high = medium = answered = 0
            tallies: dict[int, dict[str, int]] = {}
            for question in self.questions:
                choices = self.choices[question.pk]
                answer_id = next(answer_ids)
                answer = {"id": answer_id, "lens_review_id": review_id, "question_id": question.pk}
                selected: list = []
                roll = rng.random()
                if roll < unanswered:
                    risk = AnswerRisk.UNANSWERED
                elif roll < unanswered + 0.02:
                    answer.update(is_applicable=False, reason=Reason.OUT_OF_SCOPE)
                    risk = AnswerRisk.NOT_APPLICABLE
                else:
                    selected = [c for c in choices if not c.is_none and rng.random() < maturity]
                    if not selected:
                        selected = [c for c in choices if c.is_none]
                    risk = self.risk(question, frozenset(c.choice_id for c in selected))
                answer["risk"] = risk
                answered += risk != AnswerRisk.UNANSWERED
                high += risk == AnswerRisk.HIGH
                medium += risk == AnswerRisk.MEDIUM
                answers.append(answer)
                for choice in selected:
                    selections.append(
                        {
                            "answer_id": answer_id,
                            "choice_id": choice.pk,
                            "status": ChoiceAnswer.Status.SELECTED,
                        }
                    )
                if risk in (AnswerRisk.HIGH, AnswerRisk.MEDIUM):
                    items.append(
                        {
                            "answer_id": answer_id,
                            "status": rng.choice(statuses),
                            "assignee_id": owner.pk if rng.random() < 0.6 else None,
                            "due_date": default_due_date(risk),
                        }
                    )
                ticked = {c.pk for c in selected}
                practices = question_practices(
                    ((c.is_none, "SELECTED" if c.pk in ticked else None) for c in choices),
                    is_applicable=risk != AnswerRisk.NOT_APPLICABLE,
                )
                tally = tallies.setdefault(question.pillar_id, dict.fromkeys(COUNT_FIELDS, 0))
                tally[risk.lower()] += 1
                tally["followed"] += practices.followed
                tally["applicable"] += practices.applicable
                tally["answered"] += practices.answered
            for pillar_id, tally in tallies.items():
                counts.append({"lens_review_id": review_id, "pillar_id": pillar_id, **tally})
            for number in range(1, MILESTONES + 1):
                ago = MILESTONES - number + 1  # milestone 1 is the oldest
                milestones.append(
                    {
                        "workload_id": workload_id,
                        "number": number,
                        "name": f"Review {number}",
                        "name_key": f"review{number}",
                        # About two months a step back, the risk going down towards today.
                        "recorded_at": now - datetime.timedelta(days=ago * 61 - rng.randint(0, 40)),
                        "high_count": high + rng.randint(0, 3 * ago),
                        "medium_count": max(medium + rng.randint(-2, 2 * ago), 0),
                        "answered_count": max(answered - rng.randint(0, 2 * ago), 0),
                        "question_count": len(self.questions),
                        # Only the compared workload's snapshots are read (milestones_of_target).
                        "data": {"lens_reviews": []},
                    }
                )
        _copy(Workload, workloads)
        _copy(WorkloadMember, members)
        _copy(LensReview, reviews)
        _copy(Answer, answers)
        _copy(ChoiceAnswer, selections)
        _copy(ImprovementItem, items)
        _copy(PillarCounts, counts)
        _copy(Milestone, milestones)
        if numbers.start == 0:
            self.target_id = workload_ids[0]

    def milestones_of_target(self) -> None:
        """The first workload (the one compared) gets milestones with full snapshots."""
        from reviews.models import Milestone, Workload
        from reviews.snapshots import workload_snapshots

        target = Workload.objects.get(pk=self.target_id)
        live = workload_snapshots(target)
        for milestone in Milestone.objects.filter(workload=target):
            ago = MILESTONES - milestone.number + 1
            milestone.data = {"lens_reviews": _older(live, ago, self.rng)}
            totals = milestone.data["lens_reviews"][0]["counts"]
            milestone.high_count = totals["high"]
            milestone.medium_count = totals["medium"]
            milestone.answered_count = totals["answered"]
            milestone.save(update_fields=["data", "high_count", "medium_count", "answered_count"])


COUNT_FIELDS = (
    "unanswered",
    "high",
    "medium",
    "none",
    "not_applicable",
    "followed",
    "applicable",
    "answered",
)


def _copy(model, rows: list[dict]) -> None:
    """COPY `rows` (column values by field name) into the model's table.

    Columns not given get the model's default, auto_now(_add) times the current time.
    """
    from django.db import connection
    from django.db.models import DateTimeField
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
    names = [f.attname for f in fields]
    now = timezone.now()
    defaults = []
    for f in fields:
        if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add):
            defaults.append(now)
        elif f.has_default():
            defaults.append(f.get_default())
        elif f.null:
            defaults.append(None)
        else:
            defaults.append("")
    json_at = {i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"}
    columns = sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), columns
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
            for i in json_at:
                values[i] = Jsonb(values[i])
            copy.write_row(values)


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

    from reviews.models import ChoiceAnswer, Workload

    manager = User.objects.get(username=f"{USER_PREFIX}manager")
    target = Workload.objects.select_related("owner").get(name=f"{NAME_PREFIX}00000")
    reader, writer = Client(), Client()
    reader.force_login(manager)
    writer.force_login(target.owner)
    htmx = {"HTTP_HX_REQUEST": "true"}

    cases: list[tuple[str, Callable[[], object] | None]] = [
        ("trivial page (lenses)", lambda: reader.get(reverse("lenses:catalogue"))),
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
    # Where the last run left the choice: a request asking for the state it has changes
    # nothing (and answers 204).
    state = {
        "selected": ChoiceAnswer.objects.filter(
            answer__lens_review__workload=target,
            answer__question__question_id="sec1",
            choice__choice_id="sec1_bp3",
            status=ChoiceAnswer.Status.SELECTED,
        ).exists()
    }

    def answer_save():
        # Tick and untick in turn, so that every request really changes the answer.
        state["selected"] = not state["selected"]
        status = "SELECTED" if state["selected"] else "UNSELECTED"
        return writer.post(choice, {"status": status}, **htmx)

    cases.append(("answer save (htmx POST)", answer_save))
    # The dashboard's totals are cached until something they count changes: this one is
    # counted afresh each time, after a tick that is not timed.
    cases.append(("dashboard after a tick", lambda: reader.get(reverse("reviews:dashboard"))))
    before = {"dashboard after a tick": answer_save}
    # The fill's objects and logged SQL must not weigh on the timed requests.
    reset_queries()
    gc.collect()
    gc.freeze()

    print()
    print(f"{'page':<28}{'median':>10}{'p95':>10}{'cpu':>10}{'queries':>10}{'× trivial':>11}")
    slow = []
    trivial = None
    for label, request in cases:
        if request is None:
            print(f"{label.split(' ')[0]}: not available")
            continue
        prepare = before.get(label, lambda: None)
        for _ in range(2):  # warm-up: caches, connection
            prepare()
            _check(request(), label)
        times, cpu = [], []
        for _ in range(requests):
            prepare()
            start, start_cpu = time.perf_counter(), time.process_time()
            _check(request(), label)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        prepare()
        with CaptureQueriesContext(connection) as queries:
            _check(request(), label)
        median = statistics.median(times)
        p95 = sorted(times)[math.ceil(0.95 * len(times)) - 1]
        trivial = trivial or median
        print(
            f"{label:<28}{median:>8.1f} ms{p95:>7.1f} ms"
            f"{statistics.median(cpu):>7.1f} ms{len(queries):>10}{median / trivial:>10.1f}×"
        )
        if label in TARGETED and p95 >= TARGET_P95_MS:
            slow.append(label)
    print()
    print(f"{requests} timed requests each after 2 warm-ups, in-process (django.test.Client).")
    print("cpu: median CPU time of this process per request (the database's time is not in it).")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    for label in slow:
        print(f"bench: the p95 of the {label} is over the {TARGET_P95_MS} ms target")
    return 0


def _check(response, label: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"bench: {label} answered {response.status_code}")


if __name__ == "__main__":
    sys.exit(main())
