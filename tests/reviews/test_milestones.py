import pytest
from django.urls import reverse

from lenses.models import Lens
from reviews.milestones import MilestoneError, compare_states, milestone_create
from reviews.models import Answer, Milestone
from reviews.services import answer_choice_update, answer_notes_update, workload_remove_lens
from reviews.snapshots import workload_snapshots


def answer_of(workload, question_id) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def tick(workload, user, question_id, choice_id, status="SELECTED"):
    answer, _ = answer_choice_update(
        answer=answer_of(workload, question_id), choice_id=choice_id, status=status, user=user
    )
    return answer


def frozen_question(milestone, question_id):
    for pillar in milestone.data["lens_reviews"][0]["pillars"]:
        for question in pillar["questions"]:
            if question["id"] == question_id:
                return question
    raise AssertionError(question_id)


# -- saving ----------------------------------------------------------------------------------


def test_a_milestone_freezes_answers_choices_notes_and_counts(workload, alice):
    tick(workload, alice, "sec1", "sec1_no")
    answer_notes_update(
        answer=answer_of(workload, "sec1"), notes="Audit due", base_version=0, user=alice
    )

    milestone = milestone_create(workload=workload, name="Before launch", user=alice)

    question = frozen_question(milestone, "sec1")
    assert milestone.number == 1
    assert (milestone.high_count, milestone.answered_count) == (1, 1)
    assert question["risk"] == "HIGH"
    assert question["notes"] == "Audit due"
    assert [c["id"] for c in question["choices"] if c["status"] == "SELECTED"] == ["sec1_no"]
    security = milestone.data["lens_reviews"][0]["pillars"][1]
    assert security["id"] == "security" and security["counts"]["high"] == 1


def test_later_edits_and_lens_changes_never_change_a_milestone(workload, alice, admin_user):
    tick(workload, alice, "sec1", "sec1_no")
    milestone = milestone_create(workload=workload, name="Baseline", user=alice)
    frozen = Milestone.objects.get(pk=milestone.pk).data

    tick(workload, alice, "sec1", "sec1_bp1")
    answer_notes_update(
        answer=answer_of(workload, "sec1"), notes="changed", base_version=0, user=alice
    )
    Lens.objects.filter(alias="wellarchitected").update(name="Renamed")

    assert Milestone.objects.get(pk=milestone.pk).data == frozen
    assert frozen_question(Milestone.objects.get(pk=milestone.pk), "sec1")["risk"] == "HIGH"


def test_milestones_are_numbered_in_order(workload, alice):
    first = milestone_create(workload=workload, name="One", user=alice)
    second = milestone_create(workload=workload, name="Two", user=alice)

    assert (first.number, second.number) == (1, 2)


@pytest.mark.parametrize("name", ["ab", "x" * 101, "   "])
def test_a_milestone_name_is_3_to_100_characters(workload, alice, name):
    with pytest.raises(MilestoneError, match="3 to 100"):
        milestone_create(workload=workload, name=name, user=alice)
    assert not Milestone.objects.exists()


def test_milestone_names_are_unique_ignoring_case_and_spaces(workload, alice):
    milestone_create(workload=workload, name="Go Live", user=alice)

    with pytest.raises(MilestoneError, match="exists already"):
        milestone_create(workload=workload, name="go  live", user=alice)


def test_a_workload_keeps_at_most_100_milestones(workload, alice):
    Milestone.objects.bulk_create(
        Milestone(workload=workload, number=n, name=f"M{n}", name_key=f"m{n}", data={})
        for n in range(1, 101)
    )

    with pytest.raises(MilestoneError, match="at most 100"):
        milestone_create(workload=workload, name="One too many", user=alice)


# -- comparing -------------------------------------------------------------------------------


def test_a_comparison_shows_pillar_deltas_and_only_the_questions_that_changed(workload, alice):
    tick(workload, alice, "sec1", "sec1_no")
    tick(workload, alice, "rel1", "rel1_no")
    milestone = milestone_create(workload=workload, name="Baseline", user=alice)
    answer = answer_of(workload, "sec1")
    for choice in answer.question.choices.filter(is_none=False):
        tick(workload, alice, "sec1", choice.choice_id)

    (lens,) = compare_states(milestone.data["lens_reviews"], workload_snapshots(workload))

    security = next(p for p in lens.pillars if p.name == "Security")
    assert security.high == (1, 0) and security.high_change == -1
    (change,) = lens.changes
    assert change.question_id == "sec1"
    assert change.risk == ("HIGH", "NONE")
    assert "None of these" in change.removed
    assert len(change.added) == answer.question.choices.filter(is_none=False).count()
    assert lens.unchanged == 37


def test_a_lens_removed_after_the_milestone_is_reported_as_no_longer_reviewed(
    workload, alice, admin_user
):
    from lenses.services import lens_import, lens_version_publish
    from reviews.services import workload_add_lens
    from tests.factories import lens_bytes

    version = lens_import(raw=lens_bytes(name="Extra"), user=admin_user)
    lens_version_publish(lens_version=version, version="1.0")
    workload_add_lens(workload=workload, lens=version.lens)
    milestone = milestone_create(workload=workload, name="With extra", user=alice)
    workload_remove_lens(workload=workload, lens=version.lens)

    lenses = compare_states(milestone.data["lens_reviews"], workload_snapshots(workload))

    extra = next(lens for lens in lenses if lens.alias == "extra")
    assert extra.present == (True, False)


# -- pages -----------------------------------------------------------------------------------


def test_the_owner_saves_a_milestone_from_the_milestones_page(client, workload, alice):
    client.force_login(alice)

    response = client.post(
        reverse("reviews:milestones", args=[workload.public_id]), {"name": "Q3 review"}
    )

    assert response.status_code == 302
    assert Milestone.objects.get().name == "Q3 review"


def test_a_contributor_cannot_save_a_milestone(client, workload, bob):
    client.force_login(bob)

    response = client.post(reverse("reviews:milestones", args=[workload.public_id]), {"name": "Q3"})

    assert response.status_code == 403
    assert not Milestone.objects.exists()


def test_a_bad_milestone_name_is_shown_and_nothing_is_saved(client, workload, alice):
    client.force_login(alice)

    response = client.post(reverse("reviews:milestones", args=[workload.public_id]), {"name": "Q"})

    assert response.status_code == 200
    assert "3 to 100 characters" in response.content.decode()
    assert not Milestone.objects.exists()


def test_the_milestones_page_shows_the_trend_chart(client, workload, alice):
    tick(workload, alice, "sec1", "sec1_no")
    milestone_create(workload=workload, name="Baseline", user=alice)
    client.force_login(alice)

    body = client.get(reverse("reviews:milestones", args=[workload.public_id])).content.decode()

    assert "<svg" in body and ">M1</text>" in body and ">Now</text>" in body


def test_a_milestone_opens_read_only_with_the_frozen_answers(client, workload, alice, carol):
    tick(workload, alice, "sec1", "sec1_no")
    milestone_create(workload=workload, name="Baseline", user=alice)
    tick(workload, alice, "sec1", "sec1_bp1")
    client.force_login(carol)
    args = [workload.public_id, 1, "wellarchitected"]

    overview = client.get(reverse("reviews:milestone_overview", args=args)).content.decode()
    question = client.get(reverse("reviews:milestone_question", args=[*args, "sec1"]))
    plan = client.get(reverse("reviews:milestone_improvements", args=args)).content.decode()

    assert "Read-only" in overview and "1 high" in overview
    assert question.context["question"]["risk"] == "HIGH"
    assert "<form" not in question.content.decode().split("<main")[1]
    assert "How do you operate your workload securely?" in plan


def test_an_unknown_milestone_is_not_found(client, workload, alice):
    client.force_login(alice)

    url = reverse("reviews:milestone_overview", args=[workload.public_id, 7, "wellarchitected"])
    assert client.get(url).status_code == 404


def test_the_compare_page_compares_the_latest_milestone_with_now_by_default(
    client, workload, alice
):
    milestone_create(workload=workload, name="Baseline", user=alice)
    tick(workload, alice, "sec1", "sec1_no")
    client.force_login(alice)

    response = client.get(reverse("reviews:compare", args=[workload.public_id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Milestone 1: Baseline" in body and "1 question changed" in body
    assert "+1" in body


def test_the_compare_page_explains_an_unknown_state(client, workload, alice):
    client.force_login(alice)

    response = client.get(reverse("reviews:compare", args=[workload.public_id]), {"from": "9"})

    assert "Pick two saved milestones" in response.content.decode()


@pytest.mark.parametrize("which", ["from", "to"])
@pytest.mark.parametrize(
    "value",
    ["²", "١", "𝟙", "1²", "+1", " 1", "1_0", "0", "-1", "9" * 30, "1\x00", "now\x00"],
)
def test_the_compare_page_explains_a_state_that_is_no_milestone_number(
    client, workload, alice, which, value
):
    milestone_create(workload=workload, name="Baseline", user=alice)
    client.force_login(alice)

    response = client.get(reverse("reviews:compare", args=[workload.public_id]), {which: value})

    assert response.status_code == 200
    assert "Pick two saved milestones" in response.content.decode()


def test_milestone_pages_take_a_constant_number_of_queries(
    client, workload, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    milestone_create(workload=workload, name="One", user=alice)
    urls = [
        reverse("reviews:milestones", args=[workload.public_id]),
        reverse("reviews:compare", args=[workload.public_id]) + "?from=1&to=1",
        reverse("reviews:milestone_overview", args=[workload.public_id, 1, "wellarchitected"]),
    ]
    counts = []
    for url in urls:
        with django_assert_max_num_queries(20) as captured:
            client.get(url)
        counts.append(len(captured.captured_queries))
    for n in range(2, 8):
        tick(workload, alice, f"sec{n % 7 + 1}", f"sec{n % 7 + 1}_no")
        milestone_create(workload=workload, name=f"Milestone {n}", user=alice)

    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            client.get(url)
