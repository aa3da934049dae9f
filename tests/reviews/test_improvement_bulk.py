"""Bulk changes on the improvement plan: one status, assignee or due date for many items."""

import datetime

import pytest
from django.urls import reverse

from reviews.models import ImprovementItem, ImprovementStatus, Workload
from reviews.services import workload_create
from tests.reviews.test_improvement_plan import (
    HTMX,
    PLAN_QUERIES,
    add_forty_questions,
    answer,
    item_of,
    make_risky,
    plan_url,
    risky_items,
    text_of,
)

# session, user, workload, lens review, members; the savepoint and its release, the items
# locked, the assignee checked, one UPDATE of all items, one INSERT of all events; then the plan
# for htmx, less the four reads it shares with the post (session, user, workload, lens review).
BULK_QUERIES = 5 + 6 + PLAN_QUERIES - 4


@pytest.fixture
def risky(workload, alice):
    return make_risky(workload, alice)


@pytest.fixture
def forty_questions(workload):
    return add_forty_questions(workload)


def bulk_url(workload, alias="wellarchitected", query=""):
    url = reverse("reviews:improvement_bulk", args=[workload.public_id, alias])
    return f"{url}?{query}" if query else url


def items(workload, *question_ids):
    return [item_of(workload, question_id).pk for question_id in question_ids]


def data(item_ids, **fields):
    values = {"items": [str(pk) for pk in item_ids], "status": "", "assignee": "", "due_date": ""}
    values.update(fields)
    return values


def state(workload, question_id):
    item = item_of(workload, question_id)
    return (item.status, item.assignee_id, item.due_date, item.comment)


def test_it_sets_status_assignee_and_due_date_of_the_ticked_items_only(client, bob, carol, risky):
    client.force_login(bob)
    untouched = state(risky, "rel1")

    response = client.post(
        bulk_url(risky),
        data(
            items(risky, "ops1", "sec1"),
            status="IN_PROGRESS",
            assignee=str(carol.pk),
            due_date="2030-06-30",
        ),
    )

    assert response.status_code == 302 and response.url == plan_url(risky)
    for question_id in ("ops1", "sec1"):
        assert state(risky, question_id) == (
            ImprovementStatus.IN_PROGRESS,
            carol.pk,
            datetime.date(2030, 6, 30),
            "",
        )
        event = item_of(risky, question_id).events.first()
        assert event.user == bob and event.text.startswith("Status Not started → In progress")
    assert state(risky, "rel1") == untouched
    messages = [str(m) for m in client.get(response.url).context["messages"]]
    assert messages == ["Changed 2 items."]


def test_blank_fields_keep_each_items_own_value(client, alice, bob, carol, risky):
    sec1 = item_of(risky, "sec1")
    ImprovementItem.objects.filter(pk=sec1.pk).update(assignee=carol, status="IN_PROGRESS")
    ops1_due = item_of(risky, "ops1").due_date
    client.force_login(alice)

    client.post(bulk_url(risky), data(items(risky, "ops1", "sec1"), assignee=str(bob.pk)))

    assert state(risky, "sec1")[:3] == ("IN_PROGRESS", bob.pk, sec1.due_date)
    assert state(risky, "ops1")[:3] == ("NOT_STARTED", bob.pk, ops1_due)


def test_nobody_unassigns_the_ticked_items(client, alice, carol, risky):
    ImprovementItem.objects.update(assignee=carol)
    client.force_login(alice)

    client.post(bulk_url(risky), data(items(risky, "ops1", "rel1"), assignee="none"))

    assert state(risky, "ops1")[1] is None and state(risky, "rel1")[1] is None
    assert state(risky, "sec1")[1] == carol.pk


def test_risk_acknowledged_for_many_is_all_or_nothing_and_names_who_lacks_a_reason(
    client, bob, risky
):
    ImprovementItem.objects.filter(pk=item_of(risky, "ops1").pk).update(comment="Accepted")
    before = {q: state(risky, q) for q in ("ops1", "rel1", "sec1")}
    client.force_login(bob)

    response = client.post(
        bulk_url(risky), data(items(risky, "ops1", "rel1", "sec1"), status="RISK_ACKNOWLEDGED")
    )

    assert response.status_code == 200
    text = text_of(response)
    assert "Nothing was changed." in text
    rel1, sec1 = item_of(risky, "rel1").answer.question, item_of(risky, "sec1").answer.question
    assert (
        "“Risk acknowledged” needs a reason: say in the comment why the risk is accepted "
        f"(“{rel1.title}”, “{sec1.title}”)." in text
    )
    assert text.count("needs a reason") == 1
    assert {q: state(risky, q) for q in before} == before
    # The ticks stay, so fixing the form is one step.
    body = response.content.decode()
    for pk in items(risky, "ops1", "rel1", "sec1"):
        assert f'value="{pk}" form="bulk-form" id="tick-item-{pk}" checked' in body


def test_the_bulk_comment_is_the_reason_and_joins_each_comment(client, bob, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "ops1").pk).update(comment="Discussed")
    client.force_login(bob)

    client.post(
        bulk_url(risky),
        data(items(risky, "ops1", "rel1"), status="RISK_ACKNOWLEDGED", reason="Retired in May"),
    )

    assert state(risky, "ops1")[::3] == ("RISK_ACKNOWLEDGED", "Discussed\nRetired in May")
    assert state(risky, "rel1")[::3] == ("RISK_ACKNOWLEDGED", "Retired in May")


def test_one_closed_item_stops_the_whole_change(client, alice, risky):
    ticked = items(risky, "ops1", "sec1")
    answer(risky, alice, "sec1", "sec1_bp3", "sec1_bp4", "sec1_bp5", "sec1_bp6")
    client.force_login(alice)

    response = client.post(bulk_url(risky), data(ticked, status="IN_PROGRESS"))

    assert "is no longer high or medium risk" in text_of(response)
    assert state(risky, "ops1")[0] == "NOT_STARTED"


def test_marking_many_complete_warns_about_each_that_is_still_risky(client, bob, risky):
    client.force_login(bob)

    response = client.post(
        bulk_url(risky), data(items(risky, "ops1", "sec1"), status="COMPLETE"), follow=True
    )

    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages[0] == ("success", "Changed 2 items.")
    assert [level for level, _ in messages[1:]] == ["warning", "warning"]
    assert "is marked complete but is still medium risk" in messages[2][1]
    assert text_of(response).count("the answers do not show the improvement yet") == 2


def test_items_that_have_the_values_already_are_counted_apart(client, bob, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "ops1").pk).update(status="IN_PROGRESS")
    client.force_login(bob)

    response = client.post(
        bulk_url(risky), data(items(risky, "ops1", "sec1"), status="IN_PROGRESS"), follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Changed 1 of 2 ticked items; the others had these values already."
    ]
    assert item_of(risky, "ops1").events.count() == 1  # only "Opened"

    again = client.post(
        bulk_url(risky), data(items(risky, "ops1", "sec1"), status="IN_PROGRESS"), follow=True
    )

    assert [str(m) for m in again.context["messages"]] == [
        "Nothing to change: the ticked items have these values already."
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"items": []}, "Tick the items to change first."),
        ({}, "Choose a status, an assignee or a due date to set."),
        ({"status": "DONE"}, "Select a valid choice."),
        ({"due_date": "31/02/2030"}, "Enter the due date as a date, like 2030-06-30."),
        (
            {"items": ["²"], "status": "COMPLETE"},
            "Some ticked items are not in this plan. Reload the plan.",
        ),
        (
            {"items": ["abc"], "status": "COMPLETE"},
            "Some ticked items are not in this plan. Reload the plan.",
        ),
        (
            {"items": ["99999"], "status": "COMPLETE"},
            "Some ticked items are not in this plan. Reload the plan.",
        ),
        ({"reason": "x" * 501}, "Ensure this value has at most 500 characters"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(client, bob, risky, fields, message):
    before = {q: state(risky, q) for q in ("ops1", "rel1", "sec1")}
    client.force_login(bob)

    response = client.post(bulk_url(risky), data(items(risky, "ops1", "sec1"), **fields))

    assert response.status_code == 200
    assert "Nothing was changed." in text_of(response) and message in text_of(response)
    assert {q: state(risky, q) for q in before} == before


def test_an_assignee_without_access_is_refused(client, bob, mallory, risky):
    client.force_login(bob)

    response = client.post(bulk_url(risky), data(items(risky, "ops1"), assignee=str(mallory.pk)))

    assert "The assignee must be someone this workload is shared with." in text_of(response)
    assert state(risky, "ops1")[1] is None


def test_an_item_of_another_workload_is_refused(client, alice, risky):
    other = workload_create(
        owner=alice,
        name="Other",
        description="Another one.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Alice",
    )
    answer(other, alice, "sec1", "sec1_no")
    client.force_login(alice)

    response = client.post(
        bulk_url(risky), data([*items(risky, "ops1"), item_of(other, "sec1").pk], status="COMPLETE")
    )

    assert "Some ticked items are not in this plan" in text_of(response)
    assert state(other, "sec1")[0] == state(risky, "ops1")[0] == "NOT_STARTED"


def test_htmx_gets_the_table_with_the_message_and_the_summary(client, bob, risky):
    client.force_login(bob)

    response = client.post(
        bulk_url(risky, query="risk=HIGH"),
        data(items(risky, "ops1", "rel1"), status="IN_PROGRESS"),
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="items">') and "<html" not in body
    assert "Changed 2 items." in text_of(response)
    assert 'id="plan-summary" hx-swap-oob="true"' in body
    # The filters ride along: only the high risks are listed.
    assert body.count('class="plan-row ') == 2


def test_htmx_errors_come_back_with_200_so_they_are_swapped_in(client, bob, risky):
    client.force_login(bob)

    response = client.post(bulk_url(risky), data([], status="COMPLETE"), **HTMX)

    assert response.status_code == 200
    assert "Tick the items to change first." in text_of(response)


# -- access --------------------------------------------------------------------------------------


def test_bulk_changes_require_login(client, risky):
    response = client.post(bulk_url(risky), data(items(risky, "ops1"), status="COMPLETE"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_read_only_members_may_not_change_items_in_bulk(client, carol, risky):
    client.force_login(carol)

    response = client.post(bulk_url(risky), data(items(risky, "ops1"), status="COMPLETE"))

    assert response.status_code == 403
    assert state(risky, "ops1")[0] == "NOT_STARTED"


def test_users_without_access_get_404(client, mallory, risky):
    client.force_login(mallory)

    response = client.post(bulk_url(risky), data(items(risky, "ops1"), status="COMPLETE"))

    assert response.status_code == 404


def test_bulk_changes_reject_get(client, alice, risky):
    client.force_login(alice)

    assert client.get(bulk_url(risky)).status_code == 405


# -- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 40])
def test_a_bulk_change_takes_the_same_number_of_queries_for_5_and_40_items(
    client, alice, bob, workload, forty_questions, count, django_assert_max_num_queries
):
    risky_items(workload, forty_questions, alice, count)
    ticked = ImprovementItem.objects.filter(answer__lens_review__lens=forty_questions)
    client.force_login(alice)
    url = bulk_url(workload, alias=forty_questions.alias)
    values = data(ticked.values_list("pk", flat=True), status="IN_PROGRESS", assignee=str(bob.pk))

    with django_assert_max_num_queries(BULK_QUERIES):
        response = client.post(url, values, **HTMX)

    assert "Changed" in text_of(response)
    assert ticked.filter(status="IN_PROGRESS", assignee=bob).count() == count
