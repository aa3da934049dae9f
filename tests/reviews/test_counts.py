"""Kept counts: every change of an answer moves its pillar's row, and a recount agrees."""

import copy
import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lenses.services import BUILTIN_ALIAS, lens_import, lens_version_publish
from reviews.counts import FIELDS, differences, recount
from reviews.models import Answer, ChoiceAnswer, LensReview, PillarCounts, Reason
from reviews.portability import dumps, workload_export, workload_import
from reviews.scores import Practices
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    answer_update,
    workload_add_lens,
    workload_remove_lens,
)
from reviews.upgrades import lens_review_upgrade
from tests.factories import lens_bytes, lens_document

SELECTED, UNSELECTED = ChoiceAnswer.Status.SELECTED, ChoiceAnswer.Status.UNSELECTED


def answer_of(workload, question_id, alias=BUILTIN_ALIAS):
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload,
        lens_review__lens__alias=alias,
        question__question_id=question_id,
    )


def kept(workload, pillar_id, alias=BUILTIN_ALIAS):
    row = PillarCounts.objects.get(
        lens_review__workload=workload,
        lens_review__lens__alias=alias,
        pillar__pillar_id=pillar_id,
    )
    return {name: getattr(row, name) for name in FIELDS}


def check(*options):
    out = StringIO()
    call_command("check_counts", *options, stdout=out)
    return out.getvalue()


def test_a_new_lens_review_counts_its_questions_unanswered_and_every_practice_applicable(
    workload,
):
    review = workload.lens_reviews.get()
    pillar = review.lens_version.pillars.get(pillar_id="security")
    questions = Answer.objects.filter(lens_review=review, question__pillar=pillar).count()
    practices = sum(
        question.choices.filter(is_none=False).count() for question in pillar.questions.all()
    )

    assert kept(workload, "security") == {
        **dict.fromkeys(FIELDS, 0),
        "unanswered": questions,
        "applicable": practices,
    }
    assert differences() == []


def test_ticks_move_the_risk_and_the_practices_of_their_pillar(workload, alice):
    before = kept(workload, "security")
    answer = answer_of(workload, "sec1")
    choices = list(answer.question.choices.filter(is_none=False).order_by("order"))

    answer_choice_update(answer=answer, choice_id=choices[0].choice_id, status=SELECTED, user=alice)

    after = kept(workload, "security")
    risk = Answer.objects.get(pk=answer.pk).risk.lower()
    assert after["unanswered"] == before["unanswered"] - 1
    assert after[risk] == before[risk] + 1
    assert (after["followed"], after["answered"], after["applicable"]) == (
        1,
        1,
        before["applicable"],
    )
    assert differences() == []


def test_a_tick_that_changes_nothing_writes_no_counts(workload, alice):
    answer = answer_of(workload, "sec1")
    choice = answer.question.choices.filter(is_none=False).first()
    answer_choice_update(answer=answer, choice_id=choice.choice_id, status=SELECTED, user=alice)

    with CaptureQueriesContext(connection) as queries:
        answer_choice_update(answer=answer, choice_id=choice.choice_id, status=SELECTED, user=alice)

    assert not [q for q in queries if "pillarcounts" in q["sql"]]


def test_notes_leave_the_counts_alone(workload, alice):
    answer = answer_of(workload, "sec1")

    with CaptureQueriesContext(connection) as queries:
        answer_notes_update(answer=answer, notes="Checked.", base_version=0, user=alice)

    assert not [q for q in queries if "pillarcounts" in q["sql"]]


def test_a_question_that_does_not_apply_leaves_the_practices_and_counts_not_applicable(
    workload, alice
):
    answer = answer_of(workload, "sec1")
    practices = answer.question.choices.filter(is_none=False).count()
    choice = answer.question.choices.filter(is_none=False).first()
    answer_choice_update(answer=answer, choice_id=choice.choice_id, status=SELECTED, user=alice)
    before = kept(workload, "security")

    answer_applicability_update(
        answer=answer, is_applicable=False, reason=Reason.OUT_OF_SCOPE, user=alice
    )

    after = kept(workload, "security")
    assert after["not_applicable"] == before["not_applicable"] + 1
    assert after["applicable"] == before["applicable"] - practices
    assert (after["followed"], after["answered"]) == (0, 0)
    assert differences() == []


def test_a_removed_lens_keeps_its_counts_for_when_it_comes_back(workload, alice, admin_user):
    version = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(), user=admin_user), version="1.0"
    )
    workload_add_lens(workload=workload, lens=version.lens)
    review = workload.lens_reviews.get(lens=version.lens)
    rows = PillarCounts.objects.filter(lens_review=review).count()

    workload_remove_lens(workload=workload, lens=version.lens)
    workload_add_lens(workload=workload, lens=version.lens)

    assert rows and PillarCounts.objects.filter(lens_review=review).count() == rows
    assert differences() == []


def test_check_counts_passes_when_the_counts_match(workload):
    assert "match" in check()


def test_check_counts_names_every_difference_and_fails(workload, alice):
    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_no", status=SELECTED, user=alice
    )
    PillarCounts.objects.filter(
        lens_review__workload=workload, pillar__pillar_id="security"
    ).update(high=7, followed=3)
    out = StringIO()

    with pytest.raises(CommandError, match="2 differences in 1 lens reviews"):
        call_command("check_counts", stdout=out)

    printed = out.getvalue()
    assert (
        f"workload {workload.public_id} (Payments API), lens wellarchitected, pillar security"
        in printed
    )
    assert "high: kept 7, recount 1" in printed
    assert "followed: kept 3, recount 0" in printed


def test_check_counts_finds_a_missing_row(workload):
    PillarCounts.objects.filter(
        lens_review__workload=workload, pillar__pillar_id="reliability"
    ).delete()

    with pytest.raises(CommandError):
        check()


def test_check_counts_repair_puts_the_counts_right(workload, alice):
    PillarCounts.objects.filter(lens_review__workload=workload).update(medium=5)
    PillarCounts.objects.filter(
        lens_review__workload=workload, pillar__pillar_id="reliability"
    ).delete()

    printed = check("--repair")

    assert "repaired" in printed
    assert differences() == []
    assert "match" in check()


def test_a_restored_workload_has_its_counts(workload, alice):
    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_no", status=SELECTED, user=alice
    )
    raw = dumps(workload_export(workload=workload)).encode()

    copy_of = workload_import(raw=raw, new_id=True, name="Payments API copy").workload

    assert kept(copy_of, "security") == kept(workload, "security")
    assert differences() == []


def upgrade_documents():
    first = lens_document(name="Team Lens", pillars=2, questions=3)
    second = copy.deepcopy(first)
    pillar1, pillar2 = second["pillars"]
    question = pillar1["questions"][0]
    question["choices"] = [c for c in question["choices"] if c["id"] != "p1_q1_c3"]
    question["riskRules"] = [
        {"condition": "!p1_q1_c1", "risk": "HIGH_RISK"},
        {"condition": "default", "risk": "NO_RISK"},
    ]
    pillar1["questions"].append(pillar2["questions"].pop(0))
    return first, second


def test_random_ticks_not_applicable_and_upgrades_keep_the_counts_right(
    workload, alice, bob, admin_user
):
    first, second = upgrade_documents()
    old = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(first), user=admin_user, alias="team-lens"),
        version="1.0",
    )
    workload_add_lens(workload=workload, lens=old.lens)
    new = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(second), user=admin_user, alias="team-lens"),
        version="1.1",
    )
    rng = random.Random(13)
    answers = list(
        Answer.objects.filter(lens_review__workload=workload).select_related(
            "question", "lens_review"
        )
    )
    sample = rng.sample(answers, 12) + [
        a for a in answers if a.lens_review.lens.alias == "team-lens"
    ]
    for step in range(120):
        answer = Answer.objects.select_related("question", "lens_review").get(
            pk=rng.choice(sample).pk
        )
        choices = list(answer.question.choices.all())
        user = rng.choice([alice, bob])
        roll = rng.random()
        if roll < 0.1:
            answer_applicability_update(
                answer=answer,
                is_applicable=not answer.is_applicable,
                reason=Reason.OUT_OF_SCOPE,
                user=user,
            )
        elif not answer.is_applicable:
            continue
        elif roll < 0.2:
            answer_update(
                answer=answer,
                user=user,
                selected_choices=[
                    c.choice_id for c in choices if rng.random() < 0.5 and not c.is_none
                ],
            )
        else:
            answer_choice_update(
                answer=answer,
                choice_id=rng.choice(choices).choice_id,
                status=rng.choice([SELECTED, SELECTED, UNSELECTED, "NOT_APPLICABLE"]),
                user=user,
            )
        if step == 80:
            review = LensReview.objects.get(workload=workload, lens=old.lens)
            lens_review_upgrade(lens_review=review, target=new, milestone_name="Before", user=alice)
            sample = [a for a in sample if Answer.objects.filter(pk=a.pk).exists()]
        assert differences() == [], f"step {step}"

    assert "match" in check()
    totals = [Practices(t["followed"], t["applicable"], t["answered"]) for t in recount().values()]
    assert any(p.followed for p in totals)


def test_a_tick_on_a_pillar_without_its_row_counts_the_pillar_again(workload, alice):
    PillarCounts.objects.filter(
        lens_review__workload=workload, pillar__pillar_id="security"
    ).delete()

    answer_choice_update(
        answer=answer_of(workload, "sec1"), choice_id="sec1_no", status=SELECTED, user=alice
    )

    assert kept(workload, "security")["high"] == 1
    assert differences() == []
