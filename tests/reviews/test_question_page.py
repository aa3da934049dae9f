import logging
import re

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from lenses.models import Choice
from reviews.models import Answer, AnswerEvent, ChoiceAnswer, ImprovementItem, LensReview, Role
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    lens_review_notes_update,
    pillar_notes_update,
    workload_share,
)
from reviews.views import answers as answer_views
from tests.factories import lens_bytes
from tests.personas import more_personas

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


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The names of the templates the question page's views render, in order."""
    names: list[str] = []
    render = answer_views.render_to_string
    monkeypatch.setattr(
        answer_views,
        "render_to_string",
        lambda name, *a, **kw: names.append(name) or render(name, *a, **kw),
    )
    return names


def test_the_live_region_is_rendered_once_per_state_and_each_page_gets_its_own_csrf_token(
    workload, alice, bob, renders
):
    pages = {}
    for person in (alice, bob):
        browser = Client(enforce_csrf_checks=True)  # as a browser without JavaScript posts
        browser.force_login(person)
        body = browser.get(url("question", workload)).content.decode()
        pages[person.username] = (browser, body)

    assert renders.count("reviews/question.html#live") == 1
    (alice_browser, alice_page), (_, bob_page) = pages.values()

    def live_tokens(page: str) -> list[str]:
        live = page[page.index('id="question-live"') : page.index("</section>")]
        return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', live)

    fields = {"alice": live_tokens(alice_page), "bob": live_tokens(bob_page)}
    assert len(fields["alice"]) > 1 and set(fields["alice"]).isdisjoint(fields["bob"])
    assert "<!--csrf-token-->" not in alice_page + bob_page
    response = alice_browser.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "SELECTED", "csrfmiddlewaretoken": fields["alice"][0]},
    )
    assert response.status_code == 302
    assert selected(workload) == {"sec1_bp1"}


def test_after_a_tick_the_question_page_renders_only_the_choice_that_moved(
    workload, alice, bob, renders
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    first = browser.get(url("question", workload)).content.decode()
    choices = answer_of(workload).question.choices.count()
    assert renders.count("reviews/question.html#choice") == choices

    answer_choice_update(
        answer=answer_of(workload), choice_id="sec1_bp2", status="SELECTED", user=bob
    )
    renders.clear()
    page = browser.get(url("question", workload)).content.decode()

    assert renders.count("reviews/question.html#choice") == 1
    assert renders.count("reviews/question.html#live") == 1
    ticked = re.search(r'<li class="answer-choice choice-SELECTED" id="choice-(\d+)"', page)
    assert ticked and Choice.objects.get(pk=ticked.group(1)).choice_id == "sec1_bp2"
    # the choices shared from the first page carry this request's token, not the mark
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', first)[0]
    assert "<!--csrf-token-->" not in page
    response = browser.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "SELECTED", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert selected(workload) == {"sec1_bp1", "sec1_bp2"}


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


def test_a_tick_from_a_stale_page_on_a_question_marked_not_applicable_is_refused(
    client, workload, bob
):
    client.force_login(bob)
    client.post(url("applicability", workload), {"applicable": "no", "reason": "OUT_OF_SCOPE"})
    choice = Choice.objects.get(choice_id="sec1_bp1")

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "marked as not applying to the workload" in body
    # The region now shows the question as it is: not applicable, the box disabled and empty.
    box = re.search(rf'<input[^>]*id="tick-{choice.pk}"[^>]*>', body)[0]
    assert "disabled" in box and "checked" not in box
    assert "Not applicable" in body
    assert selected(workload) == set()
    assert answer_of(workload).risk == "NOT_APPLICABLE"


def test_a_tick_posted_without_javascript_on_a_question_marked_not_applicable_is_refused(
    client, workload, bob
):
    client.force_login(bob)
    client.post(url("applicability", workload), {"applicable": "no", "reason": "OUT_OF_SCOPE"})

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}, follow=True
    )

    assert "marked as not applying to the workload" in response.content.decode()
    assert selected(workload) == set()


class DatabaseGoneAfterCommit:
    """Fails every query made outside a transaction once something was written.

    With autocommit on (a transactional test), a view's reads before its change run outside a
    transaction, the change runs inside one, and a query outside one after that comes after
    the commit: as if the connection dropped the moment the change was stored.
    """

    def __init__(self):
        self.wrote = False
        self.refused = []

    def __call__(self, execute, sql, params, many, context):
        if self.wrote and not connection.in_atomic_block:
            self.refused.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        # WITH: the writes of a change in one statement (reviews.answer_writes)
        writes = ("INSERT", "UPDATE", "WITH")
        if connection.in_atomic_block and sql.lstrip().upper().startswith(writes):
            self.wrote = True
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_a_tick_is_answered_as_stored_if_the_database_goes_after_the_commit(client, workload, bob):
    client.force_login(bob)
    choice = Choice.objects.get(choice_id="sec1_bp1")
    gone = DatabaseGoneAfterCommit()

    with connection.execute_wrapper(gone):
        response = client.post(
            url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}, **HTMX
        )

    body = response.content.decode()
    assert (response.status_code, gone.refused) == (200, [])
    assert gone.wrote
    assert re.search(rf'<input[^>]*id="tick-{choice.pk}"[^>]*\bchecked\b', body)
    assert "High risk" in body
    assert selected(workload) == {"sec1_bp1"}
    assert token_in(body) == open_page(client, workload)  # the token of what is stored


@pytest.mark.django_db(transaction=True)
def test_a_not_applicable_mark_is_answered_as_stored_if_the_database_goes_after_the_commit(
    client, workload, bob
):
    client.force_login(bob)
    gone = DatabaseGoneAfterCommit()

    with connection.execute_wrapper(gone):
        response = client.post(
            url("applicability", workload),
            {"applicable": "no", "reason": "BUSINESS_PRIORITIES"},
            **HTMX,
        )

    body = response.content.decode()
    assert (response.status_code, gone.refused) == (200, [])
    assert re.search(r'<option value="BUSINESS_PRIORITIES" selected>', body)
    assert "Not applicable" in body
    assert answer_of(workload).reason == "BUSINESS_PRIORITIES"


def test_saving_a_choice_takes_a_constant_number_of_queries(
    client, workload, bob, django_assert_max_num_queries
):
    client.force_login(bob)
    client.post(url("choice_update", workload, "sec1", "sec1_bp2"), {"status": "SELECTED"})

    # 12, and the pillar's kept counts
    with django_assert_max_num_queries(13) as plain:
        client.post(url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"})

    assert len(plain.captured_queries) <= 13


def answer_every_other_question(workload, user) -> None:
    """Grow the review: half its questions answered (a risk each), with history."""
    answers = Answer.objects.filter(lens_review__workload=workload).select_related("question")
    for index, answer in enumerate(answers.order_by("pk")):
        if index % 2:
            set_choice(
                workload, user, answer.question.question_id, f"{answer.question.question_id}_no"
            )


def page_token(client, workload, question_id="sec1") -> str:
    return open_page(client, workload, question_id)


# A tick from an up-to-date page: session, user, the answer (the access check, with the
# stored status of the choice: whether it asks for what is stored, see
# _asks_for_what_is_stored); the answer's row lock, its choice rows and improvement item; then
# its writes (reviews.answer_writes: the choice row, the answer, the item when the risk opens or
# closes it, the pillar's kept counts, which move with every tick since the score does, the
# review's counters and the history entry), on PostgreSQL one statement, elsewhere five.
# Choices and risk rules come from the version cache, the pillar counts shown from the page's
# own risks kept in the cache. In a test the service's transaction
# is a savepoint too (2 more).
def tick_queries() -> int:
    return (6 if connection.vendor == "postgresql" else 10) + 2


# With bp2, bp3 and bp5 the risk is high (bp1 is missing): bp6 leaves it high, bp1 makes it
# medium (both risky, so the improvement item stays as it is).
@pytest.mark.parametrize(("choice_id", "risk_moves"), [("sec1_bp6", False), ("sec1_bp1", True)])
def test_a_tick_from_an_up_to_date_page_takes_six_statements_on_postgresql_however_big_the_review(
    client, workload, bob, django_assert_max_num_queries, choice_id, risk_moves
):
    for practice in ("sec1_bp2", "sec1_bp3", "sec1_bp5"):
        set_choice(workload, bob, "sec1", practice)
    client.force_login(bob)

    def tick(status):
        token = page_token(client, workload)
        data = {"status": status, "v": token} if status else {"v": token}
        with django_assert_max_num_queries(tick_queries()) as captured:
            response = client.post(url("choice_update", workload, "sec1", choice_id), data, **HTMX)
        assert response.status_code == 200
        return response, len(captured.captured_queries)

    small, small_queries = tick("SELECTED")
    answer_every_other_question(workload, bob)
    large, large_queries = tick("")

    assert small_queries == large_queries
    body = small.content.decode()
    assert response_is_small(body, risk_moves)
    assert ('id="risk-line"' in body) == risk_moves
    assert 'id="question-live"' not in body and small["HX-Reswap"] == "none"


def test_a_tick_that_opens_or_closes_the_improvement_item_writes_it_in_the_same_statement(
    client, workload, bob, django_assert_max_num_queries
):
    client.force_login(bob)

    def tick(status):
        data = {"status": status, "v": page_token(client, workload)} if status else {}
        data.setdefault("v", page_token(client, workload))
        # Elsewhere than PostgreSQL the item and its history line are two statements more.
        most = tick_queries() + (0 if connection.vendor == "postgresql" else 2)
        with django_assert_max_num_queries(most):
            response = client.post(url("choice_update", workload, "sec1", "sec1_no"), data, **HTMX)
        assert response.status_code == 200 and 'id="risk-line"' in response.content.decode()

    tick("SELECTED")  # "None of these": high risk
    opened = ImprovementItem.objects.get(answer__question__question_id="sec1")
    tick("")  # unanswered again
    closed = ImprovementItem.objects.get(pk=opened.pk)
    tick("SELECTED")
    reopened = ImprovementItem.objects.get(pk=opened.pk)

    assert (opened.is_open, closed.is_open, reopened.is_open) == (True, False, True)
    assert [e.text.split(":")[0] for e in reopened.events.order_by("pk")] == [
        "Opened",
        "Closed automatically",
        "Reopened",
    ]
    assert all(e.user == bob for e in reopened.events.all())
    assert closed.updated_at > opened.updated_at


def response_is_small(body: str, risk_moves: bool) -> bool:
    """At most 4 KB when the risk stays; the whole region and sidebar were 36 KB."""
    return len(body.encode()) <= (6_000 if risk_moves else 4_000)


def test_a_tick_sends_the_changed_choice_its_history_entry_and_the_new_token(client, workload, bob):
    client.force_login(bob)
    token = page_token(client, workload)
    choice = Choice.objects.get(choice_id="sec1_bp1")

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "SELECTED", "v": token},
        **HTMX,
    )

    body = response.content.decode()
    assert re.search(rf'<li[^>]*id="choice-{choice.pk}"[^>]*hx-swap-oob="true"', body)
    assert re.search(rf'<input[^>]*id="tick-{choice.pk}"[^>]*\bchecked\b', body)
    assert 'hx-swap-oob="afterbegin:#history-events"' in body and "bob" in body
    # The risk moved, so the token keeps the page's risk version: whether others moved one
    # meanwhile is not known here, and the next poll sends only the sidebar's changes.
    assert token_in(body) == f"1.{token.split('.')[1]}"
    after = poll(client, workload, token_in(body))
    assert after.status_code == 200 and after["HX-Reswap"] == "none"
    assert 'id="question-live"' not in after.content.decode()
    assert poll(client, workload, token_in(after.content.decode())).status_code == 204


def test_a_tick_that_leaves_the_risk_sends_the_token_of_what_is_stored(client, workload, bob):
    set_choice(workload, bob, "sec1", "sec1_bp3")  # high: bp1 and bp2 are missing
    client.force_login(bob)
    token = page_token(client, workload)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp4"),
        {"status": "SELECTED", "v": token},
        **HTMX,
    )

    assert token_in(response.content.decode()) == open_page(client, workload)


def test_a_tick_that_changes_nothing_is_answered_at_once_and_writes_nothing(
    client, workload, bob, django_assert_max_num_queries
):
    set_choice(workload, bob, "sec1", "sec1_bp1")
    client.force_login(bob)
    page_token(client, workload)  # the lens version is in the cache, as in a workshop
    stale = "0.0"  # a page from before the tick above

    # As many as a poll answering 204: session, user, and one query of the versions, the
    # role, the choice's row and the answer's version once no change of it is being written
    with django_assert_max_num_queries(3):
        response = client.post(
            url("choice_update", workload, "sec1", "sec1_bp1"),
            {"status": "SELECTED", "v": stale},
            **HTMX,
        )

    assert response.status_code == 204
    assert AnswerEvent.objects.filter(answer=answer_of(workload)).count() == 1
    assert answer_of(workload).version == 1


def test_a_reader_asking_for_what_is_stored_is_refused_rather_than_answered_at_once(
    client, workload, bob, carol
):
    set_choice(workload, bob, "sec1", "sec1_bp1")
    client.force_login(carol)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "SELECTED", "v": "0.0"},
        **HTMX,
    )

    assert response.status_code == 403


def test_a_stale_tick_on_a_question_that_does_not_apply_gets_the_services_refusal(
    client, workload, bob
):
    client.force_login(bob)
    client.post(url("applicability", workload), {"applicable": "no", "reason": "OUT_OF_SCOPE"})

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "UNSELECTED", "v": "0.0"},
        **HTMX,
    )

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_a_tick_from_a_page_that_is_behind_has_the_page_fetch_what_it_missed(
    client, workload, alice, bob
):
    client.force_login(bob)
    token = page_token(client, workload)
    set_choice(workload, alice, "sec1", "sec1_bp2")

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"),
        {"status": "SELECTED", "v": token},
        **HTMX,
    )

    # Its own change now, and the page polls at once: its token is still the old one, and its
    # history entry comes with the poll, after alice's.
    assert response["HX-Trigger-After-Settle"] == "question-refresh"
    assert token_in(response.content.decode()) == token
    assert "history-events" not in response.content.decode()
    poll_response = poll(client, workload, token)
    body = poll_response.content.decode()
    assert poll_response["HX-Reswap"] == "none"
    assert 'id="question-live"' not in body  # a few versions behind: only what moved
    for choice in Choice.objects.filter(choice_id__in=["sec1_bp1", "sec1_bp2"]):
        assert re.search(rf'<input[^>]*id="tick-{choice.pk}"[^>]*\bchecked\b', body)
    history = body[body.index("history-events") :]
    assert history.index("bob") < history.index("alice")  # newest first, each once
    assert history.count("<li>") == 2
    assert token_in(body) == open_page(client, workload)


def test_a_tick_without_a_token_gets_the_whole_region(client, workload, alice, bob):
    set_choice(workload, alice, "sec1", "sec1_bp2")
    client.force_login(bob)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}, **HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="question-live"')
    assert token_in(body) == open_page(client, workload)


def test_a_poll_answering_204_takes_three_queries_however_big_the_review(
    client, workload, bob, carol, django_assert_max_num_queries
):
    client.force_login(carol)
    token = page_token(client, workload)
    with django_assert_max_num_queries(3):  # session, user, answer
        assert poll(client, workload, token).status_code == 204
    answer_every_other_question(workload, bob)
    token = page_token(client, workload)

    with django_assert_max_num_queries(3):
        assert poll(client, workload, token).status_code == 204


def test_shared_fragments_carry_no_csrf_token(client, workload, bob, carol):
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")

    caught_up = poll(client, workload, token).content.decode()
    whole = poll(client, workload, "resync").content.decode()

    assert 'id="choice-' in caught_up and 'id="question-live"' in whole
    assert "csrfmiddlewaretoken" not in caught_up + whole


def test_everyone_at_the_same_state_gets_the_same_cached_render(
    client, workload, alice, bob, carol
):
    pages = {}
    for user in (alice, carol):
        client.force_login(user)
        pages[user] = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    client.force_login(carol)
    first = poll(client, workload, pages[carol]).content.decode()

    from django.test import Client

    other = Client()
    other.force_login(carol)
    second = poll(other, workload, pages[carol]).content.decode()

    assert first == second


def test_the_second_poll_from_the_same_state_is_answered_from_the_shared_render_in_three_queries(
    client, workload, bob, carol, django_assert_max_num_queries
):
    """In a workshop everyone's page is at the same state when someone ticks: the first poll
    renders what changed, the others get that render (session, user, versions) without the
    access lookup or the risks."""
    from django.test import Client

    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    set_choice(workload, bob, "sec2", "sec2_bp1")  # a risk elsewhere moves too
    first = poll(client, workload, token)

    second_reader = Client()
    second_reader.force_login(carol)
    with django_assert_max_num_queries(3):
        second = poll(second_reader, workload, token)

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.get("HX-Reswap") == second.get("HX-Reswap")
    assert token_in(second.content.decode()) == token_in(first.content.decode())


def test_the_log_line_of_a_poll_says_whether_it_was_rendered_or_shared(
    client, workload, bob, carol, caplog
):
    """`make load` counts these to tell how many polls the shared renders answered."""
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    second_reader = Client()
    second_reader.force_login(carol)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="archlens.requests"):
        first = poll(client, workload, token)
        poll(second_reader, workload, token)
        up_to_date = poll(client, workload, token_in(first.content.decode()))

    polls = [r for r in caplog.records if r.name == "archlens.requests" and "/poll/" in r.path]
    assert [(r.status, r.served) for r in polls] == [(200, "rendered"), (200, "shared"), (204, "")]
    assert polls[1].getMessage().endswith(f"request_id={polls[1].request_id} served=shared")
    assert polls[2].getMessage().endswith(f"request_id={up_to_date['X-Request-ID']}")


def test_pages_behind_on_the_answer_by_different_changes_share_one_render(
    client, workload, alice, carol, django_assert_max_num_queries
):
    from django.test import Client

    client.force_login(carol)
    further_behind = page_token(client, workload)
    answer_notes_update(answer=answer_of(workload), notes="One", base_version=0, user=alice)
    later = Client()
    later.force_login(carol)
    less_behind = page_token(later, workload)
    # Not a change of choices or notes alone: both get the whole region.
    answer_applicability_update(
        answer=answer_of(workload), is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )
    assert further_behind != less_behind

    first = poll(client, workload, further_behind)
    with django_assert_max_num_queries(3):
        second = poll(later, workload, less_behind)

    assert first.content == second.content
    assert 'id="question-live"' in second.content.decode()


def ticked(body: str, choice_id: str) -> bool:
    choice = Choice.objects.get(choice_id=choice_id)
    return bool(re.search(rf'<input[^>]*id="tick-{choice.pk}"[^>]*\bchecked\b', body))


def test_a_poll_a_few_versions_behind_gets_only_the_choices_that_moved_and_the_entries_it_lacks(
    client, workload, alice, bob, carol
):
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, alice, "sec1", "sec1_bp1")
    set_choice(workload, bob, "sec1", "sec1_bp2")
    set_choice(workload, bob, "sec1", "sec1_bp1", status="UNSELECTED")
    answer_notes_update(answer=answer_of(workload), notes="Ask ops", base_version=0, user=alice)

    response = poll(client, workload, token)

    body = response.content.decode()
    assert response["HX-Reswap"] == "none"
    assert 'id="question-live"' not in body and 'id="history"' not in body
    moved = Choice.objects.filter(choice_id__in=["sec1_bp1", "sec1_bp2"])
    swapped = re.findall(r'id="choice-(\d+)" hx-swap-oob="true"', body)
    assert sorted(swapped) == sorted(str(choice.pk) for choice in moved)
    assert ticked(body, "sec1_bp2") and not ticked(body, "sec1_bp1")
    assert re.search(r'<textarea id="notes-\d+-text"[^>]*>\s*Ask ops', body)  # the editor
    history = body[body.index('hx-swap-oob="afterbegin:#history-events"') :]
    # newest first, each once
    assert re.findall(r"<strong>(\w+)</strong>", history) == ["alice", "bob", "bob", "alice"]
    assert token_in(body) == open_page(client, workload)


def test_the_choices_a_poll_a_few_versions_behind_gets_are_the_ones_stored(
    client, workload, alice, bob, carol
):
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    set_choice(workload, bob, "sec1", "sec1_bp2")
    set_choice(workload, alice, "sec1", "sec1_no")  # "None of these" unticks the others

    caught_up = poll(client, workload, token).content.decode()
    whole = poll(client, workload, "resync").content.decode()

    def items(body: str) -> dict[str, str]:
        found = re.findall(r'(<li class="answer-choice[^>]* id="choice-(\d+)".*?</li>)', body, re.S)
        return {pk: html.replace(' hx-swap-oob="true"', "") for html, pk in found}

    sent, stored = items(caught_up), items(whole)
    moved = Choice.objects.filter(choice_id__in=["sec1_bp1", "sec1_bp2", "sec1_no"])
    assert sorted(sent) == sorted(str(choice.pk) for choice in moved)
    assert all(sent[pk] == stored[pk] for pk in sent)
    assert ticked(caught_up, "sec1_no") and not ticked(caught_up, "sec1_bp1")


def test_pages_a_few_versions_behind_at_the_same_version_share_one_render(
    client, workload, alice, carol, django_assert_max_num_queries
):
    from django.test import Client

    client.force_login(carol)
    token = page_token(client, workload)
    other = Client()
    other.force_login(carol)
    assert page_token(other, workload) == token
    set_choice(workload, alice, "sec1", "sec1_bp1")

    first = poll(client, workload, token)
    with django_assert_max_num_queries(3):
        second = poll(other, workload, token)

    assert 'id="question-live"' not in first.content.decode()
    assert first.content == second.content


def polls_of_two_pages_behind(client, workload, alice, bob, carol):
    """Carol's two pages poll: one opened before bob ticked bp1, one after; alice then ticked
    bp2. Returns the polls of the page further behind, then of the other."""
    from django.test import Client

    client.force_login(carol)
    further_behind = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    other = Client()
    other.force_login(carol)
    less_behind = page_token(other, workload)
    set_choice(workload, alice, "sec1", "sec1_bp2")
    return poll(client, workload, further_behind), poll(other, workload, less_behind)


def test_each_history_entry_is_rendered_once_for_every_page_it_reaches(
    client, workload, alice, bob, carol
):
    first, second = polls_of_two_pages_behind(client, workload, alice, bob, carol)

    assert "reviews/_history_entry.html" in [t.name for t in first.templates]
    assert "reviews/_history_entry.html" not in [t.name for t in second.templates]
    entries = second.content.decode().split('hx-swap-oob="afterbegin:#history-events">')[1]
    assert re.findall(r"<strong>(\w+)</strong>", entries) == ["alice"]
    assert entries.split("</ol>")[0] in first.content.decode()


def test_each_state_of_a_choice_is_rendered_once_for_every_page_it_reaches(
    client, workload, alice, bob, carol
):
    first, second = polls_of_two_pages_behind(client, workload, alice, bob, carol)

    def renders_a_choice(response) -> bool:  # each choice shows its resource
        return "lenses/resource.html" in [t.name for t in response.templates]

    assert renders_a_choice(first) and not renders_a_choice(second)
    bp2 = Choice.objects.get(choice_id="sec1_bp2")
    fragment = re.search(rf'<li [^>]*id="choice-{bp2.pk}".*?</li>', first.content.decode(), re.S)
    assert fragment[0] in second.content.decode() and ticked(second.content.decode(), "sec1_bp2")


def test_the_whole_live_region_renders_only_the_choices_whose_state_moved(
    client, workload, bob, carol
):
    client.force_login(carol)

    def choices_rendered() -> int:  # each choice shows its resource
        response = poll(client, workload, "")  # a page that cannot say what it shows
        assert 'id="question-live"' in response.content.decode()
        return [t.name for t in response.templates].count("lenses/resource.html")

    choices = Choice.objects.filter(question__question_id="sec1").count()
    set_choice(workload, bob, "sec1", "sec1_bp1")
    assert choices_rendered() == choices
    set_choice(workload, bob, "sec1", "sec1_bp2")
    assert choices_rendered() == 1


def test_a_choice_sent_from_those_rendered_before_shows_its_notes_as_they_are_now(
    client, workload, bob, carol
):
    client.force_login(carol)
    extra = {"reason": "OUT_OF_SCOPE"}
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1", "NOT_APPLICABLE", notes="First note", **extra)
    assert "First note" in poll(client, workload, token).content.decode()

    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1", "NOT_APPLICABLE", notes="Second note", **extra)
    body = poll(client, workload, token).content.decode()

    assert "Second note" in body and "First note" not in body


def test_a_risk_moved_elsewhere_renders_only_its_pillar_of_the_sidebar_again(
    client, workload, bob, carol
):
    client.force_login(carol)

    def pillars_rendered() -> int:
        response = client.get(url("question", workload, "sec1"))
        return [t.name for t in response.templates].count("reviews/_nav_pillar.html")

    assert pillars_rendered() == 6  # the built-in lens's pillars, nothing kept yet
    set_choice(workload, bob, "rel1", "rel1_bp1")  # another pillar's question: its risk moves
    assert pillars_rendered() == 1
    body = client.get(url("question", workload, "sec1")).content.decode()
    assert nav_risk(body, "rel1") == answer_with_question(workload, "rel1").risk != "UNANSWERED"


def test_the_history_card_after_a_tick_renders_only_the_new_entry(client, workload, bob, carol):
    client.force_login(carol)
    for practice in ("sec1_bp1", "sec1_bp2", "sec1_bp3"):
        set_choice(workload, bob, "sec1", practice)

    def entries_rendered() -> int:
        response = client.get(url("question", workload, "sec1"))
        return [t.name for t in response.templates].count("reviews/_history_entry.html")

    assert entries_rendered() == 3
    set_choice(workload, bob, "sec1", "sec1_bp4")
    assert entries_rendered() == 1
    body = client.get(url("question", workload, "sec1")).content.decode()
    history = body[body.index('id="history-events"') :]
    assert len(re.findall(r"<strong>bob</strong>", history)) == 4


def test_a_tick_that_moves_the_risk_keeps_the_risks_of_the_new_version_for_the_polls_after_it(
    client, workload, bob, carol, django_assert_num_queries
):
    from django.core.cache import cache
    from django.test import Client

    from profiles.selectors import prioritised_in
    from reviews.selectors import review_risks
    from reviews.views.answers import Kept, _risks_key

    client.force_login(carol)
    token = page_token(client, workload)  # the risks at this version, kept
    writer = Client()
    writer.force_login(bob)
    response = writer.post(
        url("choice_update", workload, "sec1", "sec1_no"),
        {"status": "SELECTED", "v": page_token(writer, workload)},
        **HTMX,
    )
    assert "High risk" in response.content.decode()

    review = LensReview.objects.get(workload=workload)
    risks, version = review_risks(review)
    assert version == 1
    prioritised = frozenset(prioritised_in(workload, "wellarchitected"))
    assert cache.get(_risks_key(review, 1)) == Kept(risks, prioritised)
    # session, user, versions, the answer and its history entries: no risks, no choices read
    with django_assert_num_queries(5):
        body = poll(client, workload, token).content.decode()
    assert "High risk" in body


def test_a_poll_further_behind_than_a_few_versions_gets_the_whole_region(
    client, workload, alice, carol
):
    from reviews.views.answers import CATCH_UP

    client.force_login(carol)
    token = page_token(client, workload)
    for n in range(CATCH_UP + 1):
        set_choice(workload, alice, "sec1", "sec1_bp1", status=("SELECTED", "UNSELECTED")[n % 2])

    body = poll(client, workload, token).content.decode()

    assert body.lstrip().startswith('<section id="question-live"')
    assert ticked(body, "sec1_bp1")


def test_a_poll_behind_a_change_that_is_not_only_choices_gets_the_whole_region(
    client, workload, alice, carol
):
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, alice, "sec1", "sec1_bp1")
    answer_applicability_update(
        answer=answer_of(workload), is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )

    body = poll(client, workload, token).content.decode()

    assert body.lstrip().startswith('<section id="question-live"')
    assert re.search(r'id="not-applicable-\d+"[^>]*\bchecked\b', body)


def part_of(body: str, marker: str, closing: str) -> str:
    start = body.index(marker)
    return body[start : body.index(closing, start)]


def sidebar_of(body: str) -> str:
    return part_of(body, 'id="review-nav"', "</aside>")


def test_the_question_pages_sidebar_is_rendered_once_per_state_and_follows_every_change(
    client, workload, alice, bob, carol
):
    from reviews.models import Workload

    client.force_login(carol)
    first = client.get(url("question", workload))
    again = client.get(url("question", workload))
    rendered = [t.name for t in again.templates]
    set_choice(workload, bob, "sec2", "sec2_bp1")  # a risk elsewhere
    after_risk = client.get(url("question", workload)).content.decode()
    Workload.objects.filter(pk=workload.pk).update(pillar_priorities=["sustainability"])
    after_order = client.get(url("question", workload)).content.decode()
    elsewhere = client.get(url("question", workload, "sec2")).content.decode()

    assert "reviews/_review_nav.html" in [t.name for t in first.templates]
    assert "reviews/_review_nav.html" not in rendered  # from the cache
    assert sidebar_of(again.content.decode()) == sidebar_of(first.content.decode())
    assert nav_risk(after_risk, "sec2") == "HIGH"
    sidebar = sidebar_of(after_order)
    assert sidebar.index("Sustainability") < sidebar.index("Security")
    current = re.search(r'<li id="nav-question-(\d+)" aria-current="true"', elsewhere)[1]
    assert int(current) == answer_of(workload, "sec2").question_id


def history_of(body: str) -> str:
    return part_of(body, 'id="history"', "</section>")


def test_the_question_pages_history_is_rendered_once_per_answer_version_and_shows_each_change(
    client, workload, alice, bob, carol
):
    client.force_login(carol)
    set_choice(workload, alice, "sec1", "sec1_bp1")
    first = client.get(url("question", workload))
    again = client.get(url("question", workload))
    set_choice(workload, bob, "sec1", "sec1_bp2")
    after = client.get(url("question", workload)).content.decode()

    assert "reviews/_history.html" in [t.name for t in first.templates]
    assert "reviews/_history.html" not in [t.name for t in again.templates]  # from the cache
    assert history_of(again.content.decode()) == history_of(first.content.decode())
    assert re.findall(r"<strong>(\w+)</strong>", history_of(after)) == ["bob", "alice"]


def test_a_shared_poll_render_never_reaches_someone_without_access(
    client, workload, bob, carol, mallory
):
    client.force_login(carol)
    token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")
    assert poll(client, workload, token).status_code == 200  # rendered and shared

    client.force_login(mallory)

    assert poll(client, workload, token).status_code == 404


def test_a_writer_and_a_reader_at_the_same_answer_get_their_own_poll_renders(
    client, workload, bob, carol
):
    set_choice(workload, bob, "sec1", "sec1_bp2")
    client.force_login(carol)
    reader_token = page_token(client, workload)
    client.force_login(bob)
    writer_token = page_token(client, workload)
    set_choice(workload, bob, "sec1", "sec1_bp1")

    writer = poll(client, workload, writer_token).content.decode()
    client.force_login(carol)
    reader = poll(client, workload, reader_token).content.decode()

    assert "disabled" in reader and "disabled" not in writer
    assert token_in(reader).endswith(".r") and not token_in(writer).endswith(".r")


def test_saving_a_choice_from_the_page_takes_a_constant_number_of_queries(
    client, workload, bob, django_assert_max_num_queries
):
    from django.core.cache import cache

    client.force_login(bob)
    client.post(url("choice_update", workload, "sec1", "sec1_bp2"), {"status": "SELECTED"}, **HTMX)

    # session, user, answer; the change (lock, choices, rows, rules, answer, event, kept counts,
    # review) in a savepoint; what the page shows (risk version, pillars, counts, answers,
    # questions, history, the workload's profile) before the commit. In a test the view's
    # transaction is a savepoint too (2 more). The risks are read when nobody kept them (as
    # here: the cache emptied), else 2 queries fewer.
    cache.clear()
    with django_assert_max_num_queries(21) as first:
        client.post(
            url("choice_update", workload, "sec1", "sec1_bp1"), {"status": "SELECTED"}, **HTMX
        )
    for question_id in ["sec2", "sec3", "ops1", "rel1", "cost1", "sus1"]:
        set_choice(workload, bob, question_id, f"{question_id}_no")
    cache.clear()
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.post(
            url("choice_update", workload, "sec1", "sec1_bp3"), {"status": "SELECTED"}, **HTMX
        )


def test_a_save_that_sends_the_whole_region_takes_the_risks_kept_and_keeps_the_new_ones(
    client, workload, bob, carol, django_capture_on_commit_callbacks
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from profiles.selectors import prioritised_in
    from reviews.selectors import review_risks
    from reviews.views.answers import Kept, _risks_key

    client.force_login(carol)
    open_page(client, workload)  # the risks at version 0, kept
    client.force_login(bob)
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as saved,
    ):
        response = client.post(
            url("choice_update", workload, "sec1", "sec1_no"), {"status": "SELECTED"}, **HTMX
        )

    assert response.content.decode().lstrip().startswith('<section id="question-live"')
    assert risk_line(response.content.decode()).startswith("High risk")
    assert not [q for q in saved.captured_queries if "workloadprofile" in q["sql"]]
    review = LensReview.objects.get(workload=workload)
    risks, version = review_risks(review)
    prioritised = frozenset(prioritised_in(workload, "wellarchitected"))
    assert cache.get(_risks_key(review, version)) == Kept(risks, prioritised)


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
#
# A page polls with the token it was rendered with and gets 204 until something it shows changes.
# In a workshop most changes are ticks on the question everyone looks at; changes elsewhere in
# the review only matter here when they move a question's risk (the sidebar and pillar counts).

# The token of what the page shows sits on the element that polls (and that forms send along).
LIVE_TOKEN = re.compile(r'id="question-poll"[^>]*\bdata-version="([^"]+)"', re.S)


def token_in(body: str) -> str:
    return LIVE_TOKEN.search(body).group(1)


def open_page(client, workload, question_id="sec1") -> str:
    """Open the question page as the logged-in user; returns the token its polling starts with."""
    return token_in(client.get(url("question", workload, question_id)).content.decode())


def poll(client, workload, token, question_id="sec1"):
    return client.get(url("question_poll", workload, question_id), {"v": token}, **HTMX)


def nav_risk(body: str, question_id: str) -> str:
    """The risk the sidebar shows for a question."""
    link = re.escape(f"/questions/{question_id}/")
    return re.search(rf'<span class="dot risk-(\w+)"[^>]*></span>\s*<a href="[^"]*{link}"', body)[1]


def risk_line(body: str) -> str:
    """The live region's risk and pillar counts, as text."""
    line = re.search(r'<div class="risk-line"[^>]*>(.*?)</div>', body, re.S)[1]
    return " ".join(re.sub(r"<[^>]+>", "", line).split())


def answer_with_question(workload, question_id) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def set_choice(workload, user, question_id, choice_id, status="SELECTED", **extra):
    answer_choice_update(
        answer=answer_with_question(workload, question_id),
        choice_id=choice_id,
        status=status,
        user=user,
        **extra,
    )


def test_polling_answers_204_while_nothing_changed(
    client, workload, carol, django_assert_max_num_queries
):
    client.force_login(carol)
    token = open_page(client, workload)

    with django_assert_max_num_queries(3):
        response = poll(client, workload, token)

    assert response.status_code == 204


def test_polling_returns_what_someone_else_changed(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)
    set_choice(workload, bob, "sec1", "sec1_no")

    response = poll(client, workload, token)

    body = response.content.decode()
    assert response.status_code == 200
    assert token_in(body) != token
    assert f'name="v" value="{token_in(body)}"' in body  # the next poll asks with the new token
    assert "High risk" in body
    assert "bob" in body  # the history lists the change
    assert poll(client, workload, token_in(body)).status_code == 204


def test_a_poll_that_returns_changes_takes_a_constant_number_of_queries(
    client, workload, bob, carol, django_assert_max_num_queries
):
    client.force_login(carol)
    token = open_page(client, workload)
    set_choice(workload, bob, "sec1", "sec1_no")

    # as before, and the workload's profile (its prioritised questions)
    with django_assert_max_num_queries(10):
        assert poll(client, workload, token).status_code == 200


def test_polling_stays_quiet_after_ones_own_change(client, workload, bob):
    client.force_login(bob)
    open_page(client, workload)

    response = client.post(
        url("choice_update", workload, "sec1", "sec1_no"), {"status": "SELECTED"}, **HTMX
    )

    assert poll(client, workload, token_in(response.content.decode())).status_code == 204


def test_poll_stays_quiet_when_another_question_changes_without_a_risk_change(
    client, workload, alice, bob, carol
):
    set_choice(workload, bob, "sec2", "sec2_bp1")  # high risk: essential practices are missing
    client.force_login(carol)
    token = open_page(client, workload)

    set_choice(workload, bob, "sec2", "sec2_bp4")  # still high
    set_choice(workload, alice, "sec3", "sec3_bp1", "NOT_APPLICABLE", reason="OTHER")  # unanswered
    answer_notes_update(
        answer=answer_of(workload, "ops1"), notes="Ask the SRE team", base_version=0, user=alice
    )

    assert poll(client, workload, token).status_code == 204


def test_poll_stays_quiet_when_lens_or_pillar_notes_change(client, workload, alice, carol):
    review = LensReview.objects.get(workload=workload, lens__alias="wellarchitected")
    client.force_login(carol)
    token = open_page(client, workload)

    lens_review_notes_update(lens_review=review, notes="Scope: EU", base_version=0, user=alice)
    pillar_notes_update(
        lens_review=review,
        pillar_pk=answer_of(workload).question.pillar_id,
        notes="Ask the SOC",
        base_version=0,
        user=alice,
    )

    assert poll(client, workload, token).status_code == 204


def test_poll_shows_a_new_risk_of_another_question_of_the_pillar(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    set_choice(workload, bob, "sec2", "sec2_no")
    response = poll(client, workload, token)

    body = response.content.decode()
    assert response.status_code == 200
    assert nav_risk(body, "sec2") == "HIGH"
    assert '/questions/sec1/"' not in body  # only what moved: this question's entry stays
    assert 'id="question-live"' not in body  # and so does the live region
    assert "1 of" in risk_line(body) and "1 high" in risk_line(body)


def test_poll_shows_a_new_risk_of_a_question_in_another_pillar(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    set_choice(workload, bob, "ops1", "ops1_bp1")
    set_choice(workload, bob, "ops1", "ops1_bp2")  # from high to medium
    medium = poll(client, workload, token)
    set_choice(workload, bob, "ops1", "ops1_bp1", "UNSELECTED")  # back to high
    high = poll(client, workload, token_in(medium.content.decode()))

    assert nav_risk(medium.content.decode(), "ops1") == "MEDIUM"
    assert high.status_code == 200
    assert nav_risk(high.content.decode(), "ops1") == "HIGH"
    assert "0 high" in risk_line(high.content.decode())  # this pillar has none


def test_poll_shows_another_question_answered_by_not_applying(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    answer_applicability_update(
        answer=answer_with_question(workload, "sec2"),
        is_applicable=False,
        reason="OUT_OF_SCOPE",
        user=bob,
    )
    response = poll(client, workload, token)

    assert response.status_code == 200
    assert nav_risk(response.content.decode(), "sec2") == "NOT_APPLICABLE"
    assert "1 of" in risk_line(response.content.decode())


def test_poll_shows_a_choice_of_this_question_that_no_longer_applies(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    set_choice(workload, bob, "sec1", "sec1_bp3", "NOT_APPLICABLE", reason="OTHER", notes="No VMs")
    response = poll(client, workload, token)

    body = response.content.decode()
    assert response.status_code == 200
    assert "No VMs" in body
    assert "Unanswered" in risk_line(body)  # the risk stayed; the choice and history moved


def test_poll_shows_this_question_marked_as_not_applying(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    answer_applicability_update(
        answer=answer_with_question(workload, "sec1"),
        is_applicable=False,
        reason="OUT_OF_SCOPE",
        user=bob,
    )
    response = poll(client, workload, token)

    assert response.status_code == 200
    assert "Not applicable" in risk_line(response.content.decode())


def test_poll_shows_notes_someone_else_saved_on_this_question(client, workload, bob, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    answer_notes_update(
        answer=answer_of(workload), notes="MFA for every admin", base_version=0, user=bob
    )
    response = poll(client, workload, token)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<form id="notes-{answer_of(workload).pk}"' in body  # the editor, out of band
    assert "MFA for every admin" in body
    assert "bob" in body  # and the history


def test_poll_shows_working_controls_once_a_reader_may_write(client, workload, carol):
    client.force_login(carol)
    token = open_page(client, workload)

    workload_share(workload=workload, user=carol, role=Role.CONTRIBUTOR)
    response = poll(client, workload, token)

    body = response.content.decode()
    assert response.status_code == 200
    assert "disabled" not in body
    assert poll(client, workload, token_in(body)).status_code == 204


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


@pytest.mark.parametrize(
    ("who", "writes"),
    [
        ("alice", True),
        ("bob", True),
        ("carol", False),
        ("tina", True),
        ("rita", False),
        ("vera", False),
    ],
)
def test_an_unchanged_poll_answers_204_for_every_way_of_reaching_the_workload(
    client, workload, dora, who, writes, request
):
    # Own shares (owner, contributor, reader), team shares (contributor, reader), a portfolio
    # viewer: the poll's own small lookup must give the role the page was rendered with.
    people = {**more_personas(workload, dora)}
    user = people.get(who) or request.getfixturevalue(who)
    client.force_login(user)
    token = open_page(client, workload)
    assert token.endswith(".r") is not writes

    assert poll(client, workload, token).status_code == 204


def test_a_poll_is_refused_to_those_the_page_is_refused_to(client, workload, mallory, stan):
    for user in (mallory, stan):
        client.force_login(user)
        assert poll(client, workload, "1.0").status_code == 404


def test_a_poll_with_the_token_of_another_role_gets_the_page_brought_up_to_date(
    client, workload, carol
):
    client.force_login(carol)
    token = open_page(client, workload)

    response = poll(client, workload, token.removesuffix(".r"))

    assert response.status_code == 200
    assert token_in(response.content.decode()) == token


def test_the_workshop_screens_paths_are_the_first_the_reviews_app_tries():
    """Polls and ticks are most requests, and Django tries the patterns in order (resolving
    a poll behind twenty other patterns was an eighth of its cost)."""
    from reviews import urls

    assert [pattern.name for pattern in urls.urlpatterns[:5]] == [
        "question",
        "question_poll",
        "choice_update",
        "applicability",
        "question_notes",
    ]
