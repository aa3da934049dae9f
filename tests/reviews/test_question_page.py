import pytest
from django.urls import reverse

from reviews.models import Answer, AnswerEvent, ChoiceAnswer, LensReview
from reviews.services import answer_choice_update, answer_notes_update
from tests.factories import lens_bytes

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, workload, question_id="sec1", *extra):
    return reverse(
        f"reviews:{name}", args=[workload.public_id, "wellarchitected", question_id, *extra]
    )


def answer_of(workload, question_id="sec1") -> Answer:
    return Answer.objects.get(lens_review__workload=workload, question__question_id=question_id)


def selected(workload, question_id="sec1") -> set[str]:
    return set(
        ChoiceAnswer.objects.filter(
            answer=answer_of(workload, question_id), status="SELECTED"
        ).values_list("choice__choice_id", flat=True)
    )


# -- the page ------------------------------------------------------------------------------------


def test_the_question_page_shows_the_question_its_choices_and_its_risk(client, workload, alice):
    client.force_login(alice)

    response = client.get(url("question", workload))

    body = response.content.decode()
    question = answer_of(workload).question
    assert response.status_code == 200
    assert question.title in body
    for choice in question.choices.all():
        assert choice.title in body
    assert "Unanswered" in body
    assert 'rel="next"' in body


def test_the_question_page_requires_login(client, workload):
    response = client.get(url("question", workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_question_page_is_hidden_from_users_without_access(
    client, workload, mallory, admin_user
):
    for outsider in (mallory, admin_user):
        client.force_login(outsider)
        assert client.get(url("question", workload)).status_code == 404


def test_an_unknown_question_is_not_found(client, workload, alice):
    client.force_login(alice)

    assert client.get(url("question", workload, "nope")).status_code == 404


def test_a_read_only_member_sees_the_page_without_working_controls(client, workload, carol):
    client.force_login(carol)

    body = client.get(url("question", workload)).content.decode()

    assert "disabled" in body
    assert "readonly" in body


def test_the_question_page_takes_the_same_number_of_queries_whatever_the_lens_size(
    client, workload, alice, admin_user, django_assert_max_num_queries
):
    from lenses.services import lens_import, lens_version_publish
    from reviews.services import workload_add_lens

    client.force_login(alice)
    small = lens_import(raw=lens_bytes(name="Small", pillars=1, questions=1), user=admin_user)
    large = lens_import(
        raw=lens_bytes(name="Large", pillars=6, questions=10, choices=8), user=admin_user
    )
    for version in (small, large):
        lens_version_publish(lens_version=version, version="1.0")
        workload_add_lens(workload=workload, lens=version.lens)

    def page(alias, question_id):
        return reverse("reviews:question", args=[workload.public_id, alias, question_id])

    with django_assert_max_num_queries(12) as small_page:
        client.get(page("small", "p1_q1"))
    with django_assert_max_num_queries(len(small_page.captured_queries)):
        assert client.get(page("large", "p3_q5")).status_code == 200


# -- ticking choices ---------------------------------------------------------------------------


def test_a_contributor_ticks_a_choice_and_the_risk_is_recomputed(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}
    )

    assert response.status_code == 302
    assert selected(workload) == {"sec1_bp1"}
    answer = answer_of(workload)
    assert answer.risk == answer.question.risk_for({"sec1_bp1"})
    assert answer.updated_by == bob


def test_an_htmx_tick_returns_the_live_region_with_the_new_risk_and_counts(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_no"), {"status": "SELECTED"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="question-live"')
    assert "High risk" in body
    assert "1 high" in body  # the pillar's count in the sidebar, swapped out of band
    assert 'id="review-nav"' in body and 'hx-swap-oob="true"' in body


def test_an_unticked_checkbox_posts_no_status_and_unticks(client, workload, bob):
    client.force_login(bob)
    client.post(url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"})

    client.post(url("choice_update", workload, "sec1", "sec1_bp1"), {})

    assert selected(workload) == set()


def test_a_read_only_member_cannot_tick(client, workload, carol):
    client.force_login(carol)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}
    )

    assert response.status_code == 403
    assert selected(workload) == set()


def test_a_user_without_access_cannot_tick(client, workload, mallory):
    client.force_login(mallory)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}
    )

    assert response.status_code == 404
    assert not AnswerEvent.objects.exists()


def test_ticking_requires_post(client, workload, bob):
    client.force_login(bob)

    assert client.get(url("choice_update", workload, "sec1", "sec1_bp1")).status_code == 405


@pytest.mark.parametrize(
    ("choice_id", "data", "message"),
    [
        ("nope", {"status": "SELECTED"}, "is not a choice of this question"),
        ("sec2_bp1", {"status": "SELECTED"}, "is not a choice of this question"),
        ("sec1_bp1", {"status": "MAYBE"}, "Unknown choice status"),
        (
            "sec1_bp1",
            {"status": "NOT_APPLICABLE", "reason": "OTHER", "notes": "x" * 251},
            "at most 250",
        ),
    ],
)
def test_bad_choice_input_gets_a_clear_message_and_changes_nothing(
    client, workload, bob, choice_id, data, message
):
    client.force_login(bob)

    response = client.post(url("choice_update", workload, "sec1", choice_id), data, **HTMX)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ChoiceAnswer.objects.exists()
    assert not AnswerEvent.objects.exists()


def test_saving_a_choice_takes_a_constant_number_of_queries(
    client, workload, bob, django_assert_max_num_queries
):
    client.force_login(bob)
    client.post(url("choice_update", workload, "sec1", "sec1_bp2"), {"status": "SELECTED"})

    with django_assert_max_num_queries(12) as plain:
        client.post(url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"})

    assert len(plain.captured_queries) <= 12


def test_a_question_can_be_marked_as_not_applying(client, workload, bob):
    client.force_login(bob)

    client.post(url("applicability", workload), {"applicable": "no", "reason": "OUT_OF_SCOPE"})

    answer = answer_of(workload)
    assert (answer.is_applicable, answer.reason, answer.risk) == (
        False,
        "OUT_OF_SCOPE",
        "NOT_APPLICABLE",
    )


# -- polling -------------------------------------------------------------------------------------


def test_polling_answers_204_while_nothing_changed(
    client, workload, carol, django_assert_max_num_queries
):
    client.force_login(carol)
    version = LensReview.objects.get(workload=workload, lens__alias="wellarchitected").version

    with django_assert_max_num_queries(3):
        response = client.get(url("question_poll", workload), {"v": version}, **HTMX)

    assert response.status_code == 204


def test_polling_returns_what_someone_else_changed(client, workload, bob, carol):
    client.force_login(carol)
    version = LensReview.objects.get(workload=workload, lens__alias="wellarchitected").version
    answer_choice_update(
        answer=answer_of(workload), choice_id="sec1_no", status="SELECTED", user=bob
    )

    response = client.get(url("question_poll", workload), {"v": version}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert f"v={version + 1}" in body
    assert "High risk" in body
    assert "bob" in body  # the history lists the change


# -- notes ---------------------------------------------------------------------------------------


def test_notes_are_saved(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        url("question_notes", workload), {"notes": "MFA everywhere", "notes_version": 0}, **HTMX
    )

    assert "Saved" in response.content.decode()
    assert answer_of(workload).notes == "MFA everywhere"


def test_notes_changed_meanwhile_show_both_versions_and_keep_both(client, workload, alice, bob):
    answer_notes_update(
        answer=answer_of(workload), notes="Alice wrote this", base_version=0, user=alice
    )
    client.force_login(bob)

    response = client.post(
        url("question_notes", workload), {"notes": "Bob wrote that", "notes_version": 0}, **HTMX
    )

    body = response.content.decode()
    assert "alice changed these notes while you were editing" in body
    assert "Alice wrote this" in body and "Bob wrote that" in body
    assert response["HX-Retarget"].startswith("#notes-")
    assert answer_of(workload).notes == "Alice wrote this"


def test_over_long_notes_are_refused_with_a_message(client, workload, bob):
    client.force_login(bob)

    response = client.post(
        url("question_notes", workload), {"notes": "x" * 2085, "notes_version": 0}, **HTMX
    )

    assert "at most 2,084 characters" in response.content.decode()
    assert answer_of(workload).notes == ""


def test_notes_escape_html(client, workload, bob):
    answer_notes_update(
        answer=answer_of(workload), notes="<script>alert(1)</script>", base_version=0, user=bob
    )
    client.force_login(bob)

    body = client.get(url("question", workload)).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
