"""Access benchmark (issue 13): what every page pays before it does its own work.

Drops and re-creates the database of BENCH_ACCESS_DATABASE_URL (its name must contain "bench"),
loads the built-in lens, creates --workloads workloads and shares them with a contributor both
directly and through two teams (so that the role is the strongest of several shares), signs the
contributor in through the login page, then times in-process, with Django's test client, a
trivial authenticated view (the lens catalogue), the workload page, the lens review overview, the
question page and the question page's poll when nothing changed (the 204 that every open
question page asks for every few seconds). It prints, per page, the median wall and CPU time of
a request, its SQL queries, and the ratio of each to the trivial view timed in the same run;
last, the load average.

    .venv/bin/python bench/bench_access.py [--workloads 300] [--requests 100]

With CACHE_URL set (Redis), sessions come from the cache as in production.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_access_bench"
PASSWORD = "bench-pw-123"


def timed(get: Callable[[], object], count: int) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of `count` calls (after three untimed ones), and the
    queries of one more. The CPU time is this process's alone, not PostgreSQL's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        get()
    walls, cpus = [], []
    for _ in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        get()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:
        get()
    return statistics.median(walls), statistics.median(cpus), len(captured)


def fill(count: int):
    """The workloads, the contributor and their shares; the workload the pages show."""
    from django.contrib.auth.models import User

    from lenses.services import builtin_lens_load
    from people.services import team_create, team_member_add
    from reviews.models import Role, Workload
    from reviews.services import workload_create, workload_share, workload_share_team

    builtin_lens_load()
    owner = User.objects.create_user("bench-owner", "owner@bench.invalid", PASSWORD)
    user = User.objects.create_user("bench-contributor", "user@bench.invalid", PASSWORD)
    readers, writers = (team_create(name=name, actor=None) for name in ("Readers", "Writers"))
    for team in (readers, writers):
        team_member_add(team=team, user=user, actor=None)
    shown = None
    for index in range(count):
        workload = workload_create(
            owner=owner,
            name=f"Bench access workload {index:04d}",
            description="A workload among many.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Bench",
        )
        if index % 3 == 0:
            workload_share(workload=workload, user=user, role=Role.READONLY)
            workload_share_team(workload=workload, team=readers, role=Role.READONLY)
            workload_share_team(workload=workload, team=writers, role=Role.CONTRIBUTOR)
            shown = workload
    return shown, user


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=300)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    args = parser.parse_args()
    if not 1 <= args.workloads <= 5000:
        parser.error("--workloads is 1 to 5,000")
    if not 5 <= args.requests <= 2000:
        parser.error("--requests is 5 to 2,000")
    url = os.environ.get("BENCH_ACCESS_DATABASE_URL", DEFAULT_URL)
    reset_database(url, marker="bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from reviews import access
    from reviews.views.answers import poll_token

    call_command("migrate", verbosity=0)
    print(f"bench: {args.workloads} workloads, a contributor through a share and two teams…")
    workload, user = fill(args.workloads)
    browser = Client()
    signed_in = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
    answer = access.answer_for(user, workload.public_id, "wellarchitected", "sec1")
    review = {"public_id": workload.public_id, "alias": "wellarchitected"}
    question = {**review, "question_id": "sec1"}
    pages = {
        "trivial view (lens catalogue)": (reverse("lenses:catalogue"), {}, 200),
        "workload page": (reverse("reviews:workload_detail", args=[workload.public_id]), {}, 200),
        "lens review overview": (reverse("reviews:overview", kwargs=review), {}, 200),
        "question page": (reverse("reviews:question", kwargs=question), {}, 200),
        "question poll, unchanged": (
            reverse("reviews:question_poll", kwargs=question),
            {"v": poll_token(answer)},
            204,
        ),
    }
    results = {}
    for name, (path, query, status) in pages.items():
        response = browser.get(path, query)
        if response.status_code != status:
            raise SystemExit(f"bench: {path} answered {response.status_code}, not {status}")
        results[name] = timed(lambda p=path, q=query: browser.get(p, q), args.requests)
    base_wall, base_cpu, _ = results["trivial view (lens catalogue)"]
    print(f"bench: sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}")
    print(
        f"{'page':<30} {'median ms':>10} {'cpu ms':>7} {'queries':>8} "
        f"{'× trivial':>10} {'cpu × trivial':>14}"
    )
    for name, (wall, cpu, queries) in results.items():
        print(
            f"{name:<30} {wall:>10.1f} {cpu:>7.1f} {queries:>8} "
            f"{wall / base_wall:>10.2f} {cpu / base_cpu:>14.2f}"
        )
    print(f"bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
