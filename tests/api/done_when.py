"""The issue's "Done when" script, what each client's run of it must show, and the check.

The same steps run with boto3 (test_done_when.py), the AWS CLI (test_done_when_cli.py) and the
JavaScript SDK (tests/js/done_when.mjs): create a workload, page through every answer, update
answers and check their risk, read the pillar risk counts, save and read a milestone, import a
custom lens and publish a version of it, associate it, fetch the PDF report, export the lens,
share the workload, delete it. Each run returns a summary of what its client read, with the
same keys (see `check`).

The last step deletes the workload with everything in it, so what the database held is
recorded by `recorded_before_delete` in the live server's own thread, just before the delete.
"""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models.signals import pre_delete
from pypdf import PdfReader

from lenses.models import Lens
from reviews.models import AnswerEvent, AnswerRisk, ChoiceAnswer, Milestone, Workload
from tests.factories import lens_document

WORKLOAD_NAME = "Order pipeline"
MILESTONE_NAME = "After the first workshop"
LENS_VERSION = "1.0"
# Its questions are answered by nobody here; what matters is that it travels intact.
LENS = lens_document(name="Order Pipeline Lens", pillars=2, questions=2)


def lens_json() -> str:
    return json.dumps(LENS)


def all_practices(choices: list[dict[str, Any]]) -> list[str]:
    """Every choice but "None of these" (whose id ends in _no in AWS lenses): no risk."""
    return [c["ChoiceId"] for c in choices if not c["ChoiceId"].endswith("_no")]


def none_of_these(choices: list[dict[str, Any]]) -> list[str]:
    """Only "None of these": a high risk."""
    return [c["ChoiceId"] for c in choices if c["ChoiceId"].endswith("_no")]


# How the script answers the first and the second question.
PICKS = (all_practices, none_of_these)


@contextmanager
def recorded_before_delete() -> Iterator[dict[str, Any]]:
    """What the database holds of a workload when it is being deleted (filled in then)."""
    record: dict[str, Any] = {}

    def receiver(sender, instance: Workload, **kwargs) -> None:
        answers = [
            {
                "lens": answer.lens_review.lens.alias,
                "questionId": answer.question.question_id,
                "pillarId": answer.question.pillar.pillar_id,
                "risk": answer.risk,
                "notes": answer.notes,
                "updatedBy": answer.updated_by.username if answer.updated_by else None,
                "selected": sorted(
                    row.choice.choice_id
                    for row in answer.choice_answers.all()
                    if row.status == ChoiceAnswer.Status.SELECTED
                ),
                "historyBy": sorted(
                    event.user.username for event in AnswerEvent.objects.filter(answer=answer)
                ),
            }
            for answer in instance.lens_reviews.get(lens__alias="wellarchitected")
            .answers.select_related("question__pillar", "lens_review__lens", "updated_by")
            .prefetch_related("choice_answers__choice")
        ]
        record.update(
            name=instance.name,
            owner=instance.owner.username,
            answers=answers,
            lenses={
                review.lens.alias: review.lens_version.version
                for review in instance.lens_reviews.filter(is_active=True).select_related(
                    "lens", "lens_version"
                )
            },
            milestones=[(m.number, m.name) for m in Milestone.objects.filter(workload=instance)],
            members={m.user.username: m.role for m in instance.members.select_related("user")},
        )

    pre_delete.connect(receiver, sender=Workload, weak=False, dispatch_uid="done-when")
    try:
        yield record
    finally:
        pre_delete.disconnect(sender=Workload, dispatch_uid="done-when")


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {risk: n for risk, n in counts.items() if n}


def check(summary: dict[str, Any], record: dict[str, Any], *, owner, sharee) -> None:
    """`summary` (one client's run) agrees with the database as `record` caught it."""
    assert record, "the workload was never deleted"
    assert (record["name"], record["owner"]) == (WORKLOAD_NAME, owner.username)
    answers = {answer["questionId"]: answer for answer in record["answers"]}

    # Every answer, each once, over several pages.
    assert sorted(summary["questionIds"]) == sorted(answers)
    assert len(summary["questionIds"]) == len(set(summary["questionIds"]))
    assert summary["pages"] > 1

    # The answers it updated: what UpdateAnswer and a fresh GetAnswer returned is what is stored,
    # written by the key's user into the question's history; all best practices are no risk,
    # "none of these" a high risk.
    assert [u["risk"] for u in summary["updated"]] == [AnswerRisk.NONE, AnswerRisk.HIGH]
    for updated, reread in zip(summary["updated"], summary["reread"], strict=True):
        stored = answers[updated["questionId"]]
        assert stored["risk"] == updated["risk"] == reread["Risk"]
        assert stored["selected"] == sorted(updated["selectedChoices"])
        assert sorted(reread["SelectedChoices"]) == stored["selected"]
        assert stored["notes"] == updated["notes"] == reread["Notes"]
        assert stored["updatedBy"] == owner.username
        assert stored["historyBy"] == [owner.username]
    untouched = set(answers) - {u["questionId"] for u in summary["updated"]}
    assert {answers[q]["risk"] for q in untouched} == {AnswerRisk.UNANSWERED}

    # Pillar risk counts as GetLensReview gave them.
    by_pillar: dict[str, Counter] = {}
    for answer in record["answers"]:
        by_pillar.setdefault(answer["pillarId"], Counter())[answer["risk"]] += 1
    assert {p: _nonzero(c) for p, c in summary["pillarRiskCounts"].items()} == {
        p: dict(c) for p, c in by_pillar.items()
    }

    # The milestone, read back, froze those counts.
    milestone = summary["milestone"]
    assert record["milestones"] == [(milestone["MilestoneNumber"], MILESTONE_NAME)]
    assert milestone["MilestoneName"] == MILESTONE_NAME
    assert _nonzero(milestone["Workload"]["RiskCounts"]) == dict(
        Counter(answer["risk"] for answer in record["answers"])
    )

    # The custom lens: imported, published as 1.0, reviewed in the workload.
    alias = summary["lensArn"].rsplit("/", 1)[1]
    assert summary["lensArn"].startswith("arn:aws:wellarchitected:")
    lens = Lens.objects.get(alias=alias)
    assert lens.name == LENS["name"]
    assert list(lens.versions.values_list("version", "status")) == [(LENS_VERSION, "PUBLISHED")]
    assert summary["lensVersion"] == LENS_VERSION
    assert sorted(record["lenses"]) == sorted(["wellarchitected", alias])
    assert record["lenses"][alias] == LENS_VERSION
    assert sorted(summary["lenses"]) == sorted(["wellarchitected", summary["lensArn"]])

    # The PDF report of the review, decoded from base64.
    pdf = base64.b64decode(summary["reportBase64"])
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert WORKLOAD_NAME in text

    # The lens as exported is the lens as imported.
    exported = json.loads(summary["exportedLensJson"])
    assert exported["name"] == LENS["name"]
    assert [[q["id"] for q in p["questions"]] for p in exported["pillars"]] == [
        [q["id"] for q in p["questions"]] for p in LENS["pillars"]
    ]

    # Shared with the sharee as a contributor, then deleted with everything in it.
    assert summary["shareId"]
    assert record["members"][sharee.username] == "CONTRIBUTOR"
    assert summary["afterDelete"] == "ResourceNotFoundException"
    assert not Workload.objects.filter(public_id=summary["workloadId"]).exists()
