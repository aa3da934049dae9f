"""Templates applied to workloads and their changes propagated, on the real database."""

import datetime

import pytest
from django.utils import timezone

from lenses.models import Lens, Question
from review_templates.models import Propagation, TemplateAnswer, TemplateUse
from review_templates.services import (
    ChoiceSetting,
    TemplateError,
    propagation_request,
    propagation_run,
    template_answer_set,
    template_apply,
    template_create,
    template_create_from_workload,
)
from reviews.counts import differences
from reviews.models import Answer, AnswerEvent, ImprovementItem, PillarCounts, Workload
from reviews.services import answer_choice_update, workload_create
from reviews.templatetags.review_tags import change_text

SELECTED = {"status": "SELECTED"}


@pytest.fixture
def template(builtin_lens, alice):
    lens = Lens.objects.get(alias="wellarchitected")
    return template_create(owner=alice, name="Platform baseline", lenses=[lens])


def question(qid: str) -> Question:
    return Question.objects.get(question_id=qid)


def answer_of(workload, qid: str) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=qid
    )


def ticked(answer: Answer) -> set[str]:
    return set(
        answer.choice_answers.filter(status="SELECTED").values_list("choice__choice_id", flat=True)
    )


def set_answer(template, qid, user, *choice_ids, **kwargs):
    return template_answer_set(
        template_lens=template.lenses.get(),
        question=question(qid),
        user=user,
        choices={c: ChoiceSetting("SELECTED") for c in choice_ids},
        **kwargs,
    )


def another_workload(alice, name="Orders API") -> Workload:
    return workload_create(
        owner=alice,
        name=name,
        description="Keeps the orders.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Alice",
    )


def test_applying_a_template_gives_its_answers_and_says_so_in_the_history(
    template, workload, alice
):
    set_answer(template, "sec1", alice, "sec1_bp1", notes="Shared IAM account.")
    template_answer_set(
        template_lens=template.lenses.get(),
        question=question("sec2"),
        user=alice,
        choices={},
        is_applicable=False,
        reason="OUT_OF_SCOPE",
    )

    changed = template_apply(template=template, workload=workload, user=alice)

    assert changed == 2
    sec1 = answer_of(workload, "sec1")
    assert ticked(sec1) == {"sec1_bp1"}
    assert sec1.notes == "Shared IAM account."
    assert sec1.template == template
    sec2 = answer_of(workload, "sec2")
    assert (sec2.is_applicable, sec2.reason, sec2.risk) == (False, "OUT_OF_SCOPE", "NOT_APPLICABLE")
    event = AnswerEvent.objects.filter(answer=sec1).first()
    assert change_text(event.changes[0]) == "from template Platform baseline"
    assert TemplateUse.objects.filter(template=template, workload=workload).exists()
    assert answer_of(workload, "sec3").template is None


def test_improvement_items_follow_the_risk_a_template_gives(template, workload, alice):
    set_answer(template, "sec1", alice, "sec1_no")

    template_apply(template=template, workload=workload, user=alice)

    item = ImprovementItem.objects.get(answer=answer_of(workload, "sec1"))
    assert item.is_open


def test_none_of_these_with_another_choice_is_refused_and_nothing_is_stored(template, alice):
    with pytest.raises(TemplateError, match="None of these"):
        set_answer(template, "sec1", alice, "sec1_no", "sec1_bp1")
    assert not TemplateAnswer.objects.exists()


def test_an_unknown_choice_is_refused(template, alice):
    with pytest.raises(TemplateError, match="not a choice"):
        set_answer(template, "sec1", alice, "rel1_bp1")


def test_propagation_updates_untouched_questions_and_lists_locally_changed_ones(
    template, workload, alice, bob
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    set_answer(template, "sec2", alice, "sec2_bp1")
    other = another_workload(alice)
    template_apply(template=template, workload=workload, user=alice)
    template_apply(template=template, workload=other, user=alice)
    # Bob changes sec2 in the first workload himself.
    answer_choice_update(
        answer=answer_of(workload, "sec2"), choice_id="sec2_bp2", status="SELECTED", user=bob
    )
    set_answer(template, "sec1", alice, "sec1_bp1", "sec1_bp2")
    set_answer(template, "sec2", alice, "sec2_no")

    propagation = propagation_request(template=template, user=alice)
    done = propagation_run(propagation_id=propagation.pk)

    assert done.status == Propagation.Status.DONE
    assert (done.workload_total, done.workload_done) == (2, 2)
    assert ticked(answer_of(workload, "sec1")) == {"sec1_bp1", "sec1_bp2"}
    assert ticked(answer_of(workload, "sec2")) == {"sec2_bp1", "sec2_bp2"}  # left alone
    assert ticked(answer_of(other, "sec2")) == {"sec2_no"}
    assert done.updated_count == 3
    assert [(c["workload"], c["question"]) for c in done.changed_locally] == [
        ("Payments API", "sec2")
    ]
    # "None of these" makes sec2 high risk, and its improvement item opens.
    assert answer_of(other, "sec2").risk == "HIGH"
    assert ImprovementItem.objects.filter(answer=answer_of(other, "sec2"), is_open=True).exists()


def test_applying_and_propagating_keep_the_counts_equal_to_a_recount(template, workload, alice):
    set_answer(template, "sec1", alice, "sec1_bp1")
    set_answer(template, "rel1", alice, "rel1_no")
    other = another_workload(alice)
    template_apply(template=template, workload=workload, user=alice)
    template_apply(template=template, workload=other, user=alice)
    assert differences() == []
    before = PillarCounts.objects.get(
        lens_review__workload=other, pillar__pillar_id="security"
    ).followed
    set_answer(template, "sec1", alice, "sec1_bp1", "sec1_bp2")

    propagation_run(propagation_id=propagation_request(template=template, user=alice).pk)

    assert differences() == []
    after = PillarCounts.objects.get(lens_review__workload=other, pillar__pillar_id="security")
    assert after.followed == before + 1


def test_a_question_the_template_answers_later_reaches_workloads_that_left_it_blank(
    template, workload, alice, bob
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    template_apply(template=template, workload=workload, user=alice)
    answer_choice_update(
        answer=answer_of(workload, "sec3"), choice_id="sec3_bp1", status="SELECTED", user=bob
    )
    set_answer(template, "sec3", alice, "sec3_bp2")
    set_answer(template, "sec4", alice, "sec4_bp1")

    done = propagation_run(propagation_id=propagation_request(template=template, user=alice).pk)

    assert ticked(answer_of(workload, "sec4")) == {"sec4_bp1"}
    assert ticked(answer_of(workload, "sec3")) == {"sec3_bp1"}
    assert [c["question"] for c in done.changed_locally] == ["sec3"]


def test_a_second_propagation_while_one_is_queued_is_refused(template, workload, alice):
    propagation_request(template=template, user=alice)
    with pytest.raises(TemplateError, match="under way"):
        propagation_request(template=template, user=alice)


def test_a_template_saved_from_a_workload_holds_its_answers(workload, alice):
    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_bp1", status="SELECTED", user=alice
    )

    template = template_create_from_workload(workload=workload, owner=alice, name="From payments")

    saved = TemplateAnswer.objects.get(template_lens__template=template)
    assert saved.question.question_id == "sec1"
    assert saved.choices == {"sec1_bp1": {"status": "SELECTED", "reason": "NONE", "notes": ""}}


def test_template_names_are_unique_ignoring_case_and_spaces(template, alice):
    with pytest.raises(TemplateError, match="exists already"):
        template_create(
            owner=alice,
            name="platform  BASELINE",
            lenses=[Lens.objects.get(alias="wellarchitected")],
        )


def test_a_propagation_takes_the_same_queries_for_more_workloads(
    template, alice, django_assert_max_num_queries
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    set_answer(template, "sec2", alice, "sec2_bp1")
    for n in range(2):
        template_apply(
            template=template, workload=another_workload(alice, f"Small {n}"), user=alice
        )
    set_answer(template, "sec1", alice, "sec1_bp2")
    # the batch: 30, and the recount of the kept counts (savepoint, delete, read, insert)
    with django_assert_max_num_queries(34) as few:
        propagation_run(propagation_id=propagation_request(template=template, user=alice).pk)
    for n in range(6):
        template_apply(template=template, workload=another_workload(alice, f"More {n}"), user=alice)
    set_answer(template, "sec1", alice, "sec1_bp3")
    Propagation.objects.update(status=Propagation.Status.DONE)
    with django_assert_max_num_queries(len(few.captured_queries)):
        done = propagation_run(propagation_id=propagation_request(template=template, user=alice).pk)
    assert done.updated_count == 8


def test_a_propagation_whose_worker_stopped_gives_way_to_a_new_one(template, workload, alice):
    stale = propagation_request(template=template, user=alice)
    Propagation.objects.filter(pk=stale.pk).update(
        status=Propagation.Status.RUNNING,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=6),
    )

    fresh = propagation_request(template=template, user=alice)

    stale.refresh_from_db()
    assert stale.status == Propagation.Status.FAILED
    assert "worker stopped" in stale.error
    assert fresh.status == Propagation.Status.QUEUED
