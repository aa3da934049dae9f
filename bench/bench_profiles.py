"""Profile benchmark: what a business-context profile costs the review pages, on PostgreSQL.

Drops and re-creates the database of BENCH_PROFILES_DATABASE_URL (its name must contain
"bench"), loads the built-in lens and profiles, answers every question of one workload, then
times the overview, the question page, the improvement plan and the question page's poll
without a profile and with the healthcare profile fully ticked (every choice of every question),
next to an authenticated trivial request (the lens catalogue) timed in the same run. Prints the
median wall time, the SQL queries and the ratio to the trivial request of each.

    .venv/bin/python bench/bench_profiles.py [--requests 30]
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
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_profiles_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("BENCH_PROFILES_DATABASE_URL", DEFAULT_URL)
    reset_database(url, marker="bench")
    os.environ["DATABASE_URL"] = url
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

    from lenses.services import builtin_lens_load
    from profiles.models import Profile
    from profiles.services import builtin_profiles_load, workload_profile_set
    from reviews.models import Answer, Workload
    from reviews.services import answer_choice_update, workload_create

    call_command("migrate", verbosity=0)
    builtin_lens_load()
    builtin_profiles_load()
    user = User.objects.create_user("bench-owner", "owner@bench.invalid", "bench-pw-123")
    workload = workload_create(
        owner=user,
        name="Bench profiles",
        description="Every question answered.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Bench",
    )
    answers = Answer.objects.filter(lens_review__workload=workload).select_related(
        "question", "lens_review"
    )
    for index, answer in enumerate(answers):
        practices = [c for c in answer.question.choices.order_by("order") if not c.is_none]
        for choice in practices[: index % 4]:
            answer, _ = answer_choice_update(
                answer=answer, choice_id=choice.choice_id, status="SELECTED", user=user
            )
    client = Client()
    client.force_login(user)
    base = [workload.public_id, "wellarchitected"]
    pages = {
        "overview": reverse("reviews:overview", args=base),
        "question page": reverse("reviews:question", args=[*base, "sec6"]),
        "improvement plan": reverse("reviews:improvement_plan", args=base),
        "question poll": reverse("reviews:question_poll", args=[*base, "sec6"]) + "?v=x",
    }

    def timed(path: str) -> tuple[float, int]:
        for _ in range(2):
            client.get(path)
        walls = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            walls.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        return statistics.median(walls), len(captured)

    trivial, _ = timed(reverse("lenses:catalogue"))
    print(f"bench: authenticated trivial request (lens catalogue) median {trivial:.1f} ms")
    rows = {}
    for label, path in pages.items():
        rows[label] = [timed(path)]
    healthcare = Profile.objects.get(name="Healthcare and finance")
    every = {q["id"]: [c["id"] for c in q["choices"]] for q in healthcare.questions}
    for question in healthcare.questions:
        if question["selectionType"] == "SINGLE":
            every[question["id"]] = every[question["id"]][:1]
    workload_profile_set(workload=workload, profile=healthcare, answers=every, user=user)
    for label, path in pages.items():
        rows[label].append(timed(path))
    print(
        f"{'page':<18} {'no profile ms':>14} {'queries':>8} {'profile ms':>11} {'queries':>8} "
        f"{'× trivial':>10}"
    )
    for label, ((plain, plain_q), (profiled, profiled_q)) in rows.items():
        print(
            f"{label:<18} {plain:>14.1f} {plain_q:>8} {profiled:>11.1f} {profiled_q:>8} "
            f"{profiled / trivial:>10.1f}"
        )
    print(f"{args.requests} timed requests each after 2 warm-ups, in-process.")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
