"""Which questions a workload's profile prioritises, and where that shows."""

import pytest
from django.urls import reverse

from lenses.models import Pillar
from profiles.models import WorkloadProfile
from profiles.selectors import prioritised_questions
from profiles.services import (
    ProfileError,
    profile_delete,
    profile_save,
    workload_profile_remove,
    workload_profile_set,
)
from reviews.models import LensReview, Report
from reviews.reports.rendering import lens_review_context
from reviews.reports.services import report_request
from reviews.services import workload_create
from tests.profiles.conftest import QUESTIONS, document, make_high, use
from tests.reviews.test_workbooks import book_of, by_id

W = "wellarchitected"


def test_the_ticked_choices_prioritise_their_questions(workload, profile, alice):
    use(workload, profile, alice, data=["regulated"], users=["staff", "customers"])

    assert prioritised_questions(workload) == {(W, "sec2"), (W, "rel6"), (W, "ops1")}


def test_a_workload_without_a_profile_prioritises_nothing(workload):
    assert prioritised_questions(workload) == set()


def test_changing_the_answers_changes_the_prioritised_questions_at_once(workload, profile, alice):
    use(workload, profile, alice, data=["regulated"])
    use(workload, profile, alice, data=["public"])

    assert prioritised_questions(workload) == {(W, "perf4")}


def test_an_edit_of_the_profile_shows_in_the_workloads_using_it(
    workload, profile, alice, admin_user
):
    use(workload, profile, alice, data=["public"])
    questions = [dict(q) for q in QUESTIONS]
    questions[0] = {**questions[0], "choices": [dict(c) for c in questions[0]["choices"]]}
    questions[0]["choices"][1]["prioritises"] = [{"lens": W, "question": "perf5"}]

    profile_save(document=document(questions=questions), user=admin_user, profile=profile)

    assert prioritised_questions(workload) == {(W, "perf5")}
    profile.refresh_from_db()
    assert profile.version == 2


def test_a_choice_the_profile_no_longer_has_prioritises_nothing(
    workload, profile, alice, admin_user
):
    use(workload, profile, alice, data=["public"])
    questions = [dict(QUESTIONS[0], choices=QUESTIONS[0]["choices"][:1]), QUESTIONS[1]]

    profile_save(document=document(questions=questions), user=admin_user, profile=profile)

    assert prioritised_questions(workload) == set()


def test_the_selector_costs_one_query_however_many_choices_are_ticked(
    workload, profile, alice, django_assert_num_queries
):
    use(workload, profile, alice, data=["public"])
    with django_assert_num_queries(1):
        prioritised_questions(workload)
    use(workload, profile, alice, data=["regulated"], users=["staff", "customers"])
    with django_assert_num_queries(1):
        prioritised_questions(workload)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"data": ["regulated", "public"]}, "takes one choice only"),
        ({"data": ["secret"]}, "has no choice “secret”"),
        ({"colour": ["red"]}, "has no question “colour”"),
        ({"data": "regulated"}, "must be a list of ids"),
    ],
)
def test_wrong_answers_are_refused_and_change_nothing(workload, profile, alice, answers, message):
    use(workload, profile, alice, data=["public"])

    with pytest.raises(ProfileError, match=message):
        use(workload, profile, alice, **answers)

    assert WorkloadProfile.objects.get(workload=workload).answers == {"data": ["public"]}


def test_the_pillar_order_can_be_taken_from_the_profile(workload, profile, alice):
    every = list(
        Pillar.objects.filter(lens_version__lens__alias=W)
        .order_by("order")
        .values_list("pillar_id", flat=True)
    )
    workload_profile_set(
        workload=workload,
        profile=profile,
        answers={"data": ["regulated"]},
        follows_pillar_order=True,
        user=alice,
    )

    workload.refresh_from_db()
    assert workload.pillar_priorities[:2] == ["security", "reliability"]
    assert sorted(workload.pillar_priorities) == sorted(every)


def test_without_being_asked_the_pillar_order_stays(workload, profile, alice):
    before = list(workload.pillar_priorities)
    use(workload, profile, alice, data=["regulated"])

    workload.refresh_from_db()
    assert workload.pillar_priorities == before


def test_a_change_of_answers_moves_the_versions_the_review_pages_poll(workload, profile, alice):
    review = LensReview.objects.get(workload=workload)
    use(workload, profile, alice, data=["public"])

    after = LensReview.objects.get(pk=review.pk)
    assert after.version == review.version + 1
    assert after.risk_version == review.risk_version + 1


def test_removing_the_profile_prioritises_nothing_and_moves_the_versions(workload, profile, alice):
    use(workload, profile, alice, data=["public"])
    review = LensReview.objects.get(workload=workload)

    workload_profile_remove(workload=workload)

    assert prioritised_questions(workload) == set()
    assert LensReview.objects.get(pk=review.pk).risk_version == review.risk_version + 1


def test_a_built_in_profile_cannot_be_deleted(builtin_profiles):
    with pytest.raises(ProfileError, match="cannot be deleted"):
        profile_delete(profile=builtin_profiles[0])


# -- pages ---------------------------------------------------------------------------------------


def overview_url(workload):
    return reverse("reviews:overview", args=[workload.public_id, W])


def test_the_overview_counts_prioritised_risks_apart(client, workload, profile, alice):
    make_high(workload, alice, "sec1", "sec2", "rel6")
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    page = client.get(overview_url(workload)).content.decode()

    assert "3</span> high risks" in page
    assert "2 of them prioritised" in page
    assert page.count("★ Prioritised") == 2


def test_the_overview_shows_no_prioritised_count_without_a_profile(client, workload, alice):
    make_high(workload, alice, "sec1")
    client.force_login(alice)

    assert "of them prioritised" not in client.get(overview_url(workload)).content.decode()


def test_the_question_page_marks_a_prioritised_question_in_its_header_and_sidebar(
    client, workload, profile, alice
):
    use(workload, profile, alice, data=["public"])
    client.force_login(alice)

    page = client.get(reverse("reviews:question", args=[workload.public_id, W, "perf4"]))
    other = client.get(reverse("reviews:question", args=[workload.public_id, W, "perf5"]))

    header = page.content.decode().split('id="question-title">')[1].split("</h1>")[0]
    assert "★ Prioritised" in header
    assert "★ Prioritised" not in other.content.decode().split("</h1>")[0]
    # the sidebar marks perf4 wherever one stands
    assert other.content.decode().count('aria-label="Prioritised"') == 1


def test_the_question_page_poll_notices_a_change_of_the_profile(client, workload, profile, alice):
    client.force_login(alice)
    url = reverse("reviews:question", args=[workload.public_id, W, "perf4"])
    token = client.get(url).context["poll_token"]
    poll = reverse("reviews:question_poll", args=[workload.public_id, W, "perf4"])
    assert client.get(poll, {"v": token}).status_code == 204

    use(workload, profile, alice, data=["public"])

    response = client.get(poll, {"v": token}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-label="Prioritised"' in page  # the sidebar, swapped out of band
    assert '<span id="question-priority" hx-swap-oob="true"><span class="badge' in page


def plan_url(workload, **params):
    return reverse("reviews:improvement_plan", args=[workload.public_id, W])


def test_prioritised_questions_come_first_in_the_improvement_plan(client, workload, profile, alice):
    # sec1 and ops1 high; rel6 only medium (one practice followed) but prioritised.
    make_high(workload, alice, "ops1", "sec1", "rel6")
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    entries = client.get(plan_url(workload)).context["entries"]

    ids = [entry["question"]["id"] for entry in entries]
    assert ids[0] == "rel6"
    assert [entry["prioritised"] for entry in entries] == [True, False, False]


def test_the_improvement_plan_filters_prioritised_questions_only(client, workload, profile, alice):
    make_high(workload, alice, "ops1", "sec1", "sec2")
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    response = client.get(plan_url(workload), {"prioritised": "1"})

    assert [e["question"]["id"] for e in response.context["entries"]] == ["sec2"]
    assert "1 of 3 risky questions match the filters." in response.content.decode()


def test_the_report_puts_prioritised_questions_first(workload, profile, alice):
    make_high(workload, alice, "ops1", "sec1", "rel6")
    use(workload, profile, alice, data=["regulated"])
    report = report_request(
        user=alice,
        kind=Report.Kind.LENS_REVIEW,
        workload=workload,
        lens=LensReview.objects.get(workload=workload).lens,
    )

    context = lens_review_context(report)

    assert [e["question"]["id"] for e in context["plan"]][0] == "rel6"
    assert context["prioritised_plan"] == 1


def test_the_overview_costs_the_same_queries_with_a_profile_and_more_answers(
    client, workload, profile, alice, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    use(workload, profile, alice, data=["public"])
    client.get(overview_url(workload))
    with CaptureQueriesContext(connection) as small:
        client.get(overview_url(workload))
    make_high(workload, alice, "ops1", "sec1", "sec2", "rel6", "perf4")
    use(workload, profile, alice, data=["regulated"], users=["staff", "customers"])
    with django_assert_max_num_queries(len(small)):
        client.get(overview_url(workload))


def test_another_workload_is_not_touched(workload, profile, alice):
    other = workload_create(
        owner=alice,
        name="Clinic portal",
        description="Bookings for patients.",
        environment="PRODUCTION",
        review_owner="Alice",
    )
    review = LensReview.objects.get(workload=other)
    use(workload, profile, alice, data=["public"])

    assert LensReview.objects.get(pk=review.pk).version == review.version
    assert prioritised_questions(other) == set()


def test_the_overview_lists_prioritised_questions_only_when_asked(client, workload, profile, alice):
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    every = client.get(overview_url(workload)).content.decode()
    only = client.get(overview_url(workload), {"prioritised": "1"}).content.decode()

    assert 'href="?prioritised=1">Prioritised only' in every
    assert only.count('<li id="question-') == 2
    assert "Show every question" in only
    poll = reverse("reviews:overview_poll", args=[workload.public_id, W])
    assert f"{poll}?v=" in only and "&amp;prioritised=1" in only


def test_the_pillar_page_filters_its_own_prioritised_questions(client, workload, profile, alice):
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    page = client.get(
        reverse("reviews:pillar", args=[workload.public_id, W, "reliability"]), {"prioritised": "1"}
    ).content.decode()

    assert page.count('<li id="question-') == 1  # rel6


def test_the_pdf_report_lists_the_prioritised_question_first_with_its_mark(
    workload, profile, alice, settings, tmp_path
):
    from reviews.reports.services import report_build
    from tests.reports.conftest import pdf_text

    settings.MEDIA_ROOT = tmp_path
    make_high(workload, alice, "ops1", "sec1", "rel6")
    use(workload, profile, alice, data=["regulated"])
    report = report_request(
        user=alice,
        kind=Report.Kind.LENS_REVIEW,
        workload=workload,
        lens=LensReview.objects.get(workload=workload).lens,
    )

    done = report_build(report_id=report.pk)
    with done.file.open("rb") as file:
        text = pdf_text(file.read())

    plan = text.split("Improvement plan")[-1]
    assert "The 1 prioritised by the workload's business-context profile come first." in text
    assert plan.index("How do you back up data?") < plan.index("How do you operate your workload")
    # the badges (pypdf reads them before the heading of their page)
    assert text.count("High risk★ Prioritised") == 1


def test_a_milestones_plan_puts_the_prioritised_questions_first_too(
    client, workload, profile, alice
):
    from reviews.milestones import milestone_create

    make_high(workload, alice, "ops1", "sec1", "rel6")
    milestone = milestone_create(workload=workload, name="Baseline", user=alice)
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    response = client.get(
        reverse("reviews:milestone_improvements", args=[workload.public_id, milestone.number, W])
    )

    plan = response.context["plan"]
    assert [e["question"]["id"] for e in plan][0] == "rel6"
    assert response.content.decode().count("★ Prioritised") == 1


def test_the_answers_workbook_marks_the_prioritised_questions(client, workload, profile, alice):
    use(workload, profile, alice, data=["regulated"])
    client.force_login(alice)

    response = client.get(reverse("reviews:answers_xlsx", args=[workload.public_id]))

    rows = by_id(book_of(response).worksheets[0])
    assert {qid for qid, row in rows.items() if row["Prioritised"] == "Yes"} == {"sec2", "rel6"}
    assert rows["sec1"]["Prioritised"] == "No"
