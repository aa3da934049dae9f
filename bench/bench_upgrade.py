"""Upgrade benchmark: moving fully answered lens reviews to a new lens version, on PostgreSQL.

Drops and re-creates the database of BENCH_UPGRADE_DATABASE_URL (its name must contain
"bench"), loads the built-in lens and a 50-question custom lens, answers every question of
several workloads (ticks, notes, a choice marked not applicable), publishes a new version of
each lens (a choice gone from every question, every rule changed, a question added and one
removed), then upgrades each review and prints the median and worst wall time, the CPU time
and the number of SQL queries of one upgrade, next to an authenticated trivial request timed
in the same run.

    .venv/bin/python bench/bench_upgrade.py [--reviews 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path

from load_workshop import reset_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/archlens_upgrade_bench"


def next_version(document: dict) -> dict:
    """The lens's next version: each question loses its second choice and gets new rules; the
    first pillar gains a question and the last one loses its last."""
    document = copy.deepcopy(document)
    document["description"] = (document.get("description") or "A lens.") + " Next version."
    for pillar in document["pillars"]:
        for question in pillar["questions"]:
            practices = [c for c in question["choices"] if not c["id"].endswith("_no")]
            gone = practices[1]["id"] if len(practices) > 1 else None
            question["choices"] = [c for c in question["choices"] if c["id"] != gone]
            kept = [c["id"] for c in question["choices"] if not c["id"].endswith("_no")]
            question["riskRules"] = [
                {"condition": f"!{kept[0]}", "risk": "HIGH_RISK"},
                {"condition": "default", "risk": "NO_RISK"},
            ]
    added = copy.deepcopy(document["pillars"][0]["questions"][0])
    added["id"] = added["id"] + "_new"
    for choice in added["choices"]:
        choice["id"] = choice["id"] + "_new"
    added["riskRules"] = [{"condition": "default", "risk": "NO_RISK"}]
    document["pillars"][0]["questions"].append(added)
    document["pillars"][-1]["questions"].pop()
    return document


def fifty_question_lens() -> dict:
    from tests.factories import lens_document

    return lens_document(name="Bench Fifty Questions Lens", pillars=5, questions=10, choices=6)


def answer_everything(review, user) -> None:
    from reviews.models import Answer, ChoiceAnswer, Reason
    from reviews.services import answer_choice_update, answer_notes_update

    answers = Answer.objects.filter(lens_review=review).select_related("question", "lens_review")
    for index, answer in enumerate(answers):
        practices = [c for c in answer.question.choices.order_by("order") if not c.is_none]
        for choice in practices[: 2 + index % 3]:
            answer, _ = answer_choice_update(
                answer=answer, choice_id=choice.choice_id, status="SELECTED", user=user
            )
        answer_choice_update(
            answer=answer,
            choice_id=practices[-1].choice_id,
            status=ChoiceAnswer.Status.NOT_APPLICABLE,
            reason=Reason.ARCHITECTURE_CONSTRAINTS,
            notes="Not in this contract.",
            user=user,
        )
        answer.refresh_from_db()
        answer_notes_update(
            answer=answer, notes=f"Discussed {index}.", base_version=answer.notes_version, user=user
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=5, help="upgrades timed per lens")
    args = parser.parse_args()
    if not 1 <= args.reviews <= 50:
        parser.error("--reviews is 1 to 50")
    url = os.environ.get("BENCH_UPGRADE_DATABASE_URL", DEFAULT_URL)
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

    from lenses.services import (
        builtin_lens_load,
        lens_import,
        lens_version_document,
        lens_version_publish,
    )
    from reviews.models import Workload
    from reviews.services import workload_add_lens, workload_create
    from reviews.upgrades import lens_review_upgrade

    call_command("migrate", verbosity=0)
    builtin, _ = builtin_lens_load()
    user = User.objects.create_user("bench-owner", "owner@bench.invalid", "bench-pw-123")
    custom = lens_version_publish(
        lens_version=lens_import(raw=json.dumps(fifty_question_lens()).encode(), user=user),
        version="1.0",
    )
    lenses = {"built-in lens": builtin, "50-question lens": custom}
    reviews: dict[str, list] = {name: [] for name in lenses}
    print(f"bench: answering every question of {args.reviews} workloads per lens…")
    for number in range(args.reviews):
        workload = workload_create(
            owner=user,
            name=f"Bench upgrade {number}",
            description="Reviewed fully, then upgraded.",
            environment=Workload.Environment.PRODUCTION,
            review_owner="Bench",
        )
        reviews["built-in lens"].append(workload.lens_reviews.get(lens=builtin.lens))
        reviews["50-question lens"].append(workload_add_lens(workload=workload, lens=custom.lens))
    for name in lenses:
        for review in reviews[name]:
            answer_everything(review, user)
    targets = {}
    for name, version in lenses.items():
        document = next_version(lens_version_document(version))
        draft = lens_import(raw=json.dumps(document).encode(), user=user, alias=version.lens.alias)
        targets[name] = lens_version_publish(lens_version=draft, version="next")

    client = Client()
    client.force_login(user)
    trivial = []
    for _ in range(30):
        started = time.perf_counter()
        client.get("/lenses/")
        trivial.append((time.perf_counter() - started) * 1000)
    trivial_ms = statistics.median(trivial)
    print(f"bench: authenticated trivial request (lens catalogue) median {trivial_ms:.1f} ms")
    print(
        f"{'upgrade':<18} {'answers':>7} {'median ms':>10} {'max ms':>8} {'cpu ms':>7} "
        f"{'queries':>8} {'× trivial':>10}"
    )
    for name in lenses:
        walls, cpus, queries = [], [], set()
        for review in reviews[name]:
            answers = review.answers.count()
            wall, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                lens_review_upgrade(
                    lens_review=review,
                    target=targets[name],
                    milestone_name=f"Before the next {name}",
                    user=user,
                )
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            queries.add(len(captured))
        median = statistics.median(walls)
        print(
            f"{name:<18} {answers:>7} {median:>10.1f} {max(walls):>8.1f} "
            f"{statistics.median(cpus):>7.1f} {'/'.join(map(str, sorted(queries))):>8} "
            f"{median / trivial_ms:>10.1f}"
        )
    print(f"bench: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
