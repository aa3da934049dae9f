"""The scripts of tests/js, with the AWS SDK for JavaScript v3, against Archlens on a loopback
port: the issue's workshop script and its "Done when" script."""

import shutil
from collections import Counter

import pytest

from api.identifiers import account_id
from api.keys import api_key_create
from reviews.models import AnswerEvent, AnswerRisk, ChoiceAnswer, Workload
from tests.api.done_when import (
    LENS_VERSION,
    MILESTONE_NAME,
    WORKLOAD_NAME,
    check,
    lens_json,
    recorded_before_delete,
)
from tests.api.js_sdk import JS_DIR, run_script, sdk_installed

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_javascript_sdk_creates_a_workload_pages_through_its_answers_and_updates_one(
    live_server, alice, builtin_lens
):
    sdk_installed()
    summary = run_script(
        "workshop.mjs",
        endpoint=f"{live_server.url}/aws",
        issued=api_key_create(user=alice),
        env={"WORKLOAD_NAME": "Checkout service", "PAGE_SIZE": "7"},
    )

    workload = Workload.objects.get(public_id=summary["workloadId"])
    assert (workload.name, workload.owner) == ("Checkout service", alice)
    assert workload.regions == ["eu-central-1", "eu-west-1"]
    assert workload.pillar_priorities[:2] == ["security", "reliability"]
    assert summary["pillarPriorities"] == workload.pillar_priorities
    answers = workload.lens_reviews.get().answers.select_related("question__pillar")

    # Every answer once, in pages of 7 (38 questions in the built-in lens: 6 pages).
    questions = [answer.question.question_id for answer in answers.order_by("question__order")]
    assert sorted(summary["questionIds"]) == sorted(questions)
    assert len(set(summary["questionIds"])) == len(questions)
    assert summary["pages"] == -(-len(questions) // 7)

    updated = answers.get(question__question_id=summary["updated"]["questionId"])
    selected = ChoiceAnswer.objects.filter(answer=updated, status=ChoiceAnswer.Status.SELECTED)
    assert sorted(summary["updated"]["selectedChoices"]) == sorted(
        selected.values_list("choice__choice_id", flat=True)
    )
    assert summary["riskBefore"] == AnswerRisk.UNANSWERED
    assert summary["updated"]["risk"] == updated.risk == AnswerRisk.NONE
    assert updated.notes == summary["updated"]["notes"]
    assert updated.updated_by == alice
    assert AnswerEvent.objects.filter(answer=updated, user=alice).count() == 1

    by_pillar: dict[str, Counter] = {}
    for answer in answers:
        by_pillar.setdefault(answer.question.pillar.pillar_id, Counter())[answer.risk] += 1
    for pillar, counts in by_pillar.items():
        reported = {risk: n for risk, n in summary["pillarRiskCounts"][pillar].items() if n}
        assert reported == dict(counts), pillar
    overall = dict(Counter(answer.risk for answer in answers))
    for read in (summary["lensReviewRiskCounts"], summary["workloadRiskCounts"]):
        assert {risk: n for risk, n in read.items() if n} == overall
    assert overall[AnswerRisk.NONE] == 1


def test_the_done_when_script_runs_unchanged_with_the_javascript_sdk(
    live_server, admin_user, bob, builtin_lens, tmp_path
):
    sdk_installed()
    lens_file = tmp_path / "order-pipeline-lens.json"
    lens_file.write_text(lens_json())
    with recorded_before_delete() as record:
        summary = run_script(
            "done_when.mjs",
            endpoint=f"{live_server.url}/aws",
            issued=api_key_create(user=admin_user),
            env={
                "WORKLOAD_NAME": WORKLOAD_NAME,
                "MILESTONE_NAME": MILESTONE_NAME,
                "LENS_FILE": str(lens_file),
                "LENS_VERSION": LENS_VERSION,
                "SHARE_WITH": account_id(bob.pk),
            },
        )
    check(summary, record, owner=admin_user, sharee=bob)


def test_without_nodejs_the_javascript_sdk_tests_are_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match="Node.js and npm are not installed"):
        sdk_installed()


def test_when_the_sdk_cannot_be_downloaded_the_javascript_sdk_tests_are_skipped(
    monkeypatch, tmp_path
):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(JS_DIR / name, tmp_path / name)
    # A loopback port nobody listens on stands for a machine without the registry.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(pytest.skip.Exception, match="npm ci in .* failed"):
        sdk_installed(tmp_path)
    assert not (tmp_path / "node_modules" / ".package-lock.json").exists()
