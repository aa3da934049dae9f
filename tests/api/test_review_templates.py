"""Review templates through the real boto3 client."""

import pytest
from botocore.exceptions import ClientError

from api.identifiers import account_id
from review_templates.models import ReviewTemplate, TemplateAnswer
from reviews.models import Workload

boto3 = pytest.importorskip("boto3")

pytestmark = pytest.mark.django_db(transaction=True)


def create(client, name="Platform baseline"):
    return client.create_review_template(
        TemplateName=name,
        Description="What the platform team answers for everyone.",
        Lenses=["wellarchitected"],
        Notes="Owned by the platform team.",
    )["TemplateArn"]


def error_of(call) -> dict:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]


def test_a_template_is_created_answered_read_listed_and_deleted(wa, builtin_lens, alice):
    client = wa(alice)
    arn = create(client)
    assert ":review-template/" in arn

    client.update_review_template_answer(
        TemplateArn=arn,
        LensAlias="wellarchitected",
        QuestionId="sec1",
        SelectedChoices=["sec1_bp1"],
        ChoiceUpdates={"sec1_bp2": {"Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"}},
        Notes="One account per team.",
    )
    answer = client.get_review_template_answer(
        TemplateArn=arn, LensAlias="wellarchitected", QuestionId="sec1"
    )["Answer"]
    assert answer["SelectedChoices"] == ["sec1_bp1"]
    assert answer["AnswerStatus"] == "ANSWERED"
    assert answer["Notes"] == "One account per team."
    assert {"ChoiceId": "sec1_bp2", "Status": "NOT_APPLICABLE", "Reason": "OUT_OF_SCOPE"} in [
        {k: v for k, v in c.items() if k != "Notes"} for c in answer["ChoiceAnswers"]
    ]

    template = client.get_review_template(TemplateArn=arn)["ReviewTemplate"]
    assert template["TemplateName"] == "Platform baseline"
    assert template["Lenses"] == ["wellarchitected"]
    assert template["QuestionCounts"]["ANSWERED"] == 1
    assert template["Notes"] == "Owned by the platform team."
    listed = client.list_review_templates()["ReviewTemplates"]
    assert [t["TemplateArn"] for t in listed] == [arn]
    summaries = client.list_review_template_answers(
        TemplateArn=arn, LensAlias="wellarchitected", PillarId="security"
    )["AnswerSummaries"]
    assert [s["AnswerStatus"] for s in summaries if s["QuestionId"] == "sec1"] == ["ANSWERED"]
    review = client.get_review_template_lens_review(TemplateArn=arn, LensAlias="wellarchitected")
    assert review["LensReview"]["QuestionCounts"]["ANSWERED"] == 1

    client.delete_review_template(TemplateArn=arn)
    assert not ReviewTemplate.objects.exists()
    assert error_of(lambda: client.get_review_template(TemplateArn=arn))["Code"] == (
        "ResourceNotFoundException"
    )


def test_a_contradictory_answer_is_refused_and_nothing_changes(wa, builtin_lens, alice):
    client = wa(alice)
    arn = create(client)
    error = error_of(
        lambda: client.update_review_template_answer(
            TemplateArn=arn,
            LensAlias="wellarchitected",
            QuestionId="sec1",
            SelectedChoices=["sec1_bp1", "sec1_no"],
        )
    )
    assert error["Code"] == "ValidationException"
    assert "None of these" in error["Message"]
    assert not TemplateAnswer.objects.exists()


def test_create_workload_applies_the_templates_it_names(wa, builtin_lens, alice):
    client = wa(alice)
    arn = create(client)
    client.update_review_template_answer(
        TemplateArn=arn,
        LensAlias="wellarchitected",
        QuestionId="sec1",
        SelectedChoices=["sec1_bp1"],
    )

    workload_id = client.create_workload(
        WorkloadName="Orders API",
        Description="Keeps the orders.",
        Environment="PRODUCTION",
        Lenses=["wellarchitected"],
        ReviewTemplateArns=[arn],
    )["WorkloadId"]

    answer = client.get_answer(
        WorkloadId=workload_id, LensAlias="wellarchitected", QuestionId="sec1"
    )
    assert answer["Answer"]["SelectedChoices"] == ["sec1_bp1"]


def test_create_workload_with_a_template_nobody_shared_creates_nothing(
    wa, builtin_lens, alice, mallory
):
    arn = create(wa(alice))
    error = error_of(
        lambda: wa(mallory).create_workload(
            WorkloadName="Orders API",
            Description="Keeps the orders.",
            Environment="PRODUCTION",
            Lenses=["wellarchitected"],
            ReviewTemplateArns=[arn],
        )
    )
    assert error["Code"] == "ResourceNotFoundException"
    assert not Workload.objects.filter(name="Orders API").exists()


def test_templates_stay_out_of_list_workloads(wa, builtin_lens, workload, alice):
    client = wa(alice)
    create(client)
    names = [w["WorkloadName"] for w in client.list_workloads()["WorkloadSummaries"]]
    assert names == ["Payments API"]


def test_a_template_shared_through_the_api_is_read_only_for_its_reader(
    wa, builtin_lens, alice, carol
):
    owner = wa(alice)
    arn = create(owner)
    share = owner.create_template_share(TemplateArn=arn, SharedWith=account_id(carol.pk))
    assert [
        s["ShareId"] for s in owner.list_template_shares(TemplateArn=arn)["TemplateShareSummaries"]
    ] == [share["ShareId"]]

    reader = wa(carol)
    assert reader.get_review_template(TemplateArn=arn)["ReviewTemplate"]["TemplateArn"] == arn
    error = error_of(
        lambda: reader.update_review_template_answer(
            TemplateArn=arn, LensAlias="wellarchitected", QuestionId="sec1", Notes="Mine."
        )
    )
    assert error["Code"] == "AccessDeniedException"

    owner.delete_template_share(TemplateArn=arn, ShareId=share["ShareId"])
    assert error_of(lambda: reader.get_review_template(TemplateArn=arn))["Code"] == (
        "ResourceNotFoundException"
    )
