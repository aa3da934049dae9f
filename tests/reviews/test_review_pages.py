import re

from django.urls import reverse

from reviews.models import Answer, LensReview, PillarNote, Workload
from reviews.services import answer_choice_update

HTMX = {"HTTP_HX_REQUEST": "true"}


def review_url(name, workload, *extra):
    return reverse(f"reviews:{name}", args=[workload.public_id, "wellarchitected", *extra])


def review_of(workload) -> LensReview:
    return LensReview.objects.get(workload=workload, lens__alias="wellarchitected")


def tick(workload, user, question_id, choice_id):
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )
    answer_choice_update(answer=answer, choice_id=choice_id, status="SELECTED", user=user)


def test_the_overview_shows_counts_per_pillar_and_every_question_with_its_risk(
    client, workload, alice
):
    tick(workload, alice, "sec1", "sec1_no")
    client.force_login(alice)

    response = client.get(review_url("overview", workload))

    body = response.content.decode()
    security = next(p for p in response.context["pillars"] if p.pillar_id == "security")
    assert response.status_code == 200
    assert security.counts["high"] == 1 and security.counts["answered"] == 1
    assert response.context["totals"]["answered"] == 1
    assert "Operational Excellence" in body and "Sustainability" in body
    assert body.count('class="badge risk-UNANSWERED"') == response.context["totals"]["total"] - 1
    assert "1 high" in body


def test_the_overview_takes_a_constant_number_of_queries(
    client, workload, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    # eight, two for the scores (the lens's choices, the answers with their choice rows) and the
    # workload's profile (its prioritised questions)
    with django_assert_max_num_queries(11) as empty:
        client.get(review_url("overview", workload))
    for question_id in ("sec1", "sec2", "rel1", "ops1", "cost1"):
        tick(workload, alice, question_id, f"{question_id}_no")

    with django_assert_max_num_queries(len(empty.captured_queries)):
        client.get(review_url("overview", workload))


def test_the_overview_requires_login_and_access(client, workload, mallory):
    assert client.get(review_url("overview", workload)).status_code == 302
    client.force_login(mallory)
    assert client.get(review_url("overview", workload)).status_code == 404


def test_a_lens_the_workload_does_not_review_is_not_found(client, workload, alice):
    client.force_login(alice)
    url = reverse("reviews:overview", args=[workload.public_id, "some-other-lens"])

    assert client.get(url).status_code == 404


def test_the_pillar_page_lists_only_that_pillars_questions(client, workload, carol):
    client.force_login(carol)

    response = client.get(review_url("pillar", workload, "reliability"))

    body = response.content.decode()
    assert response.status_code == 200
    assert [p.pillar_id for p in response.context["shown_pillars"]] == ["reliability"]
    assert response.context["previous_pillar"].pillar_id == "security"
    assert response.context["next_pillar"].pillar_id == "performance"
    assert "Pillar notes" in body


def test_an_unknown_pillar_is_not_found(client, workload, alice):
    client.force_login(alice)

    assert client.get(review_url("pillar", workload, "nope")).status_code == 404


def test_the_overview_poll_answers_204_until_something_changes(client, workload, alice, carol):
    client.force_login(carol)
    version = review_of(workload).version
    assert client.get(review_url("overview_poll", workload), {"v": version}).status_code == 204

    tick(workload, alice, "sec1", "sec1_no")
    response = client.get(review_url("overview_poll", workload), {"v": version}, **HTMX)

    assert response.status_code == 200
    assert 'id="overview-live"' in response.content.decode()
    assert "1 high" in response.content.decode()


def test_a_contributor_saves_lens_notes(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        review_url("lens_notes", workload), {"notes": "Scope: EU only", "notes_version": 0}, **HTMX
    )

    assert "Saved" in response.content.decode()
    assert review_of(workload).notes == "Scope: EU only"


def test_a_reader_cannot_save_lens_notes(client, workload, carol):
    client.force_login(carol)

    response = client.post(review_url("lens_notes", workload), {"notes": "x", "notes_version": 0})

    assert response.status_code == 403
    assert review_of(workload).notes == ""


def test_lens_notes_changed_meanwhile_are_not_overwritten(client, workload, alice, bob):
    client.force_login(alice)
    client.post(review_url("lens_notes", workload), {"notes": "Alice", "notes_version": 0})
    client.force_login(bob)

    response = client.post(
        review_url("lens_notes", workload), {"notes": "Bob", "notes_version": 0}, **HTMX
    )

    assert "changed these notes while you were editing" in response.content.decode()
    assert review_of(workload).notes == "Alice"


def test_a_contributor_saves_pillar_notes(client, workload, bob):
    client.force_login(bob)

    client.post(
        review_url("pillar_notes", workload, "security"),
        {"notes": "Pen test in May", "notes_version": 0},
    )

    assert PillarNote.objects.get(pillar__pillar_id="security").notes == "Pen test in May"


def test_pillar_notes_over_2084_characters_are_refused(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        review_url("pillar_notes", workload, "security"),
        {"notes": "x" * 2085, "notes_version": 0},
        **HTMX,
    )

    assert "at most 2,084 characters" in response.content.decode()
    assert not PillarNote.objects.filter(notes__startswith="x").exists()


def test_notes_posts_reject_get(client, workload, bob):
    client.force_login(bob)

    assert client.get(review_url("lens_notes", workload)).status_code == 405
    assert client.get(review_url("pillar_notes", workload, "security")).status_code == 405


# -- finding the way: continue, pillar totals, pillar order --------------------------------------


def answer_all(workload, user, question_ids=None):
    """Answer questions (all of them by default) with their "None of these" choice."""
    answers = Answer.objects.select_related("question", "lens_review").filter(
        lens_review__workload=workload
    )
    if question_ids is not None:
        answers = answers.filter(question__question_id__in=question_ids)
    for answer in answers:
        none = answer.question.choices.get(is_none=True)
        answer_choice_update(answer=answer, choice_id=none.choice_id, status="SELECTED", user=user)


def continue_link(body: str) -> tuple[str, str] | None:
    found = re.search(
        r'<a class="button primary" id="continue-review"[^>]*href="([^"]+)">([^<]+)<', body
    )
    return (found[1], found[2]) if found else None


def test_the_overview_starts_with_the_first_question_before_anything_is_answered(
    client, workload, alice
):
    client.force_login(alice)

    body = client.get(review_url("overview", workload)).content.decode()

    assert continue_link(body) == (
        review_url("question", workload, "ops1"),
        "Start with the first question",
    )


def test_the_overview_continues_at_the_first_unanswered_question(client, workload, alice):
    answer_all(workload, alice, ["ops1", "ops2", "ops4", "sec1"])
    client.force_login(alice)

    body = client.get(review_url("overview", workload)).content.decode()

    assert continue_link(body) == (review_url("question", workload, "ops3"), "Continue review")
    assert "Start with the first question" not in body


def test_a_fully_answered_review_says_so_and_leads_to_the_improvement_plan(client, workload, alice):
    answer_all(workload, alice)
    client.force_login(alice)

    body = client.get(review_url("overview", workload)).content.decode()

    assert continue_link(body) is None
    assert "Review complete" in body
    assert (
        f'<a class="button primary" href="{review_url("improvement_plan", workload)}">'
        "Improvement plan</a>"
    ) in body


def test_the_pillar_page_counts_its_own_questions_and_continues_in_the_pillar(
    client, workload, alice
):
    answer_all(workload, alice, ["ops1", "ops2", "sec1"])
    client.force_login(alice)

    response = client.get(review_url("pillar", workload, "security"))

    body = response.content.decode()
    assert (response.context["totals"]["answered"], response.context["totals"]["total"]) == (1, 7)
    assert "1<small>/7</small></span> questions answered" in body
    assert continue_link(body) == (
        review_url("question", workload, "sec2"),
        "Continue with this pillar",
    )


def test_a_finished_pillar_continues_with_the_rest_of_the_review(client, workload, alice):
    security = [f"sec{n}" for n in range(1, 8)]
    answer_all(workload, alice, security)
    client.force_login(alice)

    body = client.get(review_url("pillar", workload, "security")).content.decode()

    assert "7<small>/7</small>" in body
    assert continue_link(body) == (review_url("question", workload, "ops1"), "Continue review")


PRIORITIES = [
    "reliability",
    "security",
    "operationalExcellence",
    "performance",
    "costOptimization",
    "sustainability",
]


def test_the_review_follows_the_workloads_pillar_priorities(client, workload, alice):
    Workload.objects.filter(pk=workload.pk).update(pillar_priorities=PRIORITIES)
    client.force_login(alice)

    overview = client.get(review_url("overview", workload))
    last_reliability = client.get(review_url("question", workload, "rel7"))
    first = client.get(review_url("question", workload, "rel1"))
    pillar = client.get(review_url("pillar", workload, "security"))

    assert [p.pillar_id for p in overview.context["pillars"]] == PRIORITIES
    assert continue_link(overview.content.decode())[0] == review_url("question", workload, "rel1")
    assert last_reliability.context["next_question"].question_id == "sec1"
    assert first.context["previous_question"] is None
    assert [p.pillar_id for p in first.context["pillars"]] == PRIORITIES
    assert pillar.context["previous_pillar"].pillar_id == "reliability"
    assert pillar.context["next_pillar"].pillar_id == "operationalExcellence"


def test_pillars_the_priorities_leave_out_follow_in_lens_order(client, workload, alice):
    Workload.objects.filter(pk=workload.pk).update(pillar_priorities=["sustainability"])
    client.force_login(alice)

    response = client.get(review_url("overview", workload))

    assert [p.pillar_id for p in response.context["pillars"]] == [
        "sustainability",
        "operationalExcellence",
        "security",
        "reliability",
        "performance",
        "costOptimization",
    ]


def test_the_workload_page_continues_each_review_at_its_first_unanswered_question(
    client, workload, alice
):
    Workload.objects.filter(pk=workload.pk).update(pillar_priorities=PRIORITIES)
    answer_all(workload, alice, ["rel1", "ops1"])
    client.force_login(alice)

    body = client.get(reverse("reviews:workload_detail", args=[workload.public_id])).content
    body = body.decode()

    assert (
        f'<a class="button small primary" href="{review_url("question", workload, "rel2")}">'
        "Continue review</a>"
    ) in body


def test_the_workload_page_says_when_a_review_is_complete(client, workload, alice):
    answer_all(workload, alice)
    client.force_login(alice)

    body = client.get(reverse("reviews:workload_detail", args=[workload.public_id])).content
    body = body.decode()

    assert "Review complete" in body and "Continue review" not in body


# -- the question page's sidebar and read-only members -------------------------------------------


def test_the_question_list_folds_into_a_summary_that_counts_the_answers(client, workload, bob):
    answer_all(workload, bob, ["sec1"])
    client.force_login(bob)

    body = client.get(review_url("question", workload, "sec2")).content.decode()

    assert '<summary>Questions (<span id="nav-fold-count">1/38</span> answered)</summary>' in body
    assert body.index('class="nav-fold"') < body.index('id="review-nav"')
    for label in ("High risk", "Medium risk", "No risk", "Unanswered", "Not applicable"):
        assert f"</span> {label}</li>" in body


def test_a_tick_updates_the_folded_summarys_count(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        review_url("choice_update", workload, "sec2", "sec2_no"), {"status": "SELECTED"}, **HTMX
    )

    assert '<span id="nav-fold-count" hx-swap-oob="true">1/38</span>' in response.content.decode()


def test_read_only_members_are_told_they_can_only_read_the_review(client, workload, carol):
    client.force_login(carol)
    banner = "You can read this review; you cannot change it."

    for page in (
        review_url("overview", workload),
        review_url("pillar", workload, "security"),
        review_url("question", workload, "sec1"),
    ):
        assert banner in client.get(page).content.decode(), page


def test_contributors_see_no_read_only_banner(client, workload, bob):
    client.force_login(bob)

    for page in (review_url("overview", workload), review_url("question", workload, "sec1")):
        assert "you cannot change it" not in client.get(page).content.decode()


def test_the_question_page_offers_number_keys_only_to_those_who_may_tick(
    client, workload, bob, carol
):
    client.force_login(carol)
    reader = client.get(review_url("question", workload, "sec1")).content.decode()
    client.force_login(bob)
    writer = client.get(review_url("question", workload, "sec1")).content.decode()

    assert "data-choice-key" not in reader and "tick or untick" not in reader
    assert 'data-choice-key="1"' in writer and "tick or untick" in writer
