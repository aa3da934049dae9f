"""Score benchmark: what the scores (issue 15) cost on the pages that show them.

Reads a database filled by `manage.py load_demo` (it changes nothing: GET requests only) and
times, in-process with Django's test client, the lens review overview, the workload page, the
milestones page (trend) and a comparison, each against the overview's poll answering
"204 No Content" in the same run (a trivial authenticated view: session, user, access check,
one version read). Then the score selector alone over every lens review of the portfolio.
Prints medians, the 95th percentile, SQL queries and the ratio to the trivial view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/archlens_demo \\
        .venv/bin/python bench/bench_scores.py [--requests 30]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    args = parser.parse_args()
    if not 5 <= args.requests <= 1000:
        parser.error("--requests is 5 to 1,000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    from django.contrib.auth.models import User

    if not User.objects.filter(username="facilitator").exists():
        print("bench: no demo data here; run `python manage.py load_demo` first")
        return 2
    return measure(args.requests)


def measure(requests: int) -> int:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from reviews.models import LensReview, Workload
    from reviews.score_selectors import review_practices

    workload = (
        Workload.objects.filter(owner__username="facilitator")
        .order_by("-milestones__number")
        .first()
    )
    client = Client()
    client.force_login(User.objects.get(username="facilitator"))
    review = LensReview.objects.get(workload=workload, lens__alias="wellarchitected")
    base = [workload.public_id, "wellarchitected"]
    poll = reverse("reviews:overview_poll", args=base)
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("trivial: overview poll (204)", lambda: client.get(poll, {"v": review.version}), 204),
        ("lens review overview", lambda: client.get(reverse("reviews:overview", args=base)), 200),
        (
            "workload page",
            lambda: client.get(reverse("reviews:workload_detail", args=[workload.public_id])),
            200,
        ),
        (
            "milestones + trend",
            lambda: client.get(reverse("reviews:milestones", args=[workload.public_id])),
            200,
        ),
        (
            "compare (from=1, to=now)",
            lambda: client.get(
                reverse("reviews:compare", args=[workload.public_id]), {"from": 1, "to": "now"}
            ),
            200,
        ),
    ]
    everything = LensReview.objects.filter(is_active=True)
    cases.append(("selector, every lens review", lambda: review_practices(everything), 0))

    print(f"{'what':<32}{'median':>10}{'p95':>10}{'ratio':>8}{'queries':>9}")
    trivial = None
    for label, run, status in cases:
        for _ in range(2):
            _check(run(), status, label)
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            _check(run(), status, label)
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            run()
        median = statistics.median(times)
        p95 = sorted(times)[math.ceil(0.95 * len(times)) - 1]
        trivial = trivial or median
        print(
            f"{label:<32}{median:>8.1f} ms{p95:>7.1f} ms{median / trivial:>7.1f}x{len(queries):>9}"
        )
    print()
    print(f"{requests} timed runs each after 2 warm-ups, in-process (django.test.Client);")
    print(f"{everything.count()} active lens reviews, workload {workload.name!r}.")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


def _check(result, status: int, label: str) -> None:
    code = getattr(result, "status_code", 0)
    if status and code != status:
        raise SystemExit(f"bench: {label} answered {code}")


if __name__ == "__main__":
    sys.exit(main())
