"""Upgrading a lens review to a newer version of its lens."""

import copy

import pytest
from django.urls import reverse

from lenses.services import lens_import, lens_version_publish
from reviews.models import (
    Answer,
    AnswerEvent,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementItem,
    LensReview,
    PillarNote,
    Reason,
)
from reviews.services import (
    ReviewError,
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    pillar_notes_update,
    workload_add_lens,
)
from reviews.upgrades import (
    UpgradeError,
    default_milestone_name,
    lens_review_upgrade,
    lens_review_upgrade_plan,
    lens_reviews_behind,
    newer_versions,
    upgrade_notices,
)
from tests.factories import lens_bytes, lens_document

SELECTED = ChoiceAnswer.Status.SELECTED


def publish(document, user, version):
    draft = lens_import(raw=lens_bytes(document), user=user, alias="team-lens")
    return lens_version_publish(lens_version=draft, version=version)


def answer_of(review, question_id):
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review=review, question__question_id=question_id
    )


def tick(review, question_id, *choice_ids, user, status=SELECTED, **extra):
    for choice_id in choice_ids:
        answer_choice_update(
            answer=answer_of(review, question_id),
            choice_id=choice_id,
            status=status,
            user=user,
            **extra,
        )


def ticked(review, question_id):
    return {
        (row.choice.choice_id, row.status)
        for row in ChoiceAnswer.objects.filter(
            answer__lens_review=review, answer__question__question_id=question_id
        ).select_related("choice")
        if row.status != ChoiceAnswer.Status.UNSELECTED
    }


@pytest.fixture
def first_document():
    return lens_document(name="Team Lens", questions=3)


@pytest.fixture
def review(workload, alice, admin_user, first_document):
    """Team Lens 1.0 in Alice's workload: some questions answered, with notes."""
    version = publish(first_document, admin_user, "1.0")
    review = workload_add_lens(workload=workload, lens=version.lens)
    # p1_q1: all three practices (no risk); p1_q2: two of three (medium); p2_q2: none (high).
    tick(review, "p1_q1", "p1_q1_c1", "p1_q1_c2", "p1_q1_c3", user=alice)
    tick(review, "p1_q2", "p1_q2_c1", "p1_q2_c2", user=alice)
    tick(review, "p2_q2", "p2_q2_no", user=alice)
    tick(
        review,
        "p1_q2",
        "p1_q2_c3",
        user=alice,
        status=ChoiceAnswer.Status.NOT_APPLICABLE,
        reason=Reason.ARCHITECTURE_CONSTRAINTS,
        notes="No second region.",
    )
    answer = answer_of(review, "p1_q1")
    answer_notes_update(answer=answer, notes="Checked in March.", base_version=0, user=alice)
    pillar = review.lens_version.pillars.get(pillar_id="pillar1")
    pillar_notes_update(
        lens_review=review, pillar_pk=pillar.pk, notes="Pillar note.", base_version=0, user=alice
    )
    return review


@pytest.fixture
def second_document(first_document):
    """1.1: p1_q1 loses c3 (ticked), p1_q2's rules change, p1_q9 is new, p2_q2 is gone and
    p2_q1 moves to pillar 1."""
    document = copy.deepcopy(first_document)
    pillar1, pillar2 = document["pillars"]
    q1 = pillar1["questions"][0]
    q1["choices"] = [c for c in q1["choices"] if c["id"] != "p1_q1_c3"]
    q1["riskRules"] = [
        {"condition": "!p1_q1_c1", "risk": "HIGH_RISK"},
        {"condition": "!p1_q1_c2", "risk": "MEDIUM_RISK"},
        {"condition": "default", "risk": "NO_RISK"},
    ]
    q2 = pillar1["questions"][1]
    q2["riskRules"] = [
        {"condition": "!(p1_q2_c1 && p1_q2_c2 && p1_q2_c3)", "risk": "HIGH_RISK"},
        {"condition": "default", "risk": "NO_RISK"},
    ]
    added = copy.deepcopy(pillar1["questions"][2])
    added["id"] = "p1_q9"
    for choice in added["choices"]:
        choice["id"] = choice["id"].replace("p1_q3", "p1_q9")
    added["riskRules"] = [{"condition": "default", "risk": "NO_RISK"}]
    pillar1["questions"].append(added)
    pillar1["questions"].append(pillar2["questions"].pop(0))  # p2_q1 moves
    pillar2["questions"] = [q for q in pillar2["questions"] if q["id"] != "p2_q2"]
    return document


@pytest.fixture
def second(second_document, admin_user, review):
    return publish(second_document, admin_user, "1.1")


def test_a_newer_published_version_is_offered(review, second):
    assert newer_versions(review) == [second]


def test_the_plan_says_what_the_upgrade_does_to_this_review(review, second):
    plan = lens_review_upgrade_plan(lens_review=review, target=second)

    assert [(o.question_id, [c.choice_id for c in o.lost]) for o in plan.losing_choices] == [
        ("p1_q1", ["p1_q1_c3"])
    ]
    assert [(o.question_id, o.risk_before, o.risk_after) for o in plan.risk_changes] == [
        ("p1_q2", AnswerRisk.MEDIUM, AnswerRisk.HIGH)
    ]
    assert [o.question_id for o in plan.added] == ["p1_q9"]
    assert [(o.question_id, o.risk_before) for o in plan.removed] == [("p2_q2", AnswerRisk.HIGH)]
    assert [o.question_id for o in plan.removed_answered] == ["p2_q2"]
    # Nothing changed yet.
    review.refresh_from_db()
    assert review.lens_version.label == "1.0"


def test_the_plan_counts_a_removed_ticked_choice_that_does_not_change_the_risk(review, second):
    outcome = next(
        o
        for o in lens_review_upgrade_plan(lens_review=review, target=second).kept
        if o.question_id == "p1_q1"
    )

    assert (outcome.risk_before, outcome.risk_after) == (AnswerRisk.NONE, AnswerRisk.NONE)
    assert [(c.choice_id, c.status) for c in outcome.lost] == [("p1_q1_c3", SELECTED)]


def test_upgrading_saves_a_milestone_of_the_state_before(review, second, alice):
    result = lens_review_upgrade(
        lens_review=review, target=second, milestone_name="Before 1.1", user=alice
    )

    milestone = result.milestone
    assert milestone.name == "Before 1.1"
    frozen = next(s for s in milestone.data["lens_reviews"] if s["lens"]["alias"] == "team-lens")
    assert frozen["lens"]["version"] == "1.0"
    questions = {q["id"]: q for p in frozen["pillars"] for q in p["questions"]}
    # The removed question's answer and the dropped tick stay in the milestone.
    assert questions["p2_q2"]["risk"] == AnswerRisk.HIGH
    assert {c["id"]: c["status"] for c in questions["p1_q1"]["choices"]}["p1_q1_c3"] == SELECTED


def test_answers_carry_over_by_id_and_dropped_ticks_go_into_the_history(review, second, alice):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    review.refresh_from_db()
    assert review.lens_version == second
    assert ticked(review, "p1_q1") == {("p1_q1_c1", SELECTED), ("p1_q1_c2", SELECTED)}
    assert ticked(review, "p1_q2") == {
        ("p1_q2_c1", SELECTED),
        ("p1_q2_c2", SELECTED),
        ("p1_q2_c3", ChoiceAnswer.Status.NOT_APPLICABLE),
    }
    kept_na = ChoiceAnswer.objects.get(answer__lens_review=review, choice__choice_id="p1_q2_c3")
    assert (kept_na.reason, kept_na.notes) == (Reason.ARCHITECTURE_CONSTRAINTS, "No second region.")
    assert kept_na.choice.question.lens_version == second
    first = answer_of(review, "p1_q1")
    assert first.question.lens_version == second
    assert first.notes == "Checked in March."
    event = AnswerEvent.objects.filter(answer=first).first()
    assert {"field": "lens_version", "before": "1.0", "after": "1.1"} in event.changes
    assert any(
        c.get("choice") == "p1_q1_c3" and c["after"] == "REMOVED_FROM_LENS" for c in event.changes
    )
    assert event.user == alice


def test_new_questions_start_unanswered_and_removed_ones_leave_the_review(review, second, alice):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    answers = {a.question.question_id: a for a in Answer.objects.filter(lens_review=review)}
    assert set(answers) == {"p1_q1", "p1_q2", "p1_q3", "p1_q9", "p2_q1", "p2_q3"}
    assert answers["p1_q9"].risk == AnswerRisk.UNANSWERED
    assert all(a.question.lens_version_id == second.pk for a in answers.values())
    assert answers["p2_q1"].question.pillar.pillar_id == "pillar1"


def test_risk_follows_the_new_rules_and_improvement_items_follow_the_risk(review, second, alice):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    medium_before = answer_of(review, "p1_q2")
    assert medium_before.risk == AnswerRisk.HIGH
    item = ImprovementItem.objects.get(answer=medium_before)
    assert item.is_open
    # p2_q2 was high with an open item; the question is gone, and so is its item.
    assert not ImprovementItem.objects.filter(
        answer__lens_review=review, answer__question__question_id="p2_q2"
    ).exists()


def test_pillar_notes_follow_their_pillar_id(review, second, alice):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    note = PillarNote.objects.get(lens_review=review)
    assert (note.pillar.pillar_id, note.pillar.lens_version, note.notes) == (
        "pillar1",
        second,
        "Pillar note.",
    )


def test_pollers_see_the_upgrade(review, second, alice):
    before = LensReview.objects.get(pk=review.pk)

    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    after = LensReview.objects.get(pk=review.pk)
    assert after.version > before.version
    assert after.risk_version > before.risk_version


def test_a_tick_from_a_page_of_the_old_version_is_refused(review, second, alice):
    stale = answer_of(review, "p1_q3")  # loaded before the upgrade, as an open page holds it

    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    with pytest.raises(ReviewError, match="Reload the page"):
        answer_choice_update(answer=stale, choice_id="p1_q3_c1", status=SELECTED, user=alice)
    assert ticked(review, "p1_q3") == set()


def test_a_tick_on_a_question_the_upgrade_removed_is_refused(review, second, alice):
    stale = answer_of(review, "p2_q2")

    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    with pytest.raises(ReviewError, match="Reload the page"):
        answer_applicability_update(
            answer=stale, is_applicable=False, reason=Reason.OUT_OF_SCOPE, user=alice
        )


def test_when_every_id_changes_nothing_carries_over(review, first_document, admin_user, alice):
    document = copy.deepcopy(first_document)
    for pillar in document["pillars"]:
        for question in pillar["questions"]:
            question["id"] = "x" + question["id"]
            for choice in question["choices"]:
                choice["id"] = "x" + choice["id"]
            for rule in question["riskRules"]:
                rule["condition"] = rule["condition"].replace("p", "xp")
    renamed = publish(document, admin_user, "2.0")

    lens_review_upgrade(lens_review=review, target=renamed, milestone_name="Before", user=alice)

    answers = list(Answer.objects.filter(lens_review=review))
    assert len(answers) == 6
    assert {a.risk for a in answers} == {AnswerRisk.UNANSWERED}
    assert not ChoiceAnswer.objects.filter(answer__lens_review=review).exists()


@pytest.mark.parametrize("which", ["same", "draft", "other lens"])
def test_an_upgrade_to_a_version_that_is_not_newer_is_refused_and_changes_nothing(
    review, admin_user, alice, which, first_document
):
    if which == "same":
        target = review.lens_version
    elif which == "draft":
        document = {**first_document, "description": "A draft of the next version."}
        target = lens_import(raw=lens_bytes(document), user=admin_user, alias="team-lens")
    else:
        target = lens_version_publish(
            lens_version=lens_import(raw=lens_bytes(name="Other"), user=admin_user),
            version="9.0",
        )
    milestones_before = review.workload.milestones.count()

    with pytest.raises(UpgradeError):
        lens_review_upgrade(lens_review=review, target=target, milestone_name="Before", user=alice)

    review.refresh_from_db()
    assert review.lens_version.label == "1.0"
    assert review.workload.milestones.count() == milestones_before


def test_an_upgrade_whose_milestone_name_is_taken_changes_nothing(review, second, alice):
    from reviews.milestones import MilestoneError, milestone_create

    milestone_create(workload=review.workload, name="Before", user=alice)

    with pytest.raises(MilestoneError):
        lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)

    review.refresh_from_db()
    assert review.lens_version.label == "1.0"
    assert ticked(review, "p1_q1") == {
        ("p1_q1_c1", SELECTED),
        ("p1_q1_c2", SELECTED),
        ("p1_q1_c3", SELECTED),
    }


def test_the_default_milestone_name_says_what_comes(review, second):
    assert default_milestone_name(review, second) == "Before upgrade to Team Lens 1.1"


def test_upgrading_takes_the_same_number_of_queries_however_many_answers(
    workload, alice, admin_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, answered in ((2, 1), (6, 6)):
        document = lens_document(name=f"Sized {size}", pillars=2, questions=size // 2 or 1)
        alias = f"sized-{size}"
        first = lens_version_publish(
            lens_version=lens_import(raw=lens_bytes(document), user=admin_user, alias=alias),
            version="1.0",
        )
        review = workload_add_lens(workload=workload, lens=first.lens)
        for answer in Answer.objects.filter(lens_review=review).select_related("question")[
            :answered
        ]:
            qid = answer.question.question_id
            tick(review, qid, f"{qid}_c1", f"{qid}_c2", f"{qid}_c3", user=alice)
        document["description"] = "Second version."
        for pillar in document["pillars"]:
            for question in pillar["questions"]:
                # Everything ticked is no risk in 1.0 and high risk in 1.1: every answered
                # question's item opens, which must not cost a query per answer either.
                question["riskRules"] = [{"condition": "default", "risk": "HIGH_RISK"}]
        second = lens_version_publish(
            lens_version=lens_import(raw=lens_bytes(document), user=admin_user, alias=alias),
            version="1.1",
        )
        with CaptureQueriesContext(connection) as queries:
            lens_review_upgrade(
                lens_review=review, target=second, milestone_name=f"Before {size}", user=alice
            )
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert ImprovementItem.objects.filter(answer__lens_review__lens__alias="sized-6").count() == 6


# -- the upgrade page ------------------------------------------------------------------------


def upgrade_url(review):
    return reverse("reviews:upgrade", args=[review.workload.public_id, review.lens.alias])


def test_the_upgrade_page_shows_what_happens_to_this_review_before_anything_changes(
    client, bob, review, second
):
    client.force_login(bob)

    response = client.get(upgrade_url(review))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="upgrade-lost"' in body and "p1_q1_c3" in body
    assert 'id="upgrade-risks"' in body and "Medium risk" in body and "High risk" in body
    assert 'id="upgrade-added"' in body and "p1_q9" in body
    assert 'id="upgrade-removed"' in body and "p2_q2" in body
    assert 'value="Before upgrade to Team Lens 1.1"' in body
    review.refresh_from_db()
    assert review.lens_version.label == "1.0"


def test_confirming_saves_the_milestone_and_upgrades(client, bob, review, second):
    client.force_login(bob)

    response = client.post(
        upgrade_url(review), {"version": second.pk, "milestone_name": "Before the new lens"}
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.lens_version == second
    assert review.workload.milestones.get().name == "Before the new lens"
    page = client.get(response.url).content.decode()
    assert "Upgraded to Team Lens 1.1" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"milestone_name": "ab"}, "at least 3 characters"),
        ({"milestone_name": "Before\x00"}, "Null characters are not allowed"),
        ({"milestone_name": "Before", "version": "²"}, "Select a valid choice"),
    ],
)
def test_a_bad_confirmation_says_what_is_wrong_and_changes_nothing(
    client, bob, review, second, data, message
):
    client.force_login(bob)
    data = {"version": second.pk, **data}

    response = client.post(upgrade_url(review), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    review.refresh_from_db()
    assert review.lens_version.label == "1.0"
    assert not review.workload.milestones.exists()


def test_a_taken_milestone_name_is_said_on_the_page(client, alice, review, second):
    from reviews.milestones import milestone_create

    milestone_create(workload=review.workload, name="Before", user=alice)
    client.force_login(alice)

    response = client.post(upgrade_url(review), {"version": second.pk, "milestone_name": "before"})

    assert response.status_code == 200
    assert "exists already" in response.content.decode()
    review.refresh_from_db()
    assert review.lens_version.label == "1.0"


def test_read_only_members_cannot_upgrade(client, carol, review, second):
    client.force_login(carol)

    assert client.get(upgrade_url(review)).status_code == 403
    assert client.post(upgrade_url(review), {"version": second.pk}).status_code == 403


def test_a_review_on_the_newest_version_is_sent_back_to_its_overview(client, alice, review):
    client.force_login(alice)

    response = client.get(upgrade_url(review))

    assert response.status_code == 302
    assert response.url.endswith(f"/lenses/{review.lens.alias}/")


@pytest.mark.parametrize("version", ["²", "abc", "999999"])
def test_an_unknown_version_in_the_address_is_not_found(client, alice, review, second, version):
    client.force_login(alice)

    assert client.get(upgrade_url(review), {"version": version}).status_code == 404


# -- the command -----------------------------------------------------------------------------


def run_command(*args):
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("upgrade_lens_review", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def another_review_of(review, owner, name):
    """Another workload of `owner` reviewing the same lens version as `review`."""
    from reviews.models import Workload
    from reviews.services import workload_create

    other = workload_create(
        owner=owner,
        name=name,
        description="Reviews the same lens.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Alice",
    )
    return LensReview.objects.create(
        workload=other, lens=review.lens, lens_version=review.lens_version
    )


def test_the_command_upgrades_one_workloads_review(review, second, alice):
    out, _ = run_command(review.workload.public_id, "team-lens", "--user", "alice")

    review.refresh_from_db()
    assert review.lens_version == second
    assert "moved from 1.0 to 1.1" in out
    assert "1 new" in out and "1 removed" in out
    assert review.workload.milestones.get().name == "Before upgrade to Team Lens 1.1"
    assert AnswerEvent.objects.filter(answer__lens_review=review, user=alice).exists()


def test_the_dry_run_changes_nothing(review, second):
    out, _ = run_command(review.workload.public_id, "team-lens", "--dry-run")

    review.refresh_from_db()
    assert "would move from 1.0 to 1.1" in out
    assert review.lens_version.label == "1.0"
    assert not review.workload.milestones.exists()


def test_the_command_upgrades_every_review_of_a_lens(review, second, alice, admin_user):
    other_review = another_review_of(review, alice, "Second workload")

    out, _ = run_command("team-lens", "--every", "--milestone", "Before the lens moved")

    for each in (review, other_review):
        each.refresh_from_db()
        assert each.lens_version == second
    assert out.count("moved from 1.0 to 1.1") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "no lens with the alias 'nope'"),
        (("team-lens",), "either a workload's public id or --every"),
        (("team-lens", "--every", "--to", "7.0"), "has no version '7.0'"),
        (("team-lens", "--every", "--user", "nobody"), "no user 'nobody'"),
    ],
)
def test_the_command_says_what_is_wrong(review, second, args, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        run_command(*args)
    review.refresh_from_db()
    assert review.lens_version.label == "1.0"


def test_the_command_refuses_an_older_version(review, second, alice):
    from django.core.management.base import CommandError

    run_command(review.workload.public_id, "team-lens")

    with pytest.raises(CommandError, match="could not be upgraded"):
        run_command(review.workload.public_id, "team-lens", "--to", "1.0")
    review.refresh_from_db()
    assert review.lens_version == second


def test_the_command_upgrades_only_the_workload_it_names(review, second, alice):
    untouched = another_review_of(review, alice, "Left alone")

    run_command(review.workload.public_id, "team-lens")

    untouched.refresh_from_db()
    assert untouched.lens_version.label == "1.0"


def test_comparing_the_milestone_before_an_upgrade_with_now_matches_questions_by_id(
    client, alice, review, second
):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)
    client.force_login(alice)

    response = client.get(
        reverse("reviews:compare", args=[review.workload.public_id]), {"from": 1, "to": "now"}
    )

    assert response.status_code == 200
    lens = next(c for c in response.context["lenses"] if c.alias == "team-lens")
    assert lens.versions == ("1.0", "1.1")
    presence = {c.question_id: c.presence for c in lens.changes}
    assert presence["p1_q9"] == "NEW"
    assert presence["p2_q2"] == "REMOVED"
    assert presence["p1_q2"] == ""  # medium before, high now: a change, in both versions
    assert "p2_q1" not in presence  # moved to another pillar, answered the same: unchanged
    body = response.content.decode()
    assert "New in 1.1" in body and "Removed in 1.1" in body


# -- notices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["workload", "overview", "pillar", "question"])
def test_writers_are_told_a_newer_version_is_available_with_links(
    client, bob, review, second, page
):
    client.force_login(bob)
    workload = review.workload.public_id
    url = {
        "workload": reverse("reviews:workload_detail", args=[workload]),
        "overview": reverse("reviews:overview", args=[workload, "team-lens"]),
        "pillar": reverse("reviews:pillar", args=[workload, "team-lens", "pillar1"]),
        "question": reverse("reviews:question", args=[workload, "team-lens", "p1_q1"]),
    }[page]

    body = client.get(url).content.decode()

    assert 'id="upgrade-notice-team-lens"' in body
    assert "Team Lens 1.1 is available" in body
    assert "5 questions new, removed or changed" in body
    assert reverse("reviews:upgrade", args=[workload, "team-lens"]) in body
    assert reverse("lenses:difference", args=["team-lens", second.pk]) in body


def test_read_only_members_get_no_upgrade_notice(client, carol, review, second):
    client.force_login(carol)

    body = client.get(
        reverse("reviews:overview", args=[review.workload.public_id, "team-lens"])
    ).content.decode()

    assert "upgrade-notice" not in body


def test_no_notice_once_the_review_is_on_the_newest_version(client, alice, review, second):
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)
    client.force_login(alice)

    body = client.get(
        reverse("reviews:workload_detail", args=[review.workload.public_id])
    ).content.decode()

    assert "upgrade-notice" not in body


def test_the_reviews_behind_are_those_with_a_newer_published_version(
    review, second, alice, mallory
):
    assert list(lens_reviews_behind(alice)) == [review]
    assert list(lens_reviews_behind(mallory)) == []
    lens_review_upgrade(lens_review=review, target=second, milestone_name="Before", user=alice)
    assert list(lens_reviews_behind(alice)) == []


def test_the_reviews_behind_match_the_upgrade_notices(review, second, alice):
    everyone = list(LensReview.objects.filter(workload=review.workload))
    assert set(upgrade_notices(everyone)) == {r.pk for r in lens_reviews_behind(alice)}
