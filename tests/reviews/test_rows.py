"""The answer lookup is hand-written SQL (reviews.rows): it must build what the ORM builds."""

import pytest
from django.db import connection, transaction

from lenses.models import Lens, LensVersion, Pillar, Question
from reviews.access import answer_for
from reviews.models import Answer, LensReview, Workload
from reviews.rows import fields_of, locked
from reviews.services import answer_choice_update


def values(instance, skip=()):
    return {f.attname: getattr(instance, f.attname) for f in fields_of(type(instance), skip)}


def test_the_answer_lookup_builds_the_same_objects_as_the_orm(workload, bob):
    workload.tags = {"team": "payments", "tier": "1"}
    workload.save()
    answer = answer_for(bob, workload.public_id, "wellarchitected", "sec1")
    orm = Answer.objects.select_related(
        "question__pillar",
        "lens_review__lens",
        "lens_review__lens_version",
        "lens_review__workload",
    ).get(pk=answer.pk)

    review = answer.lens_review
    pairs = [
        (answer, orm),
        (answer.question, orm.question),
        (answer.question.pillar, orm.question.pillar),
        (review, orm.lens_review),
        (review.lens, orm.lens_review.lens),
        (review.workload, orm.lens_review.workload),
    ]
    for built, read in pairs:
        assert values(built) == values(read), type(built).__name__
    assert values(review.lens_version, ("source",)) == values(
        orm.lens_review.lens_version, ("source",)
    )
    assert review.workload.tags == {"team": "payments", "tier": "1"}  # JSON parsed
    assert review.workload.created_at.tzinfo is not None  # aware, on SQLite too
    assert [type(o) for o in (answer.question.pillar, review.lens, review.lens_version)] == [
        Pillar,
        Lens,
        LensVersion,
    ]
    assert isinstance(review, LensReview) and isinstance(review.workload, Workload)
    assert isinstance(answer.question, Question)


def test_the_lens_file_stays_deferred_and_is_read_only_when_asked_for(
    workload, bob, django_assert_num_queries
):
    version = answer_for(
        bob, workload.public_id, "wellarchitected", "sec1"
    ).lens_review.lens_version

    stored = LensVersion.objects.get(pk=version.pk).source

    assert version.get_deferred_fields() == {"source"}
    with django_assert_num_queries(1):
        assert version.source == stored


def test_the_answer_lookup_tells_the_stored_status_of_the_asked_choice(workload, bob):
    answer = answer_for(bob, workload.public_id, "wellarchitected", "sec1")
    answer_choice_update(answer=answer, choice_id="sec1_bp1", status="SELECTED", user=bob)

    def status(choice_id):
        found = answer_for(bob, workload.public_id, "wellarchitected", "sec1", choice_id=choice_id)
        return found.choice_status

    assert status("sec1_bp1") == "SELECTED"
    assert status("sec1_bp2") == "UNSELECTED"  # no row yet
    assert status("not-a-choice") is None


def test_a_locked_read_gives_the_row_as_stored_now(workload, bob):
    answer = answer_for(bob, workload.public_id, "wellarchitected", "sec1")
    Answer.objects.filter(pk=answer.pk).update(notes="changed meanwhile", version=41)

    with transaction.atomic():
        fresh = locked(Answer, answer.pk)

    assert (fresh.notes, fresh.version, fresh.question_id) == (
        "changed meanwhile",
        41,
        answer.question_id,
    )
    assert locked(Answer, 10**9) is None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_on_postgresql_the_answer_lookup_is_planned_once_per_connection(workload, bob):
    for _ in range(2):
        answer_for(bob, workload.public_id, "wellarchitected", "sec1")

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum("FROM reviews_answer a" in statement for statement in prepared) == 1


def test_the_history_lookup_builds_the_same_entries_and_users_as_the_orm(workload, alice, bob):
    from reviews.models import AnswerEvent
    from reviews.selectors import answer_history

    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )
    for user, choice in ((alice, "sec1_bp1"), (bob, "sec1_bp2"), (alice, "sec1_bp3")):
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice, status="SELECTED", user=user
        )
    AnswerEvent.objects.create(answer=answer, user=None, changes=[{"field": "notes"}])
    answer.refresh_from_db()

    orm = list(answer.events.select_related("user")[:20])
    built = answer_history(answer)
    since = answer_history(answer, since=1)

    assert [values(e) for e in built] == [values(e) for e in orm]
    assert [e.user and values(e.user) for e in built] == [e.user and values(e.user) for e in orm]
    assert [e.pk for e in answer_history(answer, limit=2)] == [e.pk for e in orm[:2]]
    # since version 1, up to the answer's: the entries of versions 3 and 2, newest first
    assert [e.version for e in since] == [3, 2]
    assert [e.user.username for e in since] == ["alice", "bob"]


def _plan(sql: str) -> str:
    """The database's plan of `sql`, as text, on PostgreSQL avoiding what it may choose for
    a table as small as a test's (scanning it, sorting a handful of rows) where it can."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for method in ("seqscan", "bitmapscan", "sort"):
                cursor.execute(f"SET LOCAL enable_{method} = off")
            cursor.execute(f"EXPLAIN {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())


def test_an_answers_history_is_read_through_an_index_without_sorting_all_its_entries(
    workload, alice
):
    from django.test.utils import CaptureQueriesContext

    from reviews.selectors import answer_history

    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )
    for status in ("SELECTED", "UNSELECTED") * 3:
        answer, _ = answer_choice_update(
            answer=answer, choice_id="sec1_bp1", status=status, user=alice
        )
    with CaptureQueriesContext(connection) as captured:
        answer_history(answer)
        answer_history(answer, since=answer.version - 2)
    latest, since = (query["sql"] for query in captured.captured_queries)

    for sql, index in ((latest, "answer_history_latest"), (since, "answer_history_versions")):
        plan = _plan(sql)
        assert index in plan, plan
        # what a read through all of the answer's entries needs to give the newest first
        assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
