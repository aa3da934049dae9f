"""ListLenses, GetLens, ImportLens, CreateLensVersion, ExportLens, DeleteLens and
GetLensVersionDifference through boto3 against the live server."""

import json

import pytest
from botocore.exceptions import ClientError

from api.operations.common import arn_of_lens
from lenses.lens_format import read_lens_file
from lenses.models import Lens, LensVersion
from lenses.services import lens_import, lens_version_deprecate
from reviews.services import workload_add_lens
from tests.api.lens_setup import next_document, publish_lens, publish_next
from tests.factories import lens_bytes, lens_document

pytestmark = pytest.mark.django_db(transaction=True)


def error_of(raised) -> tuple[str, dict]:
    return raised.value.response["Error"]["Code"], raised.value.response


@pytest.fixture
def team_lens(admin_user):
    return publish_lens(admin_user, name="Team Lens")


@pytest.fixture
def draft_only(admin_user):
    return lens_import(raw=lens_bytes(name="Unpublished Lens"), user=admin_user)


# -- ListLenses and GetLens -------------------------------------------------------------------


def test_everyone_lists_the_built_in_lens_and_published_custom_lenses(
    wa, alice, builtin_lens, team_lens, draft_only
):
    summaries = wa(alice).list_lenses()["LensSummaries"]
    by_name = {s["LensName"]: s for s in summaries}
    assert set(by_name) == {builtin_lens.lens.name, "Team Lens"}
    builtin = by_name[builtin_lens.lens.name]
    assert (builtin["LensAlias"], builtin["LensType"]) == ("wellarchitected", "AWS_OFFICIAL")
    custom = by_name["Team Lens"]
    assert custom["LensAlias"] == custom["LensArn"] == arn_of_lens(team_lens.lens)
    assert (custom["LensType"], custom["LensVersion"], custom["LensStatus"]) == (
        "CUSTOM_SHARED",
        "1.0",
        "CURRENT",
    )
    assert len(custom["Owner"]) == 12
    assert custom["CreatedAt"] and custom["UpdatedAt"]


def test_staff_also_list_drafts_and_see_their_own_lenses_as_custom_self(
    wa, admin_user, builtin_lens, team_lens, draft_only
):
    client = wa(admin_user)
    drafts = client.list_lenses(LensStatus="DRAFT")["LensSummaries"]
    assert [s["LensName"] for s in drafts] == ["Unpublished Lens"]
    assert "LensVersion" not in drafts[0]
    mine = client.list_lenses(LensType="CUSTOM_SELF")["LensSummaries"]
    assert {s["LensName"] for s in mine} == {"Team Lens", "Unpublished Lens"}
    published = client.list_lenses(LensStatus="PUBLISHED", LensType="CUSTOM_SELF")
    assert [s["LensName"] for s in published["LensSummaries"]] == ["Team Lens"]


def test_a_user_who_is_not_staff_lists_no_drafts(wa, alice, draft_only):
    assert wa(alice).list_lenses(LensStatus="DRAFT")["LensSummaries"] == []


def test_lenses_are_found_by_their_full_name_and_type(wa, alice, builtin_lens, team_lens):
    client = wa(alice)
    found = client.list_lenses(LensName="team lens")["LensSummaries"]
    assert [s["LensName"] for s in found] == ["Team Lens"]
    assert client.list_lenses(LensName="Team")["LensSummaries"] == []
    official = client.list_lenses(LensType="AWS_OFFICIAL")["LensSummaries"]
    assert [s["LensAlias"] for s in official] == ["wellarchitected"]


def test_a_lens_whose_versions_are_all_deprecated_is_listed_to_staff_only(
    wa, alice, admin_user, team_lens
):
    lens_version_deprecate(lens_version=team_lens)
    assert wa(alice).list_lenses(LensType="CUSTOM_SHARED")["LensSummaries"] == []
    (summary,) = wa(admin_user).list_lenses(LensType="CUSTOM_SELF")["LensSummaries"]
    assert summary["LensStatus"] == "DEPRECATED"


def test_get_lens_gives_the_newest_version_or_the_one_named(wa, alice, admin_user, team_lens):
    publish_next(team_lens, admin_user, name="1.1")
    client = wa(alice)
    arn = arn_of_lens(team_lens.lens)
    lens = client.get_lens(LensAlias=arn)["Lens"]
    assert (lens["LensArn"], lens["LensVersion"], lens["Name"]) == (arn, "1.1", "Team Lens")
    assert (
        client.get_lens(LensAlias=team_lens.lens.alias, LensVersion="1.0")["Lens"]["LensVersion"]
        == "1.0"
    )
    with pytest.raises(ClientError) as raised:
        client.get_lens(LensAlias=arn, LensVersion="9.9")
    code, response = error_of(raised)
    assert code == "ResourceNotFoundException"
    assert response["ResourceType"] == "LENS_VERSION"


def test_a_draft_is_not_found_by_anyone_but_staff(wa, alice, admin_user, draft_only):
    with pytest.raises(ClientError) as raised:
        wa(alice).get_lens(LensAlias=draft_only.lens.alias)
    assert error_of(raised)[0] == "ResourceNotFoundException"
    lens = wa(admin_user).get_lens(LensAlias=draft_only.lens.alias)["Lens"]
    assert lens["Name"] == "Unpublished Lens" and "LensVersion" not in lens


# -- ImportLens and CreateLensVersion ----------------------------------------------------------


def test_staff_import_a_draft_with_tags_and_publish_it(wa, admin_user, alice):
    client = wa(admin_user)
    imported = client.import_lens(
        JSONString=json.dumps(lens_document(name="Imported Lens")), Tags={"team": "platform"}
    )
    lens = Lens.objects.get(name="Imported Lens")
    assert imported["LensArn"] == arn_of_lens(lens)
    assert imported["Status"] == "COMPLETE"
    assert lens.owner == admin_user and lens.tags == {"team": "platform"}
    assert lens.versions.get().status == LensVersion.Status.DRAFT
    assert wa(alice).list_lenses(LensName="Imported Lens")["LensSummaries"] == []

    created = client.create_lens_version(LensAlias=imported["LensArn"], LensVersion="2024.1")
    assert created == {
        "LensArn": imported["LensArn"],
        "LensVersion": "2024.1",
        "ResponseMetadata": created["ResponseMetadata"],
    }
    assert lens.versions.get().status == LensVersion.Status.PUBLISHED
    assert wa(admin_user).get_lens(LensAlias=imported["LensArn"])["Lens"]["Tags"] == {
        "team": "platform"
    }
    assert wa(alice).list_lenses(LensName="Imported Lens")["LensSummaries"]


def test_an_import_without_lens_alias_is_a_lens_of_its_own_even_with_a_taken_name(
    wa, admin_user, team_lens
):
    document = next_document(team_lens)
    imported = wa(admin_user).import_lens(JSONString=json.dumps(document))
    assert Lens.objects.filter(name="Team Lens").count() == 2
    assert imported["LensArn"] != arn_of_lens(team_lens.lens)
    assert team_lens.lens.versions.count() == 1


def test_an_import_with_lens_alias_brings_a_new_draft_of_that_lens(wa, admin_user, team_lens):
    arn = arn_of_lens(team_lens.lens)
    imported = wa(admin_user).import_lens(
        JSONString=json.dumps(next_document(team_lens)), LensAlias=arn
    )
    assert imported["LensArn"] == arn
    assert team_lens.lens.versions.filter(status=LensVersion.Status.DRAFT).count() == 1


def test_a_lens_alias_that_names_no_lens_is_not_found(wa, admin_user):
    with pytest.raises(ClientError) as raised:
        wa(admin_user).import_lens(JSONString=json.dumps(lens_document()), LensAlias="nope")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    assert not Lens.objects.exists()


def test_only_staff_import_lenses(wa, alice):
    with pytest.raises(ClientError) as raised:
        wa(alice).import_lens(JSONString=json.dumps(lens_document()))
    assert error_of(raised)[0] == "AccessDeniedException"
    assert not Lens.objects.exists()


def test_the_problems_of_a_lens_file_are_a_validation_exception_naming_their_place(wa, admin_user):
    document = lens_document()
    del document["pillars"][1]["name"]
    document["pillars"][0]["questions"][0]["choices"][0]["id"] = "bad id!"
    with pytest.raises(ClientError) as raised:
        wa(admin_user).import_lens(JSONString=json.dumps(document))
    code, response = error_of(raised)
    assert code == "ValidationException"
    problems = [field["Message"] for field in response["Fields"]]
    assert {field["Name"] for field in response["Fields"]} == {"JSONString"}
    assert "pillars[1].name: missing" in problems
    assert any(p.startswith("pillars[0].questions[0].choices[0].id:") for p in problems)
    assert "pillars[1].name" in response["Error"]["Message"]
    assert not Lens.objects.exists()


def test_text_that_is_not_json_is_refused_with_its_line_and_column(wa, admin_user):
    with pytest.raises(ClientError) as raised:
        wa(admin_user).import_lens(JSONString='{"name": ')
    code, response = error_of(raised)
    assert code == "ValidationException"
    assert response["Fields"][0]["Message"].startswith("line 1, column")


def test_importing_a_file_identical_to_the_latest_version_is_a_conflict(wa, admin_user, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(admin_user).import_lens(
            JSONString=team_lens.source, LensAlias=arn_of_lens(team_lens.lens)
        )
    assert error_of(raised)[0] == "ConflictException"
    assert team_lens.lens.versions.count() == 1


def test_a_retried_import_with_the_same_token_imports_one_lens(wa, admin_user):
    client = wa(admin_user)
    text = json.dumps(lens_document(name="Retried Lens"))
    first = client.import_lens(JSONString=text, ClientRequestToken="import-1")
    again = client.import_lens(JSONString=text, ClientRequestToken="import-1")
    assert first["LensArn"] == again["LensArn"]
    assert Lens.objects.filter(name="Retried Lens").count() == 1


def test_a_version_name_that_is_not_usable_or_taken_is_refused(wa, admin_user, team_lens):
    client = wa(admin_user)
    arn = arn_of_lens(team_lens.lens)
    client.import_lens(JSONString=json.dumps(next_document(team_lens)), LensAlias=arn)
    with pytest.raises(ClientError) as raised:
        client.create_lens_version(LensAlias=arn, LensVersion="-1")
    code, response = error_of(raised)
    assert code == "ValidationException"
    assert response["Fields"][0]["Name"] == "LensVersion"
    with pytest.raises(ClientError) as raised:
        client.create_lens_version(LensAlias=arn, LensVersion="1.0")
    assert error_of(raised)[0] == "ConflictException"
    assert team_lens.lens.versions.filter(status=LensVersion.Status.DRAFT).exists()


def test_publishing_a_lens_without_a_draft_is_a_conflict(wa, admin_user, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(admin_user).create_lens_version(LensAlias=arn_of_lens(team_lens.lens), LensVersion="2.0")
    code, response = error_of(raised)
    assert code == "ConflictException"
    assert "ImportLens" in response["Error"]["Message"]


def test_only_staff_publish_a_version(wa, alice, admin_user, team_lens):
    lens_import(
        raw=lens_bytes(next_document(team_lens)), user=admin_user, alias=team_lens.lens.alias
    )
    with pytest.raises(ClientError) as raised:
        wa(alice).create_lens_version(LensAlias=team_lens.lens.alias, LensVersion="2.0")
    assert error_of(raised)[0] == "AccessDeniedException"
    assert team_lens.lens.versions.filter(status=LensVersion.Status.DRAFT).exists()


# -- ExportLens ---------------------------------------------------------------------------------


def test_export_gives_the_custom_lens_file_of_the_version(wa, alice, admin_user, team_lens):
    newer = publish_next(team_lens, admin_user, name="1.1")
    client = wa(alice)
    exported = client.export_lens(LensAlias=arn_of_lens(team_lens.lens))["LensJSON"]
    assert read_lens_file(exported.encode()).digest == newer.digest
    older = client.export_lens(LensAlias=team_lens.lens.alias, LensVersion="1.0")["LensJSON"]
    assert read_lens_file(older.encode()).digest == team_lens.digest


def test_only_staff_export_a_draft(wa, alice, admin_user, draft_only):
    with pytest.raises(ClientError) as raised:
        wa(alice).export_lens(LensAlias=draft_only.lens.alias, LensVersion="draft")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    exported = wa(admin_user).export_lens(LensAlias=draft_only.lens.alias, LensVersion="draft")
    assert json.loads(exported["LensJSON"])["name"] == "Unpublished Lens"


# -- DeleteLens ---------------------------------------------------------------------------------


def test_staff_delete_a_lens_nothing_uses(wa, admin_user, team_lens):
    wa(admin_user).delete_lens(LensAlias=arn_of_lens(team_lens.lens), LensStatus="ALL")
    assert not Lens.objects.filter(pk=team_lens.lens_id).exists()


def test_a_lens_a_workload_reviews_cannot_be_deleted(wa, admin_user, workload, team_lens):
    workload_add_lens(workload=workload, lens=team_lens.lens)
    with pytest.raises(ClientError) as raised:
        wa(admin_user).delete_lens(LensAlias=team_lens.lens.alias, LensStatus="PUBLISHED")
    code, response = error_of(raised)
    assert code == "ConflictException"
    assert "Payments API" in response["Error"]["Message"]
    assert Lens.objects.filter(pk=team_lens.lens_id).exists()


def test_deleting_the_draft_keeps_the_published_versions(wa, admin_user, team_lens):
    lens_import(
        raw=lens_bytes(next_document(team_lens)), user=admin_user, alias=team_lens.lens.alias
    )
    client = wa(admin_user)
    client.delete_lens(LensAlias=team_lens.lens.alias, LensStatus="DRAFT")
    assert list(team_lens.lens.versions.all()) == [team_lens]
    with pytest.raises(ClientError) as raised:
        client.delete_lens(LensAlias=team_lens.lens.alias, LensStatus="DRAFT")
    assert error_of(raised)[0] == "ResourceNotFoundException"


def test_deleting_the_only_draft_of_a_lens_deletes_the_lens(wa, admin_user, draft_only):
    wa(admin_user).delete_lens(LensAlias=draft_only.lens.alias, LensStatus="DRAFT")
    assert not Lens.objects.filter(pk=draft_only.lens_id).exists()


def test_the_built_in_lens_cannot_be_deleted(wa, admin_user, builtin_lens):
    with pytest.raises(ClientError) as raised:
        wa(admin_user).delete_lens(LensAlias="wellarchitected", LensStatus="ALL")
    assert error_of(raised)[0] == "ValidationException"
    assert Lens.objects.filter(alias="wellarchitected").exists()


def test_only_staff_delete_lenses(wa, alice, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(alice).delete_lens(LensAlias=team_lens.lens.alias, LensStatus="ALL")
    assert error_of(raised)[0] == "AccessDeniedException"
    assert Lens.objects.filter(pk=team_lens.lens_id).exists()


# -- GetLensVersionDifference -------------------------------------------------------------------


def test_the_difference_of_two_versions_lists_what_changed(wa, alice, admin_user, team_lens):
    publish_next(team_lens, admin_user, name="1.1")
    arn = arn_of_lens(team_lens.lens)
    answer = wa(alice).get_lens_version_difference(
        LensAlias=arn, BaseLensVersion="1.0", TargetLensVersion="1.1"
    )
    assert (answer["LensAlias"], answer["LensArn"]) == (arn, arn)
    assert (answer["BaseLensVersion"], answer["TargetLensVersion"]) == ("1.0", "1.1")
    assert answer["LatestLensVersion"] == "1.1"
    (pillar,) = answer["VersionDifferences"]["PillarDifferences"]
    statuses = {q["QuestionId"]: q["DifferenceStatus"] for q in pillar["QuestionDifferences"]}
    assert statuses == {"p1_q1": "UPDATED", "p1_new": "NEW"}


def test_without_versions_the_difference_is_from_the_previous_version_to_the_newest(
    wa, alice, admin_user, team_lens
):
    publish_next(team_lens, admin_user, name="1.1")
    answer = wa(alice).get_lens_version_difference(LensAlias=team_lens.lens.alias)
    assert (answer["BaseLensVersion"], answer["TargetLensVersion"]) == ("1.0", "1.1")


def test_the_first_version_of_a_lens_differs_from_nothing(wa, alice, team_lens):
    answer = wa(alice).get_lens_version_difference(LensAlias=team_lens.lens.alias)
    assert "BaseLensVersion" not in answer
    assert answer["VersionDifferences"]["PillarDifferences"] == []


def test_a_difference_to_a_version_that_does_not_exist_is_not_found(wa, alice, team_lens):
    with pytest.raises(ClientError) as raised:
        wa(alice).get_lens_version_difference(LensAlias=team_lens.lens.alias, BaseLensVersion="0.1")
    assert error_of(raised)[0] == "ResourceNotFoundException"
