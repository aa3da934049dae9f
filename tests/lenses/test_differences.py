"""What changed between two versions of a lens: the service, its page and its JSON form."""

import copy

import pytest
from django.urls import reverse

from lenses.differences import DELETED, NEW, UNCHANGED, UPDATED, document_difference
from lenses.lens_format import read_lens_file
from lenses.models import Lens
from lenses.services import lens_import, lens_version_publish
from reviews.services import workload_add_lens
from tests.conftest import SHARED_LENSES
from tests.factories import lens_bytes, lens_document

GLUE = SHARED_LENSES / "versions"


def question(difference, question_id):
    return next(
        q for pillar in difference.pillars for q in pillar.questions if q.question_id == question_id
    )


def pillar(difference, pillar_id):
    return next(p for p in difference.pillars if p.pillar_id == pillar_id)


@pytest.fixture
def base():
    return lens_document()


# -- the service -----------------------------------------------------------------------------


def test_identical_versions_have_no_difference(base):
    difference = document_difference(base, copy.deepcopy(base))

    assert not difference.changed
    assert difference.question_counts() == {NEW: 0, DELETED: 0, UPDATED: 0, UNCHANGED: 4}
    assert difference.as_aws(lens_alias="x")["VersionDifferences"]["PillarDifferences"] == []


def test_a_question_added_and_one_removed_are_new_and_deleted(base):
    target = copy.deepcopy(base)
    added = copy.deepcopy(target["pillars"][0]["questions"][0])
    added["id"] = "p1_q9"
    target["pillars"][0]["questions"].append(added)
    del target["pillars"][1]["questions"][1]

    difference = document_difference(base, target)

    assert question(difference, "p1_q9").status == NEW
    assert question(difference, "p2_q2").status == DELETED
    assert pillar(difference, "pillar1").status == UPDATED
    assert pillar(difference, "pillar2").status == UPDATED
    assert question(difference, "p1_q1").status == UNCHANGED


def test_a_question_moved_to_another_pillar_is_listed_there_as_moved(base):
    target = copy.deepcopy(base)
    moved = target["pillars"][0]["questions"].pop(1)
    target["pillars"][1]["questions"].append(moved)

    difference = document_difference(base, target)

    entry = question(difference, "p1_q2")
    assert entry.status == UPDATED
    assert entry.moved_from == "Pillar 1"
    assert [q.question_id for q in pillar(difference, "pillar2").questions][-1] == "p1_q2"
    assert "p1_q2" not in [q.question_id for q in pillar(difference, "pillar1").questions]
    assert pillar(difference, "pillar1").status == UPDATED  # it lost a question


def test_a_removed_choice_and_changed_rules_make_the_question_updated(base):
    target = copy.deepcopy(base)
    changed = target["pillars"][0]["questions"][0]
    changed["choices"] = [c for c in changed["choices"] if c["id"] != "p1_q1_c3"]
    changed["riskRules"][1]["condition"] = "!p1_q1_c2"

    entry = question(document_difference(base, target), "p1_q1")

    assert entry.status == UPDATED
    assert [(c.choice_id, c.status) for c in entry.changed_choices] == [("p1_q1_c3", DELETED)]
    assert entry.rules_changed
    assert entry.rules_after[1]["condition"] == "!p1_q1_c2"


def test_changed_texts_are_named_with_before_and_after(base):
    target = copy.deepcopy(base)
    changed = target["pillars"][0]["questions"][0]
    changed["title"] = "A better question?"
    changed["choices"][0]["improvementPlan"] = {
        "displayText": "Do it now.",
        "url": "https://example.com/now",
    }
    target["pillars"][0]["name"] = "Pillar One"

    difference = document_difference(base, target)

    entry = question(difference, "p1_q1")
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("title", "Question p1_q1?", "A better question?")
    ]
    choice = entry.changed_choices[0]
    assert (choice.choice_id, choice.status) == ("p1_q1_c1", UPDATED)
    assert [(c.label, c.after) for c in choice.changes] == [
        ("improvement plan", "Do it now. (https://example.com/now)")
    ]
    assert [(c.label, c.before, c.after) for c in pillar(difference, "pillar1").changes] == [
        ("name", "Pillar 1", "Pillar One")
    ]


def test_a_renamed_lens_with_the_same_ids_is_compared_item_by_item(base):
    target = copy.deepcopy(base)
    target["name"] = "Renamed Lens"

    assert not document_difference(base, target).changed


def test_when_every_id_changes_everything_is_new_and_nothing_carries_over(base):
    target = copy.deepcopy(base)
    for each in target["pillars"]:
        each["id"] = "new_" + each["id"]
        for entry in each["questions"]:
            entry["id"] = "new_" + entry["id"]

    difference = document_difference(base, target)

    statuses = {p.pillar_id: p.status for p in difference.pillars}
    assert statuses == {
        "new_pillar1": NEW,
        "new_pillar2": NEW,
        "pillar1": DELETED,
        "pillar2": DELETED,
    }
    assert difference.question_counts() == {NEW: 4, DELETED: 4, UPDATED: 0, UNCHANGED: 0}


def test_a_removed_none_of_these_choice_is_a_deleted_choice(base):
    target = copy.deepcopy(base)
    entry = target["pillars"][1]["questions"][0]
    entry["choices"] = [c for c in entry["choices"] if not c["id"].endswith("_no")]

    changed = question(document_difference(base, target), "p2_q1").changed_choices

    assert [(c.choice_id, c.status) for c in changed] == [("p2_q1_no", DELETED)]


def test_the_json_form_has_the_shape_of_the_aws_answer(base):
    target = copy.deepcopy(base)
    target["pillars"][1]["questions"][0]["title"] = "Changed?"

    answer = document_difference(base, target, base_label="1.0", target_label="1.1").as_aws(
        lens_alias="team-lens", latest_label="1.1"
    )

    assert answer == {
        "LensAlias": "team-lens",
        "BaseLensVersion": "1.0",
        "TargetLensVersion": "1.1",
        "LatestLensVersion": "1.1",
        "VersionDifferences": {
            "PillarDifferences": [
                {
                    "PillarId": "pillar2",
                    "PillarName": "Pillar 2",
                    "DifferenceStatus": UPDATED,
                    "QuestionDifferences": [
                        {
                            "QuestionId": "p2_q1",
                            "QuestionTitle": "Changed?",
                            "DifferenceStatus": UPDATED,
                        }
                    ],
                }
            ]
        },
    }


def test_the_real_glue_lens_keeps_its_questions_and_loses_twelve_choices():
    files = [GLUE / "glue-v0.8.json", GLUE / "glue-v1.0.json"]
    if not all(path.exists() for path in files):
        pytest.skip(f"the Glue lens versions are not in {GLUE}")
    before, after = (read_lens_file(path.read_bytes()).data for path in files)

    difference = document_difference(before, after)

    counts = difference.question_counts()
    assert counts[NEW] == counts[DELETED] == 0
    assert counts[UPDATED] > 0
    deleted = [
        c.choice_id
        for p in difference.pillars
        for q in p.questions
        for c in q.choices
        if c.status == DELETED
    ]
    assert len(deleted) == 12
    assert any(q.rules_changed for p in difference.pillars for q in p.questions)


# -- the pages -------------------------------------------------------------------------------


@pytest.fixture
def two_versions(db, admin_user):
    document = lens_document(name="Team Lens")
    first = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.0"
    )
    document["pillars"][0]["questions"][0]["title"] = "Is <b>this</b> better?"
    del document["pillars"][1]["questions"][1]
    second = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.1"
    )
    return first, second


def difference_url(version, name="lenses:difference"):
    return reverse(name, args=[version.lens.alias, version.pk])


def test_the_difference_page_groups_changes_by_pillar_and_folds_unchanged_ones(
    client, alice, two_versions
):
    first, second = two_versions
    client.force_login(alice)

    response = client.get(difference_url(second))

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["base"] == first
    assert 'id="diff-question-p1_q1"' in body
    assert 'id="diff-question-p2_q2"' in body and "Removed" in body
    assert "Is &lt;b&gt;this&lt;/b&gt; better?" in body  # escaped
    assert 'id="diff-question-p1_q2"' not in body  # unchanged: folded into a list
    assert '<details class="diff-unchanged">' in body


def test_the_difference_is_also_served_as_json(client, alice, two_versions):
    first, second = two_versions
    client.force_login(alice)

    answer = client.get(difference_url(second, "lenses:difference_json")).json()

    assert (answer["BaseLensVersion"], answer["TargetLensVersion"]) == ("1.0", "1.1")
    statuses = {
        q["QuestionId"]: q["DifferenceStatus"]
        for p in answer["VersionDifferences"]["PillarDifferences"]
        for q in p["QuestionDifferences"]
    }
    assert statuses == {"p1_q1": UPDATED, "p2_q2": DELETED}


def test_the_first_version_has_nothing_to_compare_with(client, alice, two_versions):
    first, _ = two_versions
    client.force_login(alice)

    response = client.get(difference_url(first))

    assert response.status_code == 200
    assert "nothing to compare it with" in response.content.decode()
    answer = client.get(difference_url(first, "lenses:difference_json")).json()
    assert "BaseLensVersion" not in answer
    assert answer["VersionDifferences"] == {"PillarDifferences": []}


@pytest.mark.parametrize("base", ["²", "abc", "0", "-1", "99999", "1\x00"])
def test_a_base_that_is_no_version_of_the_lens_is_not_found(client, alice, two_versions, base):
    _, second = two_versions
    client.force_login(alice)

    assert client.get(difference_url(second), {"base": base}).status_code == 404


def test_a_version_of_another_lens_is_not_a_base(client, alice, two_versions, admin_user):
    _, second = two_versions
    other = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(name="Other Lens"), user=admin_user),
        version="1.0",
    )
    client.force_login(alice)

    assert client.get(difference_url(second), {"base": other.pk}).status_code == 404


def test_only_staff_compare_with_the_draft(client, alice, admin_user, two_versions):
    _, second = two_versions
    document = lens_document(name="Team Lens")
    draft = lens_import(raw=lens_bytes(document), user=admin_user)

    client.force_login(alice)
    assert client.get(difference_url(draft)).status_code == 404
    assert client.get(difference_url(second), {"base": draft.pk}).status_code == 404
    client.force_login(admin_user)
    assert client.get(difference_url(draft)).status_code == 200


def test_the_difference_requires_login(client, two_versions):
    _, second = two_versions

    response = client.get(difference_url(second))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_lens_page_lists_versions_with_their_workloads_and_what_changed(
    client, alice, admin_user, workload
):
    document = lens_document(name="Team Lens")
    first = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.0"
    )
    workload_add_lens(workload=workload, lens=first.lens)  # reviews 1.0 from now on
    document["pillars"][0]["name"] = "Pillar One"
    second = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.1"
    )
    client.force_login(alice)

    response = client.get(reverse("lenses:version", args=[second.lens.alias, second.pk]))

    body = response.content.decode()
    versions = {v.label: v for v in response.context["versions"]}
    assert (versions["1.0"].workload_count, versions["1.1"].workload_count) == (1, 0)
    assert (versions["1.1"].previous, versions["1.0"].previous) == (first, None)
    assert difference_url(second) in body
    assert "changes since 1.0" in body


def test_the_difference_page_names_risks_in_words(client, alice, two_versions):
    _, second = two_versions
    document = lens_document(name="Team Lens")
    document["pillars"][0]["questions"][0]["riskRules"][0]["risk"] = "MEDIUM_RISK"
    client.force_login(alice)
    third = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=second.created_by),
        version="1.2",
    )

    body = client.get(difference_url(third), {"base": second.pk}).content.decode()

    assert "Medium risk when" in body and "High risk when" in body
    assert "MEDIUM_RISK" not in body and "NO_RISK" not in body


# -- upgrading every review, deprecating, deleting ---------------------------------------------


def test_staff_upgrade_every_review_of_older_versions_with_a_summary(
    client, admin_user, alice, workload
):
    document = lens_document(name="Team Lens")
    first = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.0"
    )
    review = workload_add_lens(workload=workload, lens=first.lens)
    document["pillars"][0]["name"] = "Pillar One"
    second = lens_version_publish(
        lens_version=lens_import(raw=lens_bytes(document), user=admin_user), version="1.1"
    )
    client.force_login(admin_user)
    page = client.get(reverse("lenses:version", args=[second.lens.alias, second.pk]))
    assert "Upgrade 1 review to 1.1" in page.content.decode()

    response = client.post(reverse("lenses:upgrade_reviews", args=[second.lens.alias, second.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Payments API" in body and "Upgraded:" in body
    review.refresh_from_db()
    assert review.lens_version == second
    assert workload.milestones.get().name == "Before upgrade to Team Lens 1.1"


def test_only_staff_upgrade_every_review(client, alice, two_versions):
    _, second = two_versions
    client.force_login(alice)

    response = client.post(reverse("lenses:upgrade_reviews", args=[second.lens.alias, second.pk]))

    assert response.status_code == 403


def test_deprecating_says_how_many_workloads_still_review_the_version(
    client, admin_user, workload, two_versions
):
    first, second = two_versions
    from reviews.models import LensReview

    LensReview.objects.create(workload=workload, lens=first.lens, lens_version=first)
    client.force_login(admin_user)

    response = client.post(
        reverse("lenses:deprecate", args=[first.lens.alias, first.pk]), follow=True
    )

    assert "1 workload still reviews it: upgrade it to a newer version." in (
        response.content.decode()
    )


def test_staff_delete_a_lens_that_nothing_uses_after_confirming(client, admin_user, two_versions):
    first, _ = two_versions
    client.force_login(admin_user)
    url = reverse("lenses:delete", args=[first.lens.alias])

    assert "Delete the lens" in client.get(url).content.decode()
    response = client.post(url)

    assert response.status_code == 302
    assert not Lens.objects.filter(alias=first.lens.alias).exists()


def test_a_lens_in_use_is_not_deleted_and_the_page_says_where(
    client, admin_user, workload, two_versions
):
    first, _ = two_versions
    from reviews.services import workload_remove_lens

    workload_add_lens(workload=workload, lens=first.lens)
    workload_remove_lens(workload=workload, lens=first.lens)  # hidden, not gone
    client.force_login(admin_user)
    url = reverse("lenses:delete", args=[first.lens.alias])

    assert "Payments API" in client.get(url).content.decode()
    response = client.post(url, follow=True)

    assert "used by 1 workload (“Payments API”)" in response.content.decode()
    assert Lens.objects.filter(alias=first.lens.alias).exists()


def test_the_built_in_lens_is_never_deleted(client, admin_user, builtin_lens):
    client.force_login(admin_user)

    client.post(reverse("lenses:delete", args=["wellarchitected"]))

    assert Lens.objects.filter(alias="wellarchitected").exists()


def test_only_staff_delete_lenses(client, alice, two_versions):
    first, _ = two_versions
    client.force_login(alice)

    assert client.post(reverse("lenses:delete", args=[first.lens.alias])).status_code == 403
    assert Lens.objects.filter(alias=first.lens.alias).exists()
