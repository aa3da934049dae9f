"""Review template propagation benchmark: one template's change passed on to 500 workloads.

Drops and re-creates the database of BENCH_TEMPLATES_DATABASE_URL (its name must contain
"bench"), loads the built-in lens, creates a template answering --questions questions and
applies it to --workloads workloads; then changes the template's answer to a third of those
questions, has one workload in ten change one of them itself, and times the propagation (the
work the Celery task does, run here in-process so the time is the propagation's alone). Prints
the wall and CPU time, the SQL queries, how many questions were updated and left alone, and an
authenticated trivial request timed in the same run.

    .venv/bin/python bench/bench_templates.py [--workloads 500] [--questions 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_templates_bench"
BUDGET_SECONDS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--questions", type=int, default=12, help="questions the template answers")
    args = parser.parse_args()
    if not 1 <= args.workloads <= 5000 or not 3 <= args.questions <= 57:
        parser.error("--workloads is 1 to 5000 and --questions 3 to 57")
    url = os.environ.get("BENCH_TEMPLATES_DATABASE_URL", DEFAULT_URL)
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

    from lenses.models import Question
    from lenses.services import builtin_lens_load
    from review_templates.models import Propagation
    from review_templates.services import (
        ChoiceSetting,
        propagation_run,
        template_answer_set,
        template_apply,
        template_create,
    )
    from reviews.models import Answer, Workload
    from reviews.services import answer_choice_update, workload_create

    call_command("migrate", verbosity=0)
    builtin, _ = builtin_lens_load()
    user = User.objects.create_user("bench-owner", "owner@bench.invalid", "bench-pw-123")
    template = template_create(owner=user, name="Platform baseline", lenses=[builtin.lens])
    template_lens = template.lenses.get()
    questions = list(
        Question.objects.filter(pillar__lens_version=builtin)
        .prefetch_related("choices")
        .order_by("pillar__order", "order")[: args.questions]
    )

    def answer(question, *positions):
        practices = [c for c in question.choices.all() if not c.is_none]
        template_answer_set(
            template_lens=template_lens,
            question=question,
            user=user,
            choices={practices[p].choice_id: ChoiceSetting("SELECTED") for p in positions},
        )

    for question in questions:
        answer(question, 0, 1)
    print(f"bench: applying a {args.questions}-question template to {args.workloads} workloads…")
    started = time.perf_counter()
    workloads = []
    for number in range(args.workloads):
        workload = workload_create(
            owner=user,
            name=f"Bench workload {number:04}",
            description="Takes the platform baseline.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Bench",
        )
        template_apply(template=template, workload=workload, user=user)
        workloads.append(workload)
    print(f"bench: set-up took {time.perf_counter() - started:.0f} s")

    changed = questions[::3]
    for question in changed:
        answer(question, 0, 1, 2)
    local = questions[0]
    for workload in workloads[::10]:
        target = Answer.objects.select_related("question", "lens_review").get(
            lens_review__workload=workload, question=local
        )
        third = [c for c in local.choices.all() if not c.is_none][3]
        answer_choice_update(answer=target, choice_id=third.choice_id, status="SELECTED", user=user)

    client = Client()
    client.force_login(user)
    trivial = []
    for _ in range(30):
        began = time.perf_counter()
        client.get("/lenses/")
        trivial.append((time.perf_counter() - began) * 1000)
    trivial_ms = statistics.median(trivial)

    propagation = Propagation.objects.create(template=template, requested_by=user)
    wall, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as captured:
        done = propagation_run(propagation_id=propagation.pk)
    wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu

    expected_updates = len(changed) * args.workloads - len(workloads[::10])
    print(f"bench: authenticated trivial request (lens catalogue) median {trivial_ms:.1f} ms")
    print(
        f"bench: propagation to {done.workload_done} workloads: {wall_s:.2f} s wall, "
        f"{cpu_s:.2f} s CPU, {len(captured)} queries "
        f"({len(captured) / max(done.workload_done, 1):.1f} a workload), "
        f"{wall_s * 1000 / trivial_ms:.0f}× the trivial request"
    )
    print(
        f"bench: {done.updated_count} questions updated (expected {expected_updates}), "
        f"{len(done.changed_locally)} changed locally and left alone "
        f"(expected {len(workloads[::10])}); status {done.status}"
    )
    verdict = "within" if wall_s <= BUDGET_SECONDS else "OVER"
    print(f"bench: {verdict} the {BUDGET_SECONDS:.0f} s budget")
    print(f"bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if done.updated_count == expected_updates else 1


if __name__ == "__main__":
    sys.exit(main())
