import datetime

import pytest
from django.utils import timezone

from reviews.improvements import (
    BulkChange,
    ImprovementError,
    ItemChange,
    complete_but_risky,
    improvement_item_update,
    improvement_items_bulk_update,
    improvement_status,
    improvements_sync,
    is_overdue,
    person_label,
)
from reviews.models import Answer, ImprovementItem, ImprovementStatus, Role
from reviews.services import answer_applicability_update, answer_choice_update
from tests.personas import make_viewer, team_with


def answer_of(workload, question_id="sec1") -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def set_choices(answer: Answer, user, *choice_ids: str, status="SELECTED") -> Answer:
    for choice_id in choice_ids:
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status=status, user=user
        )
    return answer


def best_practices(answer: Answer) -> list[str]:
    return list(answer.question.choices.filter(is_none=False).values_list("choice_id", flat=True))


def test_a_question_turning_high_risk_opens_an_item_due_in_30_days(workload, alice):
    set_choices(answer_of(workload), alice, "sec1_no")

    item = ImprovementItem.objects.get()
    assert item.is_open and item.status == ImprovementStatus.NOT_STARTED
    assert item.due_date == timezone.localdate() + datetime.timedelta(days=30)
    assert item.events.get().text.startswith("Opened: high risk")


def test_a_question_turning_medium_risk_opens_an_item_due_in_90_days(workload, alice):
    answer = answer_of(workload)
    answer.risk = "MEDIUM"

    improvements_sync(changes=[(answer, "UNANSWERED")], user=alice)

    assert ImprovementItem.objects.get().due_date == timezone.localdate() + datetime.timedelta(
        days=90
    )


def test_a_risk_moving_between_high_and_medium_keeps_the_item_as_it_is(workload, alice):
    answer = set_choices(answer_of(workload), alice, "sec1_no")
    due = ImprovementItem.objects.get().due_date
    answer.risk = "MEDIUM"

    improvements_sync(changes=[(answer, "HIGH")], user=alice)

    item = ImprovementItem.objects.get()
    assert item.due_date == due and item.events.count() == 1


def test_the_item_closes_when_the_risk_goes_and_reopens_with_its_history(workload, alice, bob):
    answer = set_choices(answer_of(workload), alice, "sec1_no")
    item = ImprovementItem.objects.get()
    improvement_item_update(
        item=item,
        change=ItemChange(ImprovementStatus.IN_PROGRESS, bob.pk, item.due_date, "Bob on it"),
        user=alice,
    )

    answer = set_choices(answer, alice, *best_practices(answer))
    item.refresh_from_db()
    assert answer.risk == "NONE"
    assert not item.is_open

    answer = set_choices(answer, alice, "sec1_no")
    item.refresh_from_db()
    assert item.is_open
    assert (item.comment, item.assignee) == ("Bob on it", bob)
    texts = [event.text for event in item.events.order_by("at", "pk")]
    assert texts[0].startswith("Opened")
    assert texts[2] == "Closed automatically: the question is now no risk."
    assert texts[3].startswith("Reopened")


def test_not_applicable_closes_the_item(workload, alice):
    answer = set_choices(answer_of(workload), alice, "sec1_no")

    answer_applicability_update(
        answer=answer, is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )

    assert not ImprovementItem.objects.get().is_open


def test_the_assignee_must_have_access_to_the_workload(workload, alice, mallory):
    set_choices(answer_of(workload), alice, "sec1_no")
    item = ImprovementItem.objects.get()

    with pytest.raises(ImprovementError, match="shared with"):
        improvement_item_update(
            item=item,
            change=ItemChange(ImprovementStatus.IN_PROGRESS, mallory.pk, None, ""),
            user=alice,
        )
    item.refresh_from_db()
    assert item.assignee is None and item.status == ImprovementStatus.NOT_STARTED


def test_someone_with_access_through_a_team_can_be_assigned(workload, alice, mallory):
    set_choices(answer_of(workload), alice, "sec1_no")
    team_with(workload, "Auditors", Role.READONLY, mallory)
    item = ImprovementItem.objects.get()

    improvement_item_update(
        item=item,
        change=ItemChange(ImprovementStatus.IN_PROGRESS, mallory.pk, None, ""),
        user=alice,
    )
    improvement_items_bulk_update(
        review=item.answer.lens_review,
        item_ids=[item.pk],
        change=BulkChange(assignee_id=mallory.pk),
        user=alice,
    )

    item.refresh_from_db()
    assert item.assignee == mallory


@pytest.mark.parametrize("who", ["portfolio viewer", "deactivated team member"])
def test_reading_everything_or_a_deactivated_account_is_no_ground_for_an_assignment(
    workload, alice, mallory, who
):
    set_choices(answer_of(workload), alice, "sec1_no")
    if who == "portfolio viewer":
        make_viewer(mallory)
    else:
        team_with(workload, "Platform", Role.CONTRIBUTOR, mallory)
        mallory.is_active = False
        mallory.save()
    item = ImprovementItem.objects.get()

    with pytest.raises(ImprovementError, match="shared with"):
        improvement_item_update(
            item=item,
            change=ItemChange(ImprovementStatus.IN_PROGRESS, mallory.pk, None, ""),
            user=alice,
        )


def test_an_open_unfinished_item_past_its_due_date_is_overdue(workload, alice):
    set_choices(answer_of(workload), alice, "sec1_no")
    item = ImprovementItem.objects.get()
    later = item.due_date + datetime.timedelta(days=1)

    assert not is_overdue(item, today=item.due_date)
    assert is_overdue(item, today=later)
    item.status = ImprovementStatus.RISK_ACKNOWLEDGED
    assert not is_overdue(item, today=later)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((0, 0, 0, 0, 0), "NONE"),
        ((3, 3, 0, 0, 0), "NOT_STARTED"),
        ((3, 2, 1, 0, 0), "IN_PROGRESS"),
        ((3, 2, 0, 1, 0), "IN_PROGRESS"),
        ((3, 0, 0, 3, 0), "COMPLETE"),
        ((3, 0, 0, 2, 1), "RISK_ACKNOWLEDGED"),
    ],
)
def test_the_workload_status_is_derived_from_its_items(counts, expected):
    items, not_started, in_progress, complete, acknowledged = counts

    assert (
        improvement_status(
            items=items,
            not_started=not_started,
            in_progress=in_progress,
            complete=complete,
            acknowledged=acknowledged,
        )
        == expected
    )


def test_risk_acknowledged_needs_a_comment_in_the_service_itself(workload, alice):
    set_choices(answer_of(workload), alice, "sec1_no")
    item = ImprovementItem.objects.get()

    for blank in ("", "  \n "):
        with pytest.raises(ImprovementError, match="needs a reason"):
            improvement_item_update(
                item=item,
                change=ItemChange(ImprovementStatus.RISK_ACKNOWLEDGED, None, None, blank),
                user=alice,
            )
    item.refresh_from_db()
    assert item.status == ImprovementStatus.NOT_STARTED and item.events.count() == 1


def test_a_bulk_change_is_refused_as_a_whole_when_one_item_cannot_take_it(workload, alice):
    set_choices(answer_of(workload, "sec1"), alice, "sec1_no")
    set_choices(answer_of(workload, "ops1"), alice, "ops1_no")
    explained, bare = ImprovementItem.objects.order_by("pk")
    ImprovementItem.objects.filter(pk=explained.pk).update(comment="Accepted by the board")

    with pytest.raises(ImprovementError, match="needs a reason") as refused:
        improvement_items_bulk_update(
            review=explained.answer.lens_review,
            item_ids=[explained.pk, bare.pk],
            change=BulkChange(status=ImprovementStatus.RISK_ACKNOWLEDGED),
            user=alice,
        )

    assert bare.answer.question.title in str(refused.value)
    assert explained.answer.question.title not in str(refused.value)
    assert set(ImprovementItem.objects.values_list("status", flat=True)) == {"NOT_STARTED"}


def test_a_bulk_change_records_one_history_line_per_changed_item(workload, alice, bob):
    set_choices(answer_of(workload, "sec1"), alice, "sec1_no")
    set_choices(answer_of(workload, "ops1"), alice, "ops1_no")
    first, second = ImprovementItem.objects.order_by("pk")

    changed = improvement_items_bulk_update(
        review=first.answer.lens_review,
        item_ids=[first.pk, second.pk],
        change=BulkChange(assignee_id=bob.pk, due_date=datetime.date(2031, 1, 31)),
        user=alice,
    )

    assert {item.pk for item in changed} == {first.pk, second.pk}
    for item in ImprovementItem.objects.all():
        assert (item.assignee, item.due_date) == (bob, datetime.date(2031, 1, 31))
        assert item.events.first().text == "Assignee changed; due 31 Jan 2031."
        assert item.updated_at > item.created_at


def test_an_open_item_marked_complete_is_complete_but_still_risky(workload, alice):
    answer = set_choices(answer_of(workload), alice, "sec1_no")
    item = improvement_item_update(
        item=ImprovementItem.objects.get(),
        change=ItemChange(ImprovementStatus.COMPLETE, None, None, ""),
        user=alice,
    )

    assert complete_but_risky(item)
    set_choices(answer, alice, *best_practices(answer))
    item.refresh_from_db()
    assert item.status == ImprovementStatus.COMPLETE and not complete_but_risky(item)


def test_people_are_named_by_full_name_and_username(alice):
    assert person_label(alice) == "alice"
    alice.first_name, alice.last_name = "Alice", "Archer-Montgomery"
    assert person_label(alice) == "Alice Archer-Montgomery (alice)"
