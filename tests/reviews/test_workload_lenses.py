"""Adding lenses to a workload and removing them again (POST workloads/<id>/lenses/)."""

import pytest
from django.urls import reverse

from lenses.models import Lens
from lenses.services import lens_import, lens_version_deprecate, lens_version_publish
from reviews.models import (
    MAX_EXTRA_LENSES,
    Answer,
    AnswerRisk,
    ChoiceAnswer,
    LensReview,
    Role,
)
from reviews.services import answer_choice_update, workload_add_lens, workload_share
from tests.factories import lens_bytes

HTMX = {"HTTP_HX_REQUEST": "true"}


def publish(name, user, **kwargs):
    version = lens_import(raw=lens_bytes(name=name, **kwargs), user=user)
    return lens_version_publish(lens_version=version, version="1.0").lens


@pytest.fixture
def team_lens(admin_user) -> Lens:
    return publish("Team Lens", admin_user)


@pytest.fixture
def draft_lens(admin_user) -> Lens:
    return lens_import(raw=lens_bytes(name="Draft Lens"), user=admin_user).lens


def lenses_url(workload) -> str:
    return reverse("reviews:workload_lenses", args=[workload.public_id])


def active_aliases(workload) -> list[str]:
    return list(
        LensReview.objects.filter(workload=workload, is_active=True).values_list(
            "lens__alias", flat=True
        )
    )


def test_a_contributor_adds_a_published_lens(client, bob, workload, team_lens):
    client.force_login(bob)

    response = client.post(lenses_url(workload), {"action": "add", "lens": team_lens.alias})

    assert response.status_code == 302
    assert response.url == reverse("reviews:workload_detail", args=[workload.public_id])
    assert active_aliases(workload) == ["wellarchitected", "team-lens"]
    review = LensReview.objects.get(workload=workload, lens=team_lens)
    assert review.answers.count() == 4
    page = client.get(response.url).content.decode()
    assert "Added “Team Lens”." in page
    assert reverse("reviews:overview", args=[workload.public_id, "team-lens"]) in page


def test_the_detail_page_offers_published_lenses_that_are_not_reviewed_yet(
    client, bob, workload, team_lens, draft_lens
):
    client.force_login(bob)

    response = client.get(reverse("reviews:workload_detail", args=[workload.public_id]))

    assert [lens.alias for lens in response.context["addable_lenses"]] == ["team-lens"]
    assert "Add a lens" in response.content.decode()


def test_removing_a_lens_keeps_its_answers_and_adding_it_back_restores_them(
    client, alice, workload, team_lens
):
    review = workload_add_lens(workload=workload, lens=team_lens)
    answer = Answer.objects.get(lens_review=review, question__question_id="p1_q1")
    answer, _ = answer_choice_update(
        answer=answer, choice_id="p1_q1_c1", status="SELECTED", user=alice
    )
    assert answer.risk == AnswerRisk.MEDIUM
    client.force_login(alice)

    removed = client.post(lenses_url(workload), {"action": "remove", "lens": "team-lens"})

    assert removed.status_code == 302
    assert active_aliases(workload) == ["wellarchitected"]
    detail = client.get(removed.url)
    assert "Its answers are kept" in detail.content.decode()
    assert [lens.was_removed for lens in detail.context["addable_lenses"]] == [True]

    added = client.post(lenses_url(workload), {"action": "add", "lens": "team-lens"})

    assert added.status_code == 302
    assert active_aliases(workload) == ["wellarchitected", "team-lens"]
    answer.refresh_from_db()
    assert answer.lens_review_id == review.pk
    assert answer.risk == AnswerRisk.MEDIUM
    assert ChoiceAnswer.objects.get(answer=answer, choice__choice_id="p1_q1_c1").status == (
        ChoiceAnswer.Status.SELECTED
    )
    [row] = [r for r in client.get(removed.url).context["lens_reviews"] if not r.lens.is_builtin]
    assert (row.answered, row.medium) == (1, 1)


def test_the_builtin_lens_cannot_be_removed(client, alice, workload):
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "remove", "lens": "wellarchitected"})

    assert response.status_code == 200
    assert "The built-in lens cannot be removed" in response.content.decode()
    assert active_aliases(workload) == ["wellarchitected"]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_contributor_adding_a_draft_lens_by_its_alias_is_not_told_its_name(
    client, bob, workload, draft_lens, htmx
):
    client.force_login(bob)

    response = client.post(
        lenses_url(workload), {"action": "add", "lens": draft_lens.alias}, **(HTMX if htmx else {})
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no such lens." in body
    assert "Draft Lens" not in body
    assert active_aliases(workload) == ["wellarchitected"]


def test_staff_adding_a_draft_lens_are_told_it_has_no_published_version(
    client, admin_user, workload, draft_lens
):
    workload_share(workload=workload, user=admin_user, role=Role.CONTRIBUTOR)
    client.force_login(admin_user)

    response = client.post(lenses_url(workload), {"action": "add", "lens": draft_lens.alias})

    assert "“Draft Lens” has no published version" in response.content.decode()
    assert active_aliases(workload) == ["wellarchitected"]


def test_the_owner_removes_a_lens_whose_versions_are_all_deprecated(
    client, alice, workload, team_lens
):
    workload_add_lens(workload=workload, lens=team_lens)
    lens_version_deprecate(lens_version=team_lens.versions.get())
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "remove", "lens": team_lens.alias})

    assert response.status_code == 302
    assert active_aliases(workload) == ["wellarchitected"]


def test_a_deprecated_lens_cannot_be_added(client, alice, workload, team_lens):
    lens_version_deprecate(lens_version=team_lens.versions.get())
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "add", "lens": team_lens.alias})

    assert response.status_code == 200
    assert "has no published version" in response.content.decode()
    assert active_aliases(workload) == ["wellarchitected"]


def test_an_unknown_lens_is_reported(client, alice, workload):
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "add", "lens": "no-such-lens"})

    assert response.status_code == 200
    assert "There is no such lens." in response.content.decode()


def test_an_incomplete_form_is_reported(client, alice, workload):
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "add"})

    assert response.status_code == 200
    assert "Choose a lens." in response.content.decode()


def test_a_workload_reviews_at_most_twenty_lenses_besides_the_builtin_one(
    client, alice, admin_user, workload
):
    lenses = [
        publish(f"Lens {n:02}", admin_user, pillars=1, questions=1)
        for n in range(MAX_EXTRA_LENSES + 1)
    ]
    for lens in lenses[:MAX_EXTRA_LENSES]:
        workload_add_lens(workload=workload, lens=lens)
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "add", "lens": lenses[-1].alias})

    body = response.content.decode()
    assert response.status_code == 200
    assert "at most 20 lenses besides the built-in one" in body
    assert len(active_aliases(workload)) == MAX_EXTRA_LENSES + 1
    assert response.context["at_lens_limit"]


def test_it_requires_write_access_to_add_a_lens(client, carol, mallory, workload, team_lens):
    for user, status in ((carol, 403), (mallory, 404)):
        client.force_login(user)
        response = client.post(lenses_url(workload), {"action": "add", "lens": "team-lens"})
        assert response.status_code == status
    assert active_aliases(workload) == ["wellarchitected"]


def test_it_requires_owner_access_to_remove_a_lens(client, bob, carol, workload, team_lens):
    workload_add_lens(workload=workload, lens=team_lens)
    for user in (bob, carol):
        client.force_login(user)
        response = client.post(lenses_url(workload), {"action": "remove", "lens": "team-lens"})
        assert response.status_code == 403
    assert active_aliases(workload) == ["wellarchitected", "team-lens"]


def test_only_the_owner_sees_the_remove_button(client, alice, bob, workload, team_lens):
    workload_add_lens(workload=workload, lens=team_lens)
    detail = reverse("reviews:workload_detail", args=[workload.public_id])

    client.force_login(bob)
    assert ">Remove</button>" not in client.get(detail).content.decode()
    client.force_login(alice)
    assert client.get(detail).content.decode().count(">Remove</button>") == 1


def test_changing_lenses_requires_login(client, workload, team_lens):
    response = client.post(lenses_url(workload), {"action": "add", "lens": "team-lens"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert active_aliases(workload) == ["wellarchitected"]


def test_changing_lenses_rejects_get(client, alice, workload):
    client.force_login(alice)

    assert client.get(lenses_url(workload)).status_code == 405


def test_an_htmx_lens_change_gets_the_lens_reviews_back(client, alice, workload, team_lens):
    client.force_login(alice)

    response = client.post(lenses_url(workload), {"action": "add", "lens": "team-lens"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card" id="lenses">')
    assert "Added “Team Lens”." in body
    assert 'id="lens-review-team-lens"' in body
    assert "<html" not in body


def test_an_htmx_lens_change_with_an_error_gets_the_lens_reviews_and_the_message(
    client, alice, workload
):
    client.force_login(alice)

    response = client.post(
        lenses_url(workload), {"action": "remove", "lens": "wellarchitected"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card" id="lenses">')
    assert "The built-in lens cannot be removed" in body
