"""The improvement plan page of a lens review and the inline item updates."""

import datetime
import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from lenses.models import Choice
from lenses.services import lens_import, lens_version_publish
from reviews.models import Answer, ImprovementItem, ImprovementStatus, Role, Workload
from reviews.services import answer_choice_update, workload_add_lens, workload_create
from tests.factories import lens_bytes
from tests.personas import make_viewer, team_with

HTMX = {"HTTP_HX_REQUEST": "true"}
# session, user, workload, lens review; the snapshot: pillars, questions, choices, answers,
# choice rows, pillar notes, items; open items with the latest events (two); members (the bulk
# form's assignees, and who lost access).
PLAN_QUERIES = 13


def plan_url(workload, **params):
    url = reverse("reviews:improvement_plan", args=[workload.public_id, "wellarchitected"])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def update_url(workload, item):
    return reverse(
        "reviews:improvement_update", args=[workload.public_id, "wellarchitected", item.pk]
    )


def answer(workload, user, question_id, *choice_ids) -> Answer:
    """Tick the given choices of a question, one after the other."""
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )
    for choice_id in choice_ids:
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status="SELECTED", user=user
        )
    return answer


def item_of(workload, question_id) -> ImprovementItem:
    return ImprovementItem.objects.get(
        answer__lens_review__workload=workload, answer__question__question_id=question_id
    )


def row_of(body: str, item) -> str:
    """The table row of an item, from its opening tag to its end."""
    start = body.index(f'id="item-{item.pk}"')
    return body[body.rindex("<tr", 0, start) : body.index("</tr>", start)]


def text_of(response) -> str:
    """The page as plain text with whitespace folded, for reading sentences."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def item_data(**overrides):
    data = {"status": "IN_PROGRESS", "assignee": "", "due_date": "2030-06-30", "comment": ""}
    data.update(overrides)
    return data


def make_risky(workload, user):
    """ops1 and rel1 high, sec1 medium: one risky question in each of three pillars."""
    answer(workload, user, "ops1", "ops1_no")
    answer(workload, user, "rel1", "rel1_no")
    answer(workload, user, "sec1", "sec1_bp1", "sec1_bp2")
    return workload


@pytest.fixture
def risky(workload, alice):
    return make_risky(workload, alice)


# -- the page ------------------------------------------------------------------------------------


def test_it_lists_high_risks_first_then_in_lens_order(client, alice, risky):
    client.force_login(alice)

    response = client.get(plan_url(risky))

    assert response.status_code == 200
    order = [entry["question"]["id"] for entry in response.context["entries"]]
    assert order == ["ops1", "rel1", "sec1"]
    assert [e["question"]["risk"] for e in response.context["entries"]] == [
        "HIGH",
        "HIGH",
        "MEDIUM",
    ]


def test_pillar_priorities_order_the_risks_of_one_level(client, alice, risky):
    Workload.objects.filter(pk=risky.pk).update(pillar_priorities=["reliability", "security"])
    client.force_login(alice)

    response = client.get(plan_url(risky))

    order = [entry["question"]["id"] for entry in response.context["entries"]]
    assert order == ["rel1", "ops1", "sec1"]
    body = response.content.decode()
    rel1, ops1 = item_of(risky, "rel1"), item_of(risky, "ops1")
    assert body.index(f'id="item-{rel1.pk}"') < body.index(f'id="item-{ops1.pk}"')


def test_each_question_links_to_its_page_and_shows_its_risk_in_words(client, carol, risky):
    client.force_login(carol)

    body = client.get(plan_url(risky)).content.decode()

    question = reverse("reviews:question", args=[risky.public_id, "wellarchitected", "sec1"])
    assert f'href="{question}"' in body
    assert '<span class="badge risk-HIGH">High risk</span>' in body
    assert '<span class="badge risk-MEDIUM">Medium risk</span>' in body


def test_it_lists_the_missing_practices_with_their_improvement_plans(client, alice, risky):
    client.force_login(alice)

    response = client.get(plan_url(risky))

    sec1 = next(e for e in response.context["entries"] if e["question"]["id"] == "sec1")
    assert [choice["id"] for choice in sec1["missing"]] == [
        "sec1_bp3",
        "sec1_bp4",
        "sec1_bp5",
        "sec1_bp6",
    ]
    body = response.content.decode()
    followed = Choice.objects.get(
        choice_id="sec1_bp1", question__lens_version__lens__is_builtin=True
    )
    missing = Choice.objects.get(
        choice_id="sec1_bp3", question__lens_version__lens__is_builtin=True
    )
    assert missing.title in body and missing.improvement_plan_text in body
    assert f'href="{missing.improvement_plan_url}"' in body
    assert followed.improvement_plan_text not in body


def test_only_http_links_of_improvement_plans_are_shown(client, alice, risky):
    Choice.objects.filter(choice_id="sec1_bp3").update(
        improvement_plan_url="javascript:alert(document.cookie)"
    )
    client.force_login(alice)

    body = client.get(plan_url(risky)).content.decode()

    assert "javascript:" not in body


def test_the_summary_counts_high_medium_and_overdue(client, alice, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "sec1").pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(alice)

    response = client.get(plan_url(risky))

    assert "2 high, 1 medium, 1 overdue" in text_of(response)


def test_an_overdue_item_says_so_in_words_and_colour(client, alice, risky):
    sec1 = item_of(risky, "sec1")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ImprovementItem.objects.filter(pk=sec1.pk).update(due_date=yesterday)
    client.force_login(alice)

    body = client.get(plan_url(risky)).content.decode()

    assert f'class="plan-row risk-row-MEDIUM is-overdue" id="item-{sec1.pk}"' in body
    assert body.count('<span class="badge overdue">Overdue</span>') == 1


def test_a_complete_item_past_its_due_date_is_not_overdue(client, alice, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "sec1").pk).update(
        status=ImprovementStatus.COMPLETE,
        due_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    client.force_login(alice)

    response = client.get(plan_url(risky))

    assert "Overdue</span>" not in response.content.decode()
    assert response.context["summary"]["overdue"] == 0


def test_it_shows_each_items_history_newest_first(client, bob, risky):
    client.force_login(bob)
    sec1 = item_of(risky, "sec1")
    client.post(update_url(risky, sec1), item_data(comment="Started"))

    body = client.get(plan_url(risky)).content.decode()

    history = body[body.index(f'id="item-{sec1.pk}"') :]
    history = history[history.index("<details") : history.index("</details>")].lower()
    assert "history (2)" in history
    assert history.index("status not started → in progress") < history.index("opened: high risk")


def test_the_history_shows_only_the_latest_changes(client, bob, risky):
    client.force_login(bob)
    sec1 = item_of(risky, "sec1")
    for n in range(7):
        client.post(update_url(risky, sec1), item_data(comment=f"Step {n}"))

    body = client.get(plan_url(risky)).content.decode()

    assert "History (8)" in body
    assert "The latest 5 of 8 changes." in body


def test_it_says_when_there_is_nothing_to_improve(client, alice, workload):
    client.force_login(alice)

    response = client.get(plan_url(workload))

    assert response.context["entries"] == []
    assert "No high or medium risks in this lens review" in response.content.decode()


# -- filters -------------------------------------------------------------------------------------


def shown(response) -> list[str]:
    return [entry["question"]["id"] for entry in response.context["entries"]]


def test_it_filters_by_pillar(client, alice, risky):
    client.force_login(alice)

    assert shown(client.get(plan_url(risky, pillar="reliability"))) == ["rel1"]


def test_it_filters_by_risk(client, alice, risky):
    client.force_login(alice)

    assert shown(client.get(plan_url(risky, risk="MEDIUM"))) == ["sec1"]
    assert shown(client.get(plan_url(risky, risk="HIGH"))) == ["ops1", "rel1"]


def test_it_filters_by_status_and_by_overdue(client, alice, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "rel1").pk).update(
        status=ImprovementStatus.IN_PROGRESS,
        due_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    client.force_login(alice)

    assert shown(client.get(plan_url(risky, status="IN_PROGRESS"))) == ["rel1"]
    assert shown(client.get(plan_url(risky, status="NOT_STARTED"))) == ["ops1", "sec1"]
    assert shown(client.get(plan_url(risky, status="OVERDUE"))) == ["rel1"]
    assert shown(client.get(plan_url(risky, status="COMPLETE"))) == []


def test_filters_combine_and_the_summary_still_counts_the_whole_plan(client, alice, risky):
    client.force_login(alice)

    response = client.get(plan_url(risky, risk="HIGH", pillar="reliability"))

    assert shown(response) == ["rel1"]
    text = text_of(response)
    assert "2 high, 1 medium, 0 overdue" in text
    assert "1 of 3 risky questions match the filters." in text


def test_unknown_filter_values_are_ignored(client, alice, risky):
    client.force_login(alice)

    response = client.get(plan_url(risky, pillar="nope", risk="LOW", status="DONE"))

    assert response.status_code == 200
    assert shown(response) == ["ops1", "rel1", "sec1"]


def test_an_htmx_filter_request_gets_only_the_items(client, alice, risky):
    client.force_login(alice)

    response = client.get(plan_url(risky, risk="MEDIUM"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="items">')
    assert "<html" not in body and 'id="plan-summary"' not in body
    assert f'id="item-{item_of(risky, "sec1").pk}"' in body
    assert f'id="item-{item_of(risky, "ops1").pk}"' not in body


def test_the_csv_link_keeps_the_filters(client, alice, risky):
    client.force_login(alice)

    body = client.get(plan_url(risky, risk="HIGH"), **HTMX).content.decode()

    csv_url = reverse("reviews:improvement_csv", args=[risky.public_id, "wellarchitected"])
    assert f'href="{csv_url}?risk=HIGH"' in body


# -- access --------------------------------------------------------------------------------------


def test_the_plan_requires_login(client, risky):
    response = client.get(plan_url(risky))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_plan_is_hidden_from_users_without_access(client, mallory, admin_user, risky):
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(plan_url(risky)).status_code == 404


def test_the_plan_of_a_lens_the_workload_does_not_review_is_not_found(client, alice, risky):
    client.force_login(alice)
    url = reverse("reviews:improvement_plan", args=[risky.public_id, "other-lens"])

    assert client.get(url).status_code == 404


def test_the_plan_rejects_post(client, alice, risky):
    client.force_login(alice)

    assert client.post(plan_url(risky)).status_code == 405


def test_read_only_members_see_the_table_without_edit_controls(client, carol, risky):
    sec1 = item_of(risky, "sec1")
    ImprovementItem.objects.filter(pk=sec1.pk).update(comment="Waiting for the audit")
    client.force_login(carol)

    body = client.get(plan_url(risky)).content.decode()

    assert body.count('class="plan-row ') == 3
    assert "Waiting for the audit" in body and "Not started" in body
    assert 'class="item-form"' not in body and "<textarea" not in body
    assert 'name="items"' not in body and 'id="bulk-form"' not in body
    assert update_url(risky, sec1) not in body and ">Edit<" not in body


def test_the_plan_is_one_compact_row_per_item_with_an_edit_link(client, bob, risky):
    client.force_login(bob)

    body = client.get(plan_url(risky)).content.decode()

    # No form per item any more: one bulk form, and each row's form comes on demand.
    assert 'class="item-form"' not in body and "<textarea" not in body
    assert body.count('class="plan-row ') == 3
    sec1 = item_of(risky, "sec1")
    row = row_of(body, sec1)
    assert (
        f'href="{update_url(risky, sec1)}"' in row and f'hx-get="{update_url(risky, sec1)}"' in row
    )
    assert f'value="{sec1.pk}" form="bulk-form"' in row
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    for cell in ("Security", "Medium risk", "Not started", "Unassigned"):
        assert cell in text
    assert f"{sec1.due_date:%-d %b %Y}" in text


def test_the_bulk_form_offers_the_members_to_assign(client, bob, risky):
    client.force_login(bob)

    body = client.get(plan_url(risky)).content.decode()

    bulk = body[body.index('id="bulk-form"') : body.index("</form>", body.index('id="bulk-form"'))]
    assert ">carol</option>" in bulk and ">Nobody</option>" in bulk and "mallory" not in bulk


def test_the_assignees_offered_include_team_members_once_and_no_mere_viewers(
    client, bob, carol, mallory, risky, django_assert_max_num_queries
):
    team_with(risky, "Platform", Role.CONTRIBUTOR, mallory, carol)
    team_with(risky, "Auditors", Role.READONLY, carol)
    make_viewer(User.objects.create_user("vera", "vera@example.com", "pw-for-tests-9"))
    client.force_login(bob)

    with django_assert_max_num_queries(PLAN_QUERIES):
        body = client.get(plan_url(risky)).content.decode()

    bulk = body[body.index('id="bulk-form"') : body.index("</form>", body.index('id="bulk-form"'))]
    assert bulk.count(">carol</option>") == 1 and ">mallory</option>" in bulk
    assert "vera" not in bulk


# -- updates -------------------------------------------------------------------------------------


def test_a_contributor_updates_an_item_and_goes_back_to_the_plan(client, bob, carol, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(
        update_url(risky, sec1),
        item_data(assignee=carol.pk, comment="Carol books\r\nthe pen test"),
    )

    assert response.status_code == 302
    assert response.url == plan_url(risky) + f"#item-{sec1.pk}"
    sec1.refresh_from_db()
    assert sec1.status == ImprovementStatus.IN_PROGRESS
    assert sec1.assignee == carol
    assert sec1.due_date == datetime.date(2030, 6, 30)
    assert sec1.comment == "Carol books\nthe pen test"
    assert sec1.events.first().user == bob


def test_a_plain_update_keeps_the_filters_on_the_way_back(client, alice, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(alice)

    response = client.post(update_url(risky, sec1) + "?risk=MEDIUM&status=bogus", item_data())

    assert response.url == plan_url(risky, risk="MEDIUM") + f"#item-{sec1.pk}"


def test_an_htmx_update_gets_the_row_and_the_new_summary(client, alice, risky):
    sec1 = item_of(risky, "sec1")
    ImprovementItem.objects.filter(pk=sec1.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(alice)

    response = client.post(
        update_url(risky, sec1),
        item_data(status="RISK_ACKNOWLEDGED", due_date="", comment="Retired in March"),
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr class="plan-row risk-row-MEDIUM" id="item-{sec1.pk}"')
    assert 'class="item-form"' not in body
    assert "Saved." in body and "Risk acknowledged" in body
    assert 'id="plan-summary" hx-swap-oob="true"' in body
    assert "0 overdue" in text_of(response)
    sec1.refresh_from_db()
    assert sec1.status == ImprovementStatus.RISK_ACKNOWLEDGED and sec1.due_date is None


def test_an_assignee_without_access_is_refused(client, bob, mallory, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(update_url(risky, sec1), item_data(assignee=mallory.pk), **HTMX)

    assert response.status_code == 200
    assert "The assignee must be someone this workload is shared with." in text_of(response)
    sec1.refresh_from_db()
    assert sec1.assignee is None and sec1.status == ImprovementStatus.NOT_STARTED


def test_a_bad_due_date_is_refused_and_the_typed_values_stay(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(
        update_url(risky, sec1), item_data(due_date="31/02/2030", comment="Keep me"), **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter the due date as a date, like 2030-06-30." in body
    assert 'value="31/02/2030"' in body and "Keep me</textarea>" in body
    assert "Saved." not in body
    assert not sec1.events.filter(text__startswith="Status").exists()


def test_an_over_long_comment_is_refused(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(update_url(risky, sec1), item_data(comment="x" * 2085), **HTMX)

    assert response.status_code == 200
    assert "The comment is at most 2,084 characters (it has 2085)." in text_of(response)
    sec1.refresh_from_db()
    assert sec1.comment == ""


def test_an_unknown_status_is_refused(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(update_url(risky, sec1), item_data(status="DONE"), **HTMX)

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()


def test_invalid_input_without_htmx_shows_the_edit_page_with_the_message(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(update_url(risky, sec1), item_data(due_date="soon"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and "Back to the plan" in body
    assert "Enter the due date as a date" in body and 'value="soon"' in body


def test_an_item_whose_risk_went_away_is_not_changed(client, alice, risky):
    sec1 = item_of(risky, "sec1")
    answer(risky, alice, "sec1", "sec1_bp3", "sec1_bp4", "sec1_bp5", "sec1_bp6")
    client.force_login(alice)

    response = client.post(update_url(risky, sec1), item_data(comment="Too late"), **HTMX)

    assert response.status_code == 200
    assert "no longer high or medium risk" in response.content.decode()
    sec1.refresh_from_db()
    assert sec1.comment == "" and not sec1.is_open


def test_updates_require_login(client, risky):
    response = client.post(update_url(risky, item_of(risky, "sec1")), item_data())

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_read_only_members_may_not_update_an_item(client, carol, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(carol)

    response = client.post(update_url(risky, sec1), item_data())

    assert response.status_code == 403
    sec1.refresh_from_db()
    assert sec1.status == ImprovementStatus.NOT_STARTED


def test_users_without_access_may_not_update_an_item(client, mallory, risky):
    client.force_login(mallory)

    assert client.post(update_url(risky, item_of(risky, "sec1")), item_data()).status_code == 404


def test_an_item_of_another_workload_is_not_found(client, alice, risky):
    other = workload_create(
        owner=alice,
        name="Other",
        description="Another one.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Alice",
    )
    answer(other, alice, "sec1", "sec1_no")
    client.force_login(alice)

    response = client.post(update_url(risky, item_of(other, "sec1")), item_data())

    assert response.status_code == 404
    assert item_of(other, "sec1").status == ImprovementStatus.NOT_STARTED


def test_updates_reject_other_methods(client, alice, risky):
    client.force_login(alice)

    assert client.put(update_url(risky, item_of(risky, "sec1"))).status_code == 405


# -- queries -------------------------------------------------------------------------------------


def test_the_plan_takes_the_same_number_of_queries_however_long(
    client, alice, bob, workload, django_assert_max_num_queries
):
    client.force_login(alice)
    answer(workload, alice, "sec1", "sec1_no")
    with django_assert_max_num_queries(PLAN_QUERIES):
        response = client.get(plan_url(workload))
    assert len(response.context["entries"]) == 1

    for question_id in ("ops1", "ops2", "sec2", "rel1", "rel2", "perf1", "cost1", "sus1"):
        answer(workload, alice, question_id, f"{question_id}_no")
    for item in ImprovementItem.objects.all()[:4]:
        client.post(update_url(workload, item), item_data(assignee=bob.pk, comment="On it"))

    with django_assert_max_num_queries(PLAN_QUERIES):
        response = client.get(plan_url(workload))
    assert len(response.context["entries"]) == 9


def test_the_lens_review_overview_links_to_the_plan_and_the_answers_csv(client, carol, workload):
    client.force_login(carol)
    args = [workload.public_id, "wellarchitected"]

    body = client.get(reverse("reviews:overview", args=args)).content.decode()

    assert f'href="{reverse("reviews:improvement_plan", args=args)}"' in body
    assert f'href="{reverse("reviews:answers_csv", args=args)}"' in body


# -- editing in place ----------------------------------------------------------------------------


def row_url(workload, item):
    return reverse("reviews:improvement_row", args=[workload.public_id, "wellarchitected", item.pk])


def test_edit_gives_htmx_the_items_row_as_a_small_form(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.get(update_url(risky, sec1) + "?risk=MEDIUM", **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(
        f'<tr class="plan-row is-editing risk-row-MEDIUM" id="item-{sec1.pk}"'
    )
    assert "<html" not in body
    assert f'hx-post="{update_url(risky, sec1)}?risk=MEDIUM" hx-target="closest tr"' in body
    assert f'id="item-{sec1.pk}-status"' in body and f'id="item-{sec1.pk}-comment"' in body
    assert f'hx-get="{row_url(risky, sec1)}?risk=MEDIUM"' in body  # Cancel


def test_edit_without_javascript_is_a_page_of_its_own(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.get(update_url(risky, sec1))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and "Back to the plan" in body
    assert f'<form class="item-form" method="post" action="{update_url(risky, sec1)}">' in body
    assert "Best practices not yet followed" in body


def test_read_only_members_may_not_open_the_edit_form(client, carol, risky):
    client.force_login(carol)

    assert client.get(update_url(risky, item_of(risky, "sec1")), **HTMX).status_code == 403


def test_cancel_puts_the_items_row_back(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.get(row_url(risky, sec1), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr class="plan-row risk-row-MEDIUM" id="item-{sec1.pk}"')
    assert 'class="item-form"' not in body and f'href="{update_url(risky, sec1)}"' in body


def test_the_row_without_htmx_is_the_plan_at_the_item(client, carol, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(carol)

    response = client.get(row_url(risky, sec1) + "?pillar=security")

    assert response.status_code == 302
    assert response.url == plan_url(risky, pillar="security") + f"#item-{sec1.pk}"


def test_a_read_only_members_row_has_no_edit_controls(client, carol, risky):
    client.force_login(carol)

    body = client.get(row_url(risky, item_of(risky, "sec1")), **HTMX).content.decode()

    assert 'type="checkbox"' not in body and ">Edit<" not in body


def test_the_edit_form_of_a_closed_item_says_it_closed(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    answer(risky, bob, "sec1", "sec1_bp3", "sec1_bp4", "sec1_bp5", "sec1_bp6")
    client.force_login(bob)

    response = client.get(update_url(risky, sec1), **HTMX)

    assert "no longer high or medium risk" in response.content.decode()


# -- risk acknowledged and complete ---------------------------------------------------------------


def test_risk_acknowledged_without_a_reason_is_refused_and_nothing_changes(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    response = client.post(
        update_url(risky, sec1), item_data(status="RISK_ACKNOWLEDGED", comment="  "), **HTMX
    )

    assert response.status_code == 200
    assert "“Risk acknowledged” needs a reason" in text_of(response)
    assert 'class="item-form"' in response.content.decode()  # the form stays, with the message
    sec1.refresh_from_db()
    assert sec1.status == ImprovementStatus.NOT_STARTED


def test_risk_acknowledged_with_a_reason_is_saved(client, bob, risky):
    sec1 = item_of(risky, "sec1")
    client.force_login(bob)

    client.post(
        update_url(risky, sec1),
        item_data(status="RISK_ACKNOWLEDGED", comment="The service is retired in March."),
    )

    sec1.refresh_from_db()
    assert sec1.status == ImprovementStatus.RISK_ACKNOWLEDGED
    assert sec1.comment == "The service is retired in March."


def test_marking_complete_while_still_risky_warns_in_the_row_and_above(client, bob, risky):
    ops1 = item_of(risky, "ops1")
    client.force_login(bob)

    response = client.post(update_url(risky, ops1), item_data(status="COMPLETE"), **HTMX)

    body = response.content.decode()
    row = row_of(body, ops1)
    assert "Still high risk: the answers do not show the improvement yet." in text_of_html(row)
    notices = body[body.index('id="plan-notices"') :]
    assert 'hx-swap-oob="true"' in notices[:80]
    assert "is marked complete but is still high risk" in text_of_html(notices)
    ops1.refresh_from_db()
    assert ops1.status == ImprovementStatus.COMPLETE


def test_marking_complete_without_javascript_warns_after_saving(client, bob, risky):
    ops1 = item_of(risky, "ops1")
    client.force_login(bob)

    response = client.post(update_url(risky, ops1), item_data(status="COMPLETE"), follow=True)

    levels = [m.level_tag for m in response.context["messages"]]
    assert levels == ["success", "warning"]
    text = text_of(response)
    assert "is marked complete but is still high risk" in text
    assert "Still high risk: the answers do not show the improvement yet." in text


def test_a_complete_item_whose_risk_stays_is_flagged_for_every_reader(client, carol, risky):
    ImprovementItem.objects.filter(pk=item_of(risky, "rel1").pk).update(status="COMPLETE")
    client.force_login(carol)

    body = client.get(plan_url(risky)).content.decode()

    assert body.count('class="row-warning"') == 1
    assert "Still high risk" in text_of_html(row_of(body, item_of(risky, "rel1")))


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# -- assignees -----------------------------------------------------------------------------------


def test_assignees_are_named_in_full_in_the_row_and_the_choices(client, alice, bob, risky):
    bob.first_name, bob.last_name = "Maximiliane", "von Wolkenstein-Rodenegg"
    bob.save()
    sec1 = item_of(risky, "sec1")
    ImprovementItem.objects.filter(pk=sec1.pk).update(assignee=bob)
    client.force_login(alice)

    body = client.get(plan_url(risky)).content.decode()
    form = client.get(update_url(risky, sec1), **HTMX).content.decode()

    full = "Maximiliane von Wolkenstein-Rodenegg (bob)"
    assert f'<span class="person">{full}</span>' in row_of(body, sec1)
    assert f">{full}</option>" in form
    assert f">{full}</option>" in body  # the bulk form


# -- queries -------------------------------------------------------------------------------------


def add_forty_questions(workload):
    """A lens of 4 pillars × 10 questions added to the workload (every answer high risk when
    "None of these" is ticked)."""
    version = lens_import(raw=lens_bytes(pillars=4, questions=10))
    version = lens_version_publish(lens_version=version, version="1.0")
    workload_add_lens(workload=workload, lens=version.lens)
    return version.lens


@pytest.fixture
def forty_questions(workload):
    return add_forty_questions(workload)


def risky_items(workload, lens, user, count):
    answers = Answer.objects.select_related("question", "lens_review").filter(
        lens_review__workload=workload, lens_review__lens=lens
    )
    for one in answers.order_by("question__order", "question__pillar__order")[:count]:
        answer_choice_update(
            answer=one, choice_id=f"{one.question.question_id}_no", status="SELECTED", user=user
        )


@pytest.mark.parametrize("count", [5, 40])
def test_the_plan_table_takes_the_same_number_of_queries_for_5_and_40_items(
    client, alice, bob, workload, forty_questions, count, django_assert_max_num_queries
):
    risky_items(workload, forty_questions, alice, count)
    items = ImprovementItem.objects.filter(answer__lens_review__lens=forty_questions)
    items.update(assignee=bob, comment="On it")
    client.force_login(alice)
    url = reverse("reviews:improvement_plan", args=[workload.public_id, forty_questions.alias])

    with django_assert_max_num_queries(PLAN_QUERIES):
        response = client.get(url)

    assert len(response.context["entries"]) == count


# The plan's reads and the item; saving adds the savepoint and its release, the item locked,
# the assignee checked, the UPDATE, the history line and the item read again.
ROW_QUERIES = PLAN_QUERIES + 1
SAVE_QUERIES = ROW_QUERIES + 7


@pytest.mark.parametrize("count", [5, 40])
def test_editing_a_row_takes_the_same_number_of_queries_for_5_and_40_items(
    client, alice, bob, workload, forty_questions, count, django_assert_max_num_queries
):
    risky_items(workload, forty_questions, alice, count)
    item = ImprovementItem.objects.filter(answer__lens_review__lens=forty_questions).first()
    url = reverse(
        "reviews:improvement_update", args=[workload.public_id, forty_questions.alias, item.pk]
    )
    client.force_login(alice)

    with django_assert_max_num_queries(ROW_QUERIES):
        assert client.get(url, **HTMX).status_code == 200
    with django_assert_max_num_queries(SAVE_QUERIES):
        response = client.post(url, item_data(assignee=bob.pk), **HTMX)

    assert "Saved." in response.content.decode()
