"""API benchmark: UpdateAnswer and a 50-answer ListAnswers page, in-process, on PostgreSQL.

Drops and re-creates the database of BENCH_API_DATABASE_URL (its name must contain "bench"),
loads the built-in lens and a 60-question custom lens, answers every question of one workload
for both, then sends requests signed by botocore's SigV4 signer through Django's test client
(the whole API path: key lookup, signature, throttle, dispatch, operation, JSON) and prints the
median and 95th percentile of each, their SQL queries, and their ratio to a trivial signed
request (ListWorkloads with a name prefix that matches nothing) timed in the same run. Last, it
times GetLensReviewReport of the built-in lens fully answered, which renders the PDF in the
request.

    .venv/bin/python bench/bench_api.py [--requests 50] [--reports 3]

Targets: UpdateAnswer ≤ 15 ms and the 50-answer page ≤ 30 ms at the median.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_api_bench"
TARGETS_MS = {
    "UpdateAnswer, ticks+notes": 15,
    "UpdateAnswer, risk flips": 15,
    "ListAnswers, 50 answers": 30,
}


def answer_everything(workload, alias: str, user) -> None:
    """Tick a spread of practices on every question, with notes, in one answer_update each."""
    from reviews import access
    from reviews.services import answer_update

    review = workload.lens_reviews.get(lens__alias=alias)
    answers = review.answers.select_related("question").order_by("pk")
    for index, answer in enumerate(answers):
        answer = access.answer_for(user, workload.public_id, alias, answer.question.question_id)
        practices = [
            c.choice_id for c in answer.question.choices.order_by("order") if not c.is_none
        ]
        answer_update(
            answer=answer,
            user=user,
            selected_choices=practices[: index % (len(practices) + 1)],
            notes=f"Discussed in workshop {index}.",
        )


class Signed:
    """Requests signed as boto3 signs them, sent through Django's test client."""

    def __init__(self, issued) -> None:
        from botocore.credentials import Credentials
        from django.test import Client

        self.client = Client()
        self.credentials = Credentials(issued.key.access_key_id, issued.secret)

    def __call__(self, method: str, segments: list[str], *, query=None, body=None):
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        path = "/aws/" + "/".join(quote(segment, safe="-_.~") for segment in segments)
        if query:
            path += "?" + urlencode(query, quote_via=quote)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/x-amz-json-1.1"} if data else {}
        request = AWSRequest(
            method=method, url=f"http://testserver{path}", data=data, headers=headers
        )
        SigV4Auth(self.credentials, "wellarchitected", "us-east-1").add_auth(request)
        signed = dict(request.headers.items())
        response = self.client.generic(
            method,
            path,
            data=data or b"",
            content_type=signed.pop("Content-Type", ""),
            headers=signed,
        )
        if response.status_code != 200:
            answer = response.content[:300]
            raise SystemExit(f"bench: {method} {path} answered {response.status_code}: {answer!r}")
        return json.loads(response.content)


def timed(send: Callable[[int], object], count: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds of `count` calls (after two untimed ones), and the queries of
    the last. The CPU time is this process's alone (not PostgreSQL's): on a busy machine it
    shows what the code costs when the wall time mostly shows the wait for a core."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send(-2)
    send(-1)
    walls, cpus = [], []
    for n in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        send(n)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:
        send(count)
    return walls, cpus, len(captured)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests each")
    parser.add_argument("--reports", type=int, default=3, help="timed report renders")
    args = parser.parse_args()
    if not 5 <= args.requests <= 2000:
        parser.error("--requests is 5 to 2,000")
    if not 0 <= args.reports <= 20:
        parser.error("--reports is 0 to 20")
    url = os.environ.get("BENCH_API_DATABASE_URL", DEFAULT_URL)
    reset_database(url, marker="bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    # Counted as usual, but never reached: the bench sends faster than a script is allowed to.
    os.environ["API_RATE_PER_SECOND"] = "1000000"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from api.keys import api_key_create
    from lenses.services import builtin_lens_load, lens_import, lens_version_publish
    from reviews.models import Workload
    from reviews.services import workload_add_lens, workload_create
    from tests.factories import lens_document

    call_command("migrate", verbosity=0)
    builtin_lens_load()
    user = User.objects.create_user("bench-owner", "owner@bench.invalid", "bench-pw-123")
    document = lens_document(name="Bench Sixty Questions Lens", pillars=5, questions=12, choices=6)
    custom = lens_version_publish(
        lens_version=lens_import(raw=json.dumps(document).encode(), user=user), version="1.0"
    ).lens
    workload = workload_create(
        owner=user,
        name="Bench API workload",
        description="Answered in full, then read and written through the API.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Bench",
    )
    workload_add_lens(workload=workload, lens=custom)
    print("bench: answering every question of the built-in lens and a 60-question lens…")
    answer_everything(workload, "wellarchitected", user)
    answer_everything(workload, custom.alias, user)

    send = Signed(api_key_create(user=user))
    review = ["workloads", workload.public_id, "lensReviews", custom.alias]
    question = workload.lens_reviews.get(lens=custom).answers.order_by("pk").first().question
    practices = [c.choice_id for c in question.choices.order_by("order") if not c.is_none]

    def update(n: int) -> None:
        # Each request changes two ticks and the notes; the risk stays medium.
        ticks = [practices[0], practices[1 + n % 2]]
        send(
            "PATCH",
            [*review, "answers", question.question_id],
            body={"SelectedChoices": ticks, "Notes": f"Run {n}."},
        )

    def flip(n: int) -> None:
        # Each request moves the risk between none and medium: the improvement item closes
        # and reopens, with its history, in the same transaction.
        send(
            "PATCH",
            [*review, "answers", question.question_id],
            body={"SelectedChoices": practices if n % 2 else practices[:1], "Notes": f"Run {n}."},
        )

    def page(n: int) -> None:
        answer = send("GET", [*review, "answers"], query={"MaxResults": 50})
        assert len(answer["AnswerSummaries"]) == 50

    def trivial(n: int) -> None:
        send("POST", ["workloadsSummaries"], body={"WorkloadNamePrefix": "nothing-starts-so"})

    runs = {
        "trivial signed request": timed(trivial, args.requests),
        "UpdateAnswer, ticks+notes": timed(update, args.requests),
        "UpdateAnswer, risk flips": timed(flip, args.requests),
        "ListAnswers, 50 answers": timed(page, args.requests),
    }
    base = statistics.median(runs["trivial signed request"][0])
    print(
        f"{'request':<27} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>7} {'queries':>8} "
        f"{'× trivial':>10} {'target':>9}"
    )
    for name, (walls, cpus, queries) in runs.items():
        median = statistics.median(walls)
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else f"{'ok' if median <= target else 'OVER'} ≤{target}"
        print(
            f"{name:<27} {median:>10.1f} {p95(walls):>8.1f} {statistics.median(cpus):>7.1f} "
            f"{queries:>8} {median / base:>10.1f} {verdict:>9}"
        )
    if args.reports:
        report = ["workloads", workload.public_id, "lensReviews", "wellarchitected", "report"]
        seconds = []
        for _ in range(args.reports):
            started = time.perf_counter()
            size = len(send("GET", report)["LensReviewReport"]["Base64String"])
            seconds.append(time.perf_counter() - started)
        print(
            "GetLensReviewReport, built-in lens fully answered: "
            f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
            f"({size * 3 // 4 // 1024} KiB PDF)"
        )
    print(f"bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
