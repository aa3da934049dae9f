"""Excel export benchmark: the workbooks of issue 15 against a trivial request, on PostgreSQL.

Drops and re-creates the database of BENCH_WORKBOOKS_DATABASE_URL (its name must contain
"bench"), loads the built-in lens and a 50-question custom lens, answers every question of one
workload under both lenses (ticks, notes, a choice marked not applicable), then adds `--workloads`
more workloads with risks for the dashboard and the consolidated report. Times in-process, with
Django's test client, the answers workbook, the improvement plan workbook and the dashboard's
workload table next to the dashboard page itself and an authenticated trivial request (the lens
catalogue), and builds the consolidated workbook as the worker does; prints the median, the CPU
time, the SQL queries and the ratio to the trivial request.

    .venv/bin/python bench/bench_workbooks.py [--workloads 300] [--requests 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench_upgrade import answer_everything, fifty_question_lens
from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_workbooks_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads", type=int, default=300, help="workloads besides the answered one"
    )
    parser.add_argument("--requests", type=int, default=10, help="timed requests per case")
    args = parser.parse_args()
    if not 0 <= args.workloads <= 5000:
        parser.error("--workloads is 0 to 5,000")
    if not 3 <= args.requests <= 200:
        parser.error("--requests is 3 to 200")
    url = os.environ.get("BENCH_WORKBOOKS_DATABASE_URL", DEFAULT_URL)
    reset_database(url, marker="bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from lenses.services import builtin_lens_load, lens_import, lens_version_publish
    from reviews import workbooks
    from reviews.models import Answer, AnswerRisk, Workload
    from reviews.reports.consolidated import consolidated_data
    from reviews.services import workload_add_lens, workload_create

    call_command("migrate", verbosity=0)
    builtin, _ = builtin_lens_load()
    user = User.objects.create_user("bench-owner", "owner@bench.invalid", "bench-pw-123")
    custom = lens_version_publish(
        lens_version=lens_import(raw=json.dumps(fifty_question_lens()).encode(), user=user),
        version="1.0",
    )

    def make(name: str) -> Workload:
        return workload_create(
            owner=user,
            name=name,
            description="A workload of the Excel benchmark.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Bench",
        )

    print("bench: answering every question of one workload under two lenses…")
    answered = make("Bench answered")
    answer_everything(answered.lens_reviews.get(lens=builtin.lens), user)
    answer_everything(workload_add_lens(workload=answered, lens=custom.lens), user)
    print(f"bench: adding {args.workloads} workloads with risks…")
    for number in range(args.workloads):
        other = make(f"Bench workload {number:04}")
        # The first question of each pillar high risk, the second medium (every other workload).
        answers_of = Answer.objects.filter(lens_review__workload=other)
        answers_of.filter(question__order=0).update(risk=AnswerRisk.HIGH)
        if number % 2:
            answers_of.filter(question__order=1).update(risk=AnswerRisk.MEDIUM)

    client = Client()
    client.force_login(user)
    answers = reverse("reviews:answers_xlsx", args=[answered.public_id])
    plan = reverse("reviews:improvement_xlsx", args=[answered.public_id, "wellarchitected"])
    cases: list[tuple[str, Callable[[], object]]] = [
        ("trivial (lens catalogue)", lambda: client.get("/lenses/")),
        ("answers workbook", lambda: client.get(answers)),
        ("plan workbook", lambda: client.get(plan)),
        ("dashboard page", lambda: client.get(reverse("reviews:dashboard"))),
        ("dashboard workbook", lambda: client.get(reverse("reviews:dashboard_xlsx"))),
        (
            "consolidated workbook (build)",
            lambda: workbooks.consolidated_workbook(
                consolidated_data(user=user, filters={}), generated_at=timezone.now()
            ),
        ),
    ]
    print(f"{'case':<32}{'median ms':>10}{'cpu ms':>8}{'queries':>8}{'× trivial':>10}{'KB':>8}")
    base = None
    for label, case in cases:
        case()  # warm-up
        walls, cpus = [], []
        for _ in range(args.requests):
            wall, cpu = time.perf_counter(), time.process_time()
            result = case()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        with CaptureQueriesContext(connection) as captured:
            result = case()
        status = getattr(result, "status_code", 200)
        if status != 200:
            raise SystemExit(f"bench: {label} answered {status}")
        size = len(result.content) if hasattr(result, "content") else len(result)
        median = statistics.median(walls)
        base = base or median
        print(
            f"{label:<32}{median:>10.1f}{statistics.median(cpus):>8.1f}{len(captured):>8}"
            f"{median / base:>10.1f}{size / 1024:>8.0f}"
        )
    print(f"{Workload.objects.count()} workloads; {args.requests} timed runs each after a warm-up.")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
