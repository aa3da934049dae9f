from django.urls import reverse

from reviews.models import Answer, LensReview, PillarNote
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
    with django_assert_max_num_queries(9) as empty:
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
