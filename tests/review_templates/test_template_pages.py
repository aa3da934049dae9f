"""The review template pages, as people use them."""

import re

import pytest
from django.urls import reverse

from lenses.models import Lens
from review_templates.models import Propagation, ReviewTemplate, TemplateAnswer
from review_templates.services import template_apply, template_create, template_share
from reviews.models import Answer, Role
from reviews.services import answer_choice_update
from tests.review_templates.test_template_services import set_answer
from tests.reviews.test_workloads import form_data


@pytest.fixture
def template(builtin_lens, alice, bob, carol):
    template = template_create(
        owner=alice,
        name="Platform baseline",
        lenses=[Lens.objects.get(alias="wellarchitected")],
    )
    template_share(template=template, user=bob, role=Role.CONTRIBUTOR)
    template_share(template=template, user=carol, role=Role.READONLY)
    return template


def question_url(template, qid="sec1"):
    return reverse(
        "review_templates:question",
        kwargs={"template_id": template.public_id, "alias": "wellarchitected", "question_id": qid},
    )


def test_the_list_shows_the_templates_shared_with_the_user_only(client, template, mallory, carol):
    client.force_login(carol)
    assert "Platform baseline" in client.get(reverse("review_templates:list")).text
    client.force_login(mallory)
    assert "Platform baseline" not in client.get(reverse("review_templates:list")).text


def test_creating_a_template_needs_a_lens_and_says_what_is_missing(client, builtin_lens, alice):
    client.force_login(alice)
    response = client.post(reverse("review_templates:list"), {"name": "Security"})
    assert response.status_code == 200
    assert "This field is required" in response.text
    assert not ReviewTemplate.objects.exists()

    lens = Lens.objects.get(alias="wellarchitected")
    response = client.post(
        reverse("review_templates:list"), {"name": "Security", "lenses": lens.pk}
    )
    template = ReviewTemplate.objects.get()
    assert response.url == reverse("review_templates:detail", args=[template.public_id])


def test_a_contributor_answers_a_question_of_the_template(client, template, bob):
    client.force_login(bob)
    response = client.post(
        question_url(template),
        {
            "status-sec1_bp1": "SELECTED",
            "status-sec1_bp2": "NOT_APPLICABLE",
            "reason-sec1_bp2": "BUSINESS_PRIORITIES",
            "notes-sec1_bp2": "Handled by the platform team",
            "notes": "One account per team.",
        },
    )
    assert response.status_code == 302
    saved = TemplateAnswer.objects.get()
    assert saved.choices == {
        "sec1_bp1": {"status": "SELECTED", "reason": "NONE", "notes": ""},
        "sec1_bp2": {
            "status": "NOT_APPLICABLE",
            "reason": "BUSINESS_PRIORITIES",
            "notes": "Handled by the platform team",
        },
    }
    page = client.get(question_url(template)).text
    assert "Handled by the platform team" in page
    assert "One account per team." in page


def test_a_contradictory_answer_is_refused_on_the_page_and_nothing_is_saved(client, template, bob):
    client.force_login(bob)
    response = client.post(
        question_url(template), {"status-sec1_bp1": "SELECTED", "status-sec1_no": "SELECTED"}
    )
    assert response.status_code == 200
    assert "cannot be selected together" in response.text
    assert not TemplateAnswer.objects.exists()


def test_a_reader_cannot_answer_and_an_outsider_does_not_see_the_template(
    client, template, carol, mallory
):
    client.force_login(carol)
    assert client.get(question_url(template)).status_code == 200
    assert client.post(question_url(template), {"status-sec1_bp1": "SELECTED"}).status_code == 403
    client.force_login(mallory)
    assert client.get(question_url(template)).status_code == 404


def test_applying_needs_write_access_to_the_workload(client, template, workload, carol, bob):
    set_answer(template, "sec1", bob, "sec1_bp1")
    url = reverse("review_templates:apply", args=[template.public_id])
    client.force_login(carol)  # reads both
    assert client.post(url, {"workload": workload.public_id}).status_code == 403
    client.force_login(bob)  # reads the template, contributes to the workload
    assert client.post(url, {"workload": workload.public_id}).status_code == 302
    assert (
        Answer.objects.get(lens_review__workload=workload, question__question_id="sec1").template
        == template
    )


def test_the_question_page_of_a_workload_says_which_template_an_answer_came_from(
    client, template, workload, alice, bob
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    template_apply(template=template, workload=workload, user=alice)
    url = reverse("reviews:question", args=[workload.public_id, "wellarchitected", "sec1"])
    client.force_login(bob)

    page = client.get(url).text
    assert "From template <strong>Platform baseline</strong>." in page
    assert "from template Platform baseline" in page  # the history

    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )
    answer_choice_update(answer=answer, choice_id="sec1_bp2", status="SELECTED", user=bob)
    assert "changed in this workload since" in client.get(url).text


def test_a_tick_and_a_poll_say_at_once_that_the_workload_changed_an_answer_from_a_template(
    client, template, workload, alice, bob, carol
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    template_apply(template=template, workload=workload, user=alice)
    url = reverse("reviews:question", args=[workload.public_id, "wellarchitected", "sec1"])
    client.force_login(carol)
    token = re.search(r'data-version="([^"]+)"', client.get(url).text)[1]
    client.force_login(bob)
    page = re.search(r'data-version="([^"]+)"', client.get(url).text)[1]
    assert "changed in this workload since" not in client.get(url).text

    tick = client.post(
        url + "choices/sec1_bp2/", {"status": "SELECTED", "v": page}, HTTP_HX_REQUEST="true"
    ).text
    client.force_login(carol)
    polled = client.get(url + "poll/", {"v": token}, HTTP_HX_REQUEST="true").text

    for body in (tick, polled):
        assert 'id="answer-origin" hx-swap-oob="true"' in body or "question-live" in body
        assert "changed in this workload since" in body


def test_the_propagation_card_polls_while_a_propagation_runs(client, template, alice):
    client.force_login(alice)
    client.post(reverse("review_templates:propagate", args=[template.public_id]))
    assert Propagation.objects.get().status == Propagation.Status.QUEUED

    card = client.get(reverse("review_templates:progress", args=[template.public_id])).text
    assert 'hx-trigger="every 1s"' in card
    Propagation.objects.update(status=Propagation.Status.DONE)
    card = client.get(reverse("review_templates:progress", args=[template.public_id])).text
    assert "every 1s" not in card


def test_templates_stay_out_of_the_workload_list_and_the_dashboard(client, template, alice):
    client.force_login(alice)
    assert "Platform baseline" not in client.get(reverse("reviews:workload_list")).text
    assert "Platform baseline" not in client.get(reverse("reviews:dashboard")).text


def test_the_template_list_takes_the_same_queries_for_more_templates(
    client, builtin_lens, alice, django_assert_max_num_queries
):
    lens = Lens.objects.get(alias="wellarchitected")
    template_create(owner=alice, name="First one", lenses=[lens])
    client.force_login(alice)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("review_templates:list"))
    for n in range(6):
        template_create(owner=alice, name=f"Template {n}", lenses=[lens])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("review_templates:list"))


def test_the_template_page_takes_the_same_queries_for_more_answers(
    client, template, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    url = reverse("review_templates:detail", args=[template.public_id])
    set_answer(template, "sec1", alice, "sec1_bp1")
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for qid in ("sec2", "sec3", "sec4", "rel1"):
        set_answer(template, qid, alice, f"{qid}_bp1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_a_workload_created_with_a_template_starts_with_its_answers(
    client, template, alice, mallory
):
    set_answer(template, "sec1", alice, "sec1_bp1")
    client.force_login(alice)
    assert "Platform baseline" in client.get(reverse("reviews:workload_create")).text

    response = client.post(
        reverse("reviews:workload_create"),
        {**form_data(name="Checkout"), "templates": template.public_id},
    )

    assert response.status_code == 302
    answer = Answer.objects.get(
        lens_review__workload__name="Checkout", question__question_id="sec1"
    )
    assert answer.template == template


def test_a_template_that_is_not_shared_stops_the_creation_with_a_message(client, template, mallory):
    client.force_login(mallory)
    response = client.post(
        reverse("reviews:workload_create"),
        {**form_data(name="Checkout"), "templates": template.public_id},
    )

    assert response.status_code == 200
    assert "not shared with you" in response.text
    assert not Answer.objects.filter(lens_review__workload__name="Checkout").exists()
