"""Workshop-screen benchmark: the question page's tick and poll, in-process, on PostgreSQL.

Drops and re-creates the database of BENCH_WORKSHOP_DATABASE_URL (its name must contain
"bench"), loads the built-in lens, creates a workload with an owner, a contributor and a reader,
answers every other question, then sends htmx requests through Django's test client and prints,
for each kind of request, the median CPU time of this process, the SQL queries and the size of
the response, with the CPU ratio to a trivial authenticated view (bench/bench_urls.py) timed in
the same run, and the load average:

- tick, risk same / risk moves: a contributor ticks or unticks one choice of the question
  their page shows (the page's poll token sent along, as the page does);
- no-op tick: asks for the state the choice already has (a stale page);
- question page: a reader opens the question page;
- poll 204: a reader's page that is up to date;
- poll, this question changed: someone else ticked this question since the page's token;
- poll, risk elsewhere: someone else moved the risk of another question of the review;
- the same, after another / poll changed, after another: those polls from a page at a state
  another page at the same state already caught up from (a workshop: everyone's page is at the
  same state when someone ticks), answered with the render the first one got.

    .venv/bin/python bench/bench_workshop.py [--requests 100]

Goals (issue 13): a tick ≤ 6 ms CPU and ≤ 8 queries, ≤ 4 KB when the risk stays; a no-op tick
no dearer than a poll answering 204; a poll answering 204 ≤ 1.5 × the trivial view.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_workshop_bench"
HTMX = {"HTTP_HX_REQUEST": "true"}
QUESTION = "sec1"  # with four practices ticked, one more keeps the risk and another moves it


Scenario = Callable[[], Callable[[], object]]


def measure(scenario: Scenario, count: int) -> tuple[float, int, int]:
    """Median CPU ms of `count` requests (after two untimed ones), and the queries and the
    response size of the last. `scenario()` prepares one request (untimed: what someone else
    changes meanwhile, the token the page holds) and returns the function that sends it. CPU
    time is this process's (the test client's share included), not PostgreSQL's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scenario()()
    scenario()()
    cpus = []
    for _ in range(count):
        send = scenario()
        cpu = time.process_time()
        send()
        cpus.append((time.process_time() - cpu) * 1000)
    send = scenario()
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return statistics.median(cpus), len(captured), len(getattr(response, "content", b""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests each (100)")
    parser.add_argument("--profile", help="profile this request kind with pyinstrument instead")
    parser.add_argument("--queries", action="store_true", help="print the SQL of each kind")
    args = parser.parse_args()
    if not 5 <= args.requests <= 5000:
        parser.error("--requests is 5 to 5,000")
    url = os.environ.get("BENCH_WORKSHOP_DATABASE_URL", DEFAULT_URL)
    reset_database(url, marker="bench")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-workshop-" + "x" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["SECURE_COOKIES"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from lenses.services import builtin_lens_load
    from reviews.models import Answer, ChoiceAnswer, Role, Workload
    from reviews.services import answer_choice_update, workload_create, workload_share
    from reviews.views.answers import poll_token

    # The bench has no collected static files; the pages only need their names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0)
    builtin_lens_load()
    owner = User.objects.create_user("bench-owner", password="bench-pw-123")
    writer = User.objects.create_user("bench-writer", password="bench-pw-123")
    reader = User.objects.create_user("bench-reader", password="bench-pw-123")
    workload = workload_create(
        owner=owner,
        name="Bench workshop",
        description="The workshop screen, ticked and polled.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Bench",
    )
    workload_share(workload=workload, user=writer, role=Role.CONTRIBUTOR)
    workload_share(workload=workload, user=reader, role=Role.READONLY)
    review = workload.lens_reviews.get(lens__alias="wellarchitected")

    def answer_of(question_id: str) -> Answer:
        return Answer.objects.select_related("question", "lens_review__workload").get(
            lens_review=review, question__question_id=question_id
        )

    print("bench: answering every other question of the built-in lens…")
    for index, answer in enumerate(review.answers.select_related("question").order_by("pk")):
        if index % 2:
            first = answer.question.choices.order_by("order").first()
            answer_choice_update(
                answer=answer, choice_id=first.choice_id, status="SELECTED", user=owner
            )

    target = answer_of(QUESTION)
    question = target.question
    practices = [c.choice_id for c in question.choices.order_by("order") if not c.is_none]
    base = set(practices[:4])
    for choice_id in practices[:4]:
        answer_choice_update(
            answer=answer_of(QUESTION), choice_id=choice_id, status="SELECTED", user=owner
        )
    same = next(
        c for c in practices[4:] if question.risk_for(base | {c}) == question.risk_for(base)
    )
    moves = next(
        c for c in practices[4:] if question.risk_for(base | {c}) != question.risk_for(base)
    )
    elsewhere = next(
        a
        for a in review.answers.select_related("question").order_by("pk")
        if a.question.question_id != QUESTION and a.question.pillar_id != question.pillar_id
    )
    other_practices = [
        c.choice_id for c in elsewhere.question.choices.order_by("order") if not c.is_none
    ]

    def page_url(name: str, *extra: str) -> str:
        return reverse(
            f"reviews:{name}", args=[workload.public_id, "wellarchitected", QUESTION, *extra]
        )

    def token(user) -> str:
        answer = answer_of(QUESTION)
        answer.lens_review.workload.role = Role.READONLY if user is reader else Role.CONTRIBUTOR
        return poll_token(answer)

    clients = {}
    for user in (writer, reader, owner):
        clients[user] = Client()
        clients[user].force_login(user)
        clients[user].get(page_url("question"))  # the CSRF cookie and a session in use

    def state(choice_id: str) -> str:
        row = ChoiceAnswer.objects.filter(answer=target, choice__choice_id=choice_id).first()
        return row.status if row else "UNSELECTED"

    def post(choice_id: str, data: dict, expect: tuple[int, ...]) -> Callable[[], object]:
        # Built before the clock starts, like the body: a browser does not reverse URLs.
        path, body = page_url("choice_update", choice_id), urlencode(data)

        def send():
            # Form-encoded, as htmx sends a form (the test client's default is multipart).
            response = clients[writer].post(
                path, body, content_type="application/x-www-form-urlencoded", **HTMX
            )
            assert response.status_code in expect, response.status_code
            return response

        return send

    def tick(choice_id: str) -> Scenario:
        def prepare():
            data = {} if state(choice_id) == "SELECTED" else {"status": "SELECTED"}
            data["v"] = token(writer)  # the page is up to date
            return post(choice_id, data, (200,))

        return prepare

    def no_op():
        data = {"status": "SELECTED"} if state(same) == "SELECTED" else {}
        data["v"] = "0.0"  # a stale page
        return post(same, data, (200, 204))

    second = Client()
    second.force_login(reader)

    def poll(make_change: Callable[[], None] | None, *, after_another: bool = False) -> Scenario:
        def prepare():
            held = token(reader)
            if make_change is not None:
                make_change()
            if after_another:  # someone else at the same state polled first
                response = second.get(page_url("question_poll"), {"v": held}, **HTMX)
                assert response.status_code == 200, response

            path = f"{page_url('question_poll')}?{urlencode({'v': held})}"

            def send():
                response = clients[reader].get(path, **HTMX)
                assert response.status_code == (204 if make_change is None else 200), response
                return response

            return send

        return prepare

    def change_here() -> None:
        answer = answer_of(QUESTION)
        status = "UNSELECTED" if state(same) == "SELECTED" else "SELECTED"
        answer_choice_update(answer=answer, choice_id=same, status=status, user=owner)

    def ten_changes_here() -> None:
        # A page that polls every 2 s in a busy workshop: ten ticks of two choices since.
        for n in range(10):
            choice_id = (same, moves)[n % 2]
            status = "UNSELECTED" if state(choice_id) == "SELECTED" else "SELECTED"
            answer_choice_update(
                answer=answer_of(QUESTION), choice_id=choice_id, status=status, user=owner
            )

    flips = {"n": 0}

    def change_elsewhere() -> None:
        flips["n"] += 1
        answer = answer_of(elsewhere.question.question_id)
        # Alternately none and all of its practices: the risk moves every time.
        for choice_id in other_practices:
            status = "SELECTED" if flips["n"] % 2 else "UNSELECTED"
            answer_choice_update(answer=answer, choice_id=choice_id, status=status, user=owner)

    def trivial():
        return lambda: clients[writer].get("/bench/trivial/")

    def page():
        path = page_url("question")

        def send():
            response = clients[reader].get(path)
            assert response.status_code == 200, response
            return response

        return send

    def page_after(make_change: Callable[[], None]) -> Scenario:
        def prepare():
            make_change()
            return page()

        return prepare

    runs = {
        "trivial authenticated view": measure(trivial, args.requests),
        "question page": measure(page, args.requests),
        "  after a tick here": measure(page_after(change_here), args.requests),
        "  after a risk moved elsewhere": measure(page_after(change_elsewhere), args.requests),
        "poll 204": measure(poll(None), args.requests),
        "tick, risk same": measure(tick(same), args.requests),
        "tick, risk moves": measure(tick(moves), args.requests),
        "no-op tick": measure(no_op, args.requests),
        "poll, this question changed": measure(poll(change_here), args.requests),
        "poll, ten changes here": measure(poll(ten_changes_here), max(5, args.requests // 5)),
        "poll, risk elsewhere": measure(poll(change_elsewhere), args.requests),
        "  the same, after another": measure(
            poll(change_elsewhere, after_another=True), args.requests
        ),
        "poll changed, after another": measure(
            poll(change_here, after_another=True), args.requests
        ),
    }
    if args.profile or args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        scenarios = {"tick": tick(same), "tick, risk moves": tick(moves), "poll 204": poll(None)}
        scenarios |= {"no-op tick": no_op, "trivial": trivial}
        scenarios |= {"poll, this question changed": poll(change_here), "question page": page}
        scenarios |= {"poll, risk elsewhere": poll(change_elsewhere)}
        scenarios |= {"poll, ten changes here": poll(ten_changes_here)}
        scenarios |= {"question page after a tick here": page_after(change_here)}
        scenarios |= {"question page after a risk moved elsewhere": page_after(change_elsewhere)}
        for name, scenario in scenarios.items():
            if args.profile and name != args.profile:
                continue
            if args.queries:
                with CaptureQueriesContext(connection) as captured:
                    scenario()()
                print(f"-- {name}:")
                for query in captured.captured_queries:
                    print("   ", query["sql"][:150])
            if args.profile == name:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
                for _ in range(args.requests):
                    scenario()()
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
        return 0
    trivial_cpu = runs["trivial authenticated view"][0]
    print(f"{'request':<30} {'cpu ms':>7} {'× trivial':>10} {'queries':>8} {'bytes':>8}")
    for name, (cpu, queries, size) in runs.items():
        print(f"{name:<30} {cpu:>7.2f} {cpu / trivial_cpu:>10.2f} {queries:>8} {size:>8}")
    poll_cpu = runs["poll 204"][0]
    print(f"no-op tick / poll 204 (cpu): {runs['no-op tick'][0] / poll_cpu:.2f}")
    print(f"bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
