"""Report benchmark (issue #5): how long a worker takes to build the reports.

1. The lens review report of a workload with every question of the built-in lens answered,
   with notes: target 2 s at most (issue 13; it was 3 s in issue 5).
2. The consolidated report over 500 workloads, as PDF and as JSON: target 10 s at most each
   (issue 13; it was 20 s for 100 workloads in issue 5).

Each build is timed the way the worker runs it (reviews.reports.services.report_build: the
queries, the PDF and writing the file through the storage API). The first PDF of a process also
loads WeasyPrint's stylesheets and fonts; a worker pays that once, so it is shown apart.

Runs on a throw-away SQLite database under /tmp, or on a throw-away database next to the one
DATABASE_URL names (never on that database itself). It prints wall-clock and CPU times and
exits non-zero when a target is missed, judged on CPU time: a build runs on one core, so on an
idle machine the two are the same, and on a busy one wall-clock time also counts other work.

    .venv/bin/python bench/report_bench.py [--workloads 500]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LENS_TARGET = 2.0
CONSOLIDATED_TARGET = 10.0


def configure(work: Path) -> bool:
    """Environment for Django before it starts; True when the database is SQLite under work."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["ARCHLENS_VAR_DIR"] = str(work)
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if os.environ.get("DATABASE_URL"):
        return False
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    return True


def timed(label: str, action) -> tuple[float, float, object]:
    """Run `action`, print its wall-clock and CPU time and its queries; return both times."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    # The set-up's queries fill the log (9,000 at most), which would make this count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        result = action()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"  {label:<36} {seconds:6.2f} s ({cpu:5.2f} s CPU)  {len(queries):3d} queries",
        flush=True,
    )
    return seconds, cpu, result


def answer_all(workload, user) -> None:
    """Every question answered through the services, with notes, giving a mix of risks."""
    from reviews.models import Answer
    from reviews.services import answer_choice_update, answer_notes_update

    answers = (
        Answer.objects.select_related("question", "lens_review")
        .filter(lens_review__workload=workload)
        .order_by("question__pillar__order", "question__order")
    )
    for index, answer in enumerate(answers):
        choices = list(answer.question.choices.order_by("order"))
        practices = [c for c in choices if not c.is_none]
        chosen = practices[: index % (len(practices) + 1)]
        if not chosen:
            chosen = [next(c for c in choices if c.is_none)]
        for choice in chosen:
            answer_choice_update(
                answer=answer, choice_id=choice.choice_id, status="SELECTED", user=user
            )
        answer.refresh_from_db()
        answer_notes_update(
            answer=answer,
            notes=(
                f"Reviewed {answer.question.question_id} with the platform team. "
                "The runbook lives in the team wiki; the on-call rota covers weekends. "
            )
            * 3,
            base_version=answer.notes_version,
            user=user,
        )


def many_workloads(owner, count: int) -> None:
    """`count` workloads with answers set directly: the consolidated report only counts."""
    from reviews.models import Answer, AnswerRisk
    from reviews.services import workload_create

    for index in range(count):
        workload_create(
            owner=owner,
            name=f"Service {index:03d}",
            description=f"Bench workload {index}.",
            environment="PRODUCTION" if index % 3 else "PREPRODUCTION",
            review_owner="Bench",
            tags={"team": f"team-{index % 7}"},
        )
    risks = [AnswerRisk.HIGH, AnswerRisk.MEDIUM, AnswerRisk.NONE, AnswerRisk.UNANSWERED]
    rng = random.Random(5)
    answers = list(Answer.objects.only("pk", "risk"))
    for answer in answers:
        answer.risk = rng.choice(risks)
    Answer.objects.bulk_update(answers, ["risk"], batch_size=1000)


def run(workloads: int) -> int:
    from django.contrib.auth.models import User
    from pypdf import PdfReader

    from lenses.services import builtin_lens_load
    from reviews.models import Report
    from reviews.reports.services import report_build
    from reviews.services import workload_create

    lens_version, _ = builtin_lens_load()
    owner = User.objects.create_user("bench", "bench@example.com", "bench-password-1")
    print(f"setting up: one workload answered in full, then {workloads - 1} more", flush=True)
    workload = workload_create(
        owner=owner,
        name="Payments API",
        description="Takes card payments for the web shop.",
        environment="PRODUCTION",
        review_owner="Bench",
    )
    answer_all(workload, owner)

    def lens_report():
        # As report_request creates it, without sending a task to a broker.
        report = Report.objects.create(
            kind=Report.Kind.LENS_REVIEW,
            workload=workload,
            lens=lens_version.lens,
            requested_by=owner,
        )
        done = report_build(report_id=report.pk)
        assert done.status == Report.Status.DONE, done.error
        return done

    print("lens review report (38 questions, all answered with notes)")
    cold, _, _ = timed("first build in a fresh process", lens_report)
    warm, warm_cpu, done = timed("build in a running worker", lens_report)
    with done.file.open("rb") as file:
        pages = len(PdfReader(file).pages)

    many_workloads(owner, workloads - 1)

    def consolidated(format: str):
        def build():
            report = Report.objects.create(
                kind=Report.Kind.CONSOLIDATED, format=format, requested_by=owner
            )
            done = report_build(report_id=report.pk)
            assert done.status == Report.Status.DONE, done.error
            return done

        return build

    print(f"consolidated report ({workloads} workloads)")
    pdf, pdf_cpu, done = timed("PDF", consolidated(Report.Format.PDF))
    json_seconds, json_cpu, _ = timed("JSON", consolidated(Report.Format.JSON))
    with done.file.open("rb") as file:
        consolidated_pages = len(PdfReader(file).pages)

    # Judged on CPU time: a build is single-threaded, so on an idle machine its wall-clock time
    # is its CPU time, while on a busy one the wall-clock time also counts the neighbours.
    results = {
        "lens review report": (warm, warm_cpu, LENS_TARGET),
        f"consolidated PDF, {workloads} workloads": (pdf, pdf_cpu, CONSOLIDATED_TARGET),
        f"consolidated JSON, {workloads} workloads": (json_seconds, json_cpu, CONSOLIDATED_TARGET),
    }
    print()
    print(f"{'measure':<36} {'wall s':>7} {'CPU s':>7} {'target':>7}")
    failed = False
    for name, (seconds, cpu, target) in results.items():
        ok = cpu <= target
        failed |= not ok
        verdict = "ok" if ok else "TOO SLOW"
        print(f"{name:<36} {seconds:7.2f} {cpu:7.2f} {target:7.1f}  {verdict}")
    print(
        f"(lens review report: {pages} pages, {cold:.2f} s in a fresh process; consolidated: "
        f"{consolidated_pages} pages; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs)"
    )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=500, help="in the consolidated report")
    args = parser.parse_args()
    if not 1 <= args.workloads <= 5000:
        parser.error("--workloads is 1 to 5,000")
    work = Path(tempfile.mkdtemp(prefix="archlens-bench-"))
    sqlite = configure(work)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        if sqlite:
            call_command("migrate", verbosity=0)
            return run(args.workloads)
        # A database of its own next to DATABASE_URL's, dropped afterwards.
        test_settings = connection.settings_dict.setdefault("TEST", {})
        test_settings["NAME"] = f"archlens_bench_{os.getpid()}"
        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            return run(args.workloads)
        finally:
            connection.creation.destroy_test_db(name, verbosity=0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
