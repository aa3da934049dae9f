"""A workload's "updated" time follows its answers and notes, on every page that shows it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews.models import Answer, LensReview, Workload
from reviews.services import answer_choice_update, answer_notes_update

LONG_AGO = timezone.make_aware(datetime.datetime(2024, 3, 1, 9, 30))


def shown_updated(client, workload) -> str:
    """The workload page's "Updated" line, as text."""
    body = client.get(reverse("reviews:workload_detail", args=[workload.public_id])).content
    line = re.search(r"<span>Updated (.*?)</span>", body.decode()).group(1)
    return re.sub(r"<[^>]+>", "", line).strip()


def as_shown(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %b %Y, %H:%M}"


@pytest.fixture
def old_workload(workload):
    """The workload and its reviews last changed long ago."""
    Workload.objects.filter(pk=workload.pk).update(updated_at=LONG_AGO)
    LensReview.objects.filter(workload=workload).update(updated_at=LONG_AGO)
    return workload


def sec1(workload) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )


def review_time(workload) -> datetime.datetime:
    return LensReview.objects.get(workload=workload, lens__is_builtin=True).updated_at


def test_a_tick_moves_the_workloads_updated_time(client, carol, old_workload, bob):
    answer_choice_update(
        answer=sec1(old_workload), choice_id="sec1_bp1", status="SELECTED", user=bob
    )
    client.force_login(carol)

    assert shown_updated(client, old_workload) == as_shown(review_time(old_workload))
    assert shown_updated(client, old_workload) != as_shown(LONG_AGO)


def test_a_notes_change_moves_it_too(client, carol, old_workload, bob):
    answer_notes_update(answer=sec1(old_workload), notes="Checked.", base_version=0, user=bob)
    client.force_login(carol)

    assert shown_updated(client, old_workload) == as_shown(review_time(old_workload))


def test_the_workload_page_and_the_list_show_the_same_time(client, carol, old_workload, bob):
    answer_choice_update(
        answer=sec1(old_workload), choice_id="sec1_bp1", status="SELECTED", user=bob
    )
    client.force_login(carol)

    listed = client.get(reverse("reviews:workload_list")).content.decode()

    assert shown_updated(client, old_workload) in listed


def test_without_changes_it_stays_the_workloads_own_time(client, carol, old_workload):
    client.force_login(carol)

    assert shown_updated(client, old_workload) == as_shown(LONG_AGO)
