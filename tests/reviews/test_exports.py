"""CSV downloads: the improvement plan and all answers of a lens review."""

import csv
import datetime
import io

from django.urls import reverse
from django.utils import timezone

from lenses.models import Choice
from reviews.models import Answer, ImprovementItem, ImprovementStatus
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
)

# session, user, workload, lens review; the snapshot: pillars, questions, choices, answers,
# with their choice rows and items (one query), pillar notes; the line in the activity log
ANSWERS_QUERIES = 9
PLAN_QUERIES = ANSWERS_QUERIES + 2  # and the open items, and the workload's profile


def csv_url(name, workload, **params):
    url = reverse(f"reviews:{name}", args=[workload.public_id, "wellarchitected"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def answer_of(workload, question_id) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )


def tick(workload, user, question_id, *choice_ids, status="SELECTED") -> Answer:
    answer = answer_of(workload, question_id)
    for choice_id in choice_ids:
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status=status, user=user
        )
    return answer


def rows_of(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert not text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


# -- answers -------------------------------------------------------------------------------------


def test_the_answers_csv_has_a_row_per_question_in_lens_order(client, carol, workload, alice):
    tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    client.force_login(carol)

    response = client.get(csv_url("answers_csv", workload))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="payments-api-wellarchitected-answers.csv"'
    )
    header, *rows = rows_of(response)
    assert header == [
        "Pillar",
        "Question ID",
        "Question",
        "Risk",
        "Applicable",
        "Reason",
        "Selected choices",
        "Not applicable choices",
        "Notes",
        "Selected choices count",
        "Best practices followed",
        "Best practices applicable",
        "Pillar score (%)",
        "Lens score (%)",
    ]
    assert len(rows) == Answer.objects.filter(lens_review__workload=workload).count()
    assert rows[0][:2] == ["Operational Excellence", "ops1"]
    sec1 = next(row for row in rows if row[1] == "sec1")
    question = answer_of(workload, "sec1").question
    titles = dict(question.choices.values_list("choice_id", "title"))
    practices = question.choices.filter(is_none=False).count()
    # Only Security has an answered question: its score is the lens's, over all its practices.
    security = Choice.objects.filter(question__pillar=question.pillar, is_none=False).count()
    score = f"{100 * 2 / security:.1f}"
    assert sec1 == [
        "Security",
        "sec1",
        question.title,
        "Medium risk",
        "Yes",
        "",
        f"{titles['sec1_bp1']}; {titles['sec1_bp2']}",
        "",
        "",
        "Yes",
        "2",
        str(practices),
        score,
        score,
    ]
    rel1 = next(row for row in rows if row[1] == "rel1")
    assert rel1[3] == "Unanswered"
    assert rel1[-4:] == ["0", rel1[-3], "", score]


def test_the_answers_csv_lists_not_applicable_choices_and_questions(client, alice, workload):
    answer = tick(workload, alice, "sec1", "sec1_bp6", status="NOT_APPLICABLE")
    answer_applicability_update(
        answer=answer_of(workload, "rel1"), is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )
    client.force_login(alice)

    rows = rows_of(client.get(csv_url("answers_csv", workload)))

    sec1 = next(row for row in rows if row[1] == "sec1")
    assert sec1[7] == answer.question.choices.get(choice_id="sec1_bp6").title
    rel1 = next(row for row in rows if row[1] == "rel1")
    assert rel1[3:6] == ["Not applicable", "No", "Out of scope"]


def test_ticks_of_a_question_that_does_not_apply_are_marked_as_not_counting(
    client, alice, workload
):
    ticked = tick(workload, alice, "rel1", "rel1_bp1", "rel1_bp2")
    answer_applicability_update(
        answer=ticked, is_applicable=False, reason="BUSINESS_PRIORITIES", user=alice
    )
    tick(workload, alice, "sec1", "sec1_bp1")
    client.force_login(alice)

    header, *rows = rows_of(client.get(csv_url("answers_csv", workload)))

    rel1 = dict(zip(header, next(row for row in rows if row[1] == "rel1"), strict=True))
    titles = dict(ticked.question.choices.values_list("choice_id", "title"))
    assert rel1["Applicable"] == "No" and rel1["Reason"] == "Business priorities"
    assert rel1["Selected choices"] == f"{titles['rel1_bp1']}; {titles['rel1_bp2']}"
    assert rel1["Selected choices count"] == "No: the question does not apply"
    sec1 = dict(zip(header, next(row for row in rows if row[1] == "sec1"), strict=True))
    assert sec1["Selected choices count"] == "Yes"
    unanswered = dict(zip(header, next(row for row in rows if row[1] == "ops1"), strict=True))
    assert unanswered["Selected choices count"] == ""


def test_the_plan_csv_names_assignees_in_full(client, alice, bob, workload):
    bob.first_name, bob.last_name = "Maximiliane", "von Wolkenstein-Rodenegg"
    bob.save()
    tick(workload, alice, "sec1", "sec1_no")
    ImprovementItem.objects.update(assignee=bob)
    client.force_login(alice)

    rows = rows_of(client.get(csv_url("improvement_csv", workload)))

    assert rows[1][5] == "Maximiliane von Wolkenstein-Rodenegg (bob)"


def test_notes_with_commas_and_newlines_survive_the_round_trip(client, alice, workload):
    notes = 'Two regions, one "primary";\nfailover is manual.\r\nSee the runbook.'
    answer_notes_update(answer=answer_of(workload, "sec1"), notes=notes, base_version=0, user=alice)
    client.force_login(alice)

    rows = rows_of(client.get(csv_url("answers_csv", workload)))

    assert next(row for row in rows if row[1] == "sec1")[8] == notes


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(client, alice, workload):
    for question_id, notes in [
        ("sec1", '=HYPERLINK("http://evil.example","x")'),
        ("sec2", "+1+2"),
        ("rel1", "-2+3"),
        ("rel2", "@SUM(A1)"),
        ("ops1", "Fine = safe"),
    ]:
        answer_notes_update(
            answer=answer_of(workload, question_id), notes=notes, base_version=0, user=alice
        )
    client.force_login(alice)

    notes = {row[1]: row[8] for row in rows_of(client.get(csv_url("answers_csv", workload)))}

    assert notes["sec1"] == '\'=HYPERLINK("http://evil.example","x")'
    assert notes["sec2"] == "'+1+2"
    assert notes["rel1"] == "'-2+3"
    assert notes["rel2"] == "'@SUM(A1)"
    assert notes["ops1"] == "Fine = safe"


def test_the_answers_csv_takes_the_same_number_of_queries_however_answered(
    client, alice, workload, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(ANSWERS_QUERIES):
        client.get(csv_url("answers_csv", workload))
    for question_id in ("ops1", "sec1", "sec2", "rel1", "perf1", "cost1"):
        tick(workload, alice, question_id, f"{question_id}_bp1", f"{question_id}_bp2")

    with django_assert_max_num_queries(ANSWERS_QUERIES):
        client.get(csv_url("answers_csv", workload))


def test_the_answers_csv_requires_login(client, workload):
    response = client.get(csv_url("answers_csv", workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_answers_csv_is_hidden_from_users_without_access(client, mallory, workload):
    client.force_login(mallory)

    assert client.get(csv_url("answers_csv", workload)).status_code == 404


def test_the_answers_csv_rejects_post(client, alice, workload):
    client.force_login(alice)

    assert client.post(csv_url("answers_csv", workload)).status_code == 405


# -- improvement plan ----------------------------------------------------------------------------


def test_the_plan_csv_has_a_row_per_risky_question_in_plan_order(client, alice, carol, workload):
    tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")  # medium
    tick(workload, alice, "rel1", "rel1_no")  # high
    item = ImprovementItem.objects.get(answer__question__question_id="sec1")
    ImprovementItem.objects.filter(pk=item.pk).update(
        status=ImprovementStatus.IN_PROGRESS,
        assignee=carol,
        due_date=timezone.localdate() - datetime.timedelta(days=2),
        comment="-Mallory's idea, with a comma\nand a second line",
    )
    client.force_login(carol)

    response = client.get(csv_url("improvement_csv", workload))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="payments-api-wellarchitected-improvement-plan.csv"'
    )
    header, *rows = rows_of(response)
    assert header == [
        "Pillar",
        "Question ID",
        "Question",
        "Risk",
        "Status",
        "Assignee",
        "Due date",
        "Overdue",
        "Missing best practices",
        "Improvement plan links",
        "Comment",
    ]
    assert [row[1] for row in rows] == ["rel1", "sec1"]
    sec1 = rows[1]
    question = answer_of(workload, "sec1").question
    missing = question.choices.filter(
        choice_id__in=["sec1_bp3", "sec1_bp4", "sec1_bp5", "sec1_bp6"]
    )
    assert sec1[:9] == [
        "Security",
        "sec1",
        question.title,
        "Medium risk",
        "In progress",
        "carol",
        (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "Yes",
        "; ".join(missing.order_by("order").values_list("title", flat=True)),
    ]
    assert sec1[9] == "; ".join(dict.fromkeys(c.improvement_plan_url for c in missing))
    assert sec1[10] == "'-Mallory's idea, with a comma\nand a second line"
    assert rows[0][3:8] == ["High risk", "Not started", "", rows[0][6], "No"]


def test_the_plan_csv_leaves_out_links_that_are_not_http(client, alice, workload):
    tick(workload, alice, "sec1", "sec1_no")
    answer_of(workload, "sec1").question.choices.update(improvement_plan_url="javascript:alert(1)")
    client.force_login(alice)

    [_, sec1] = rows_of(client.get(csv_url("improvement_csv", workload)))

    assert sec1[9] == ""


def test_the_plan_csv_takes_the_filters_of_the_page(client, alice, workload):
    tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    tick(workload, alice, "rel1", "rel1_no")
    client.force_login(alice)

    rows = rows_of(client.get(csv_url("improvement_csv", workload, risk="MEDIUM")))

    assert [row[1] for row in rows[1:]] == ["sec1"]


def test_the_plan_csv_of_a_review_without_risks_has_only_the_header(client, alice, workload):
    client.force_login(alice)

    assert len(rows_of(client.get(csv_url("improvement_csv", workload)))) == 1


def test_the_plan_csv_takes_the_same_number_of_queries_however_long(
    client, alice, workload, django_assert_max_num_queries
):
    client.force_login(alice)
    tick(workload, alice, "sec1", "sec1_no")
    with django_assert_max_num_queries(PLAN_QUERIES):
        client.get(csv_url("improvement_csv", workload))
    for question_id in ("ops1", "ops2", "sec2", "rel1", "rel2", "perf1", "cost1", "sus1"):
        tick(workload, alice, question_id, f"{question_id}_no")

    with django_assert_max_num_queries(PLAN_QUERIES):
        response = client.get(csv_url("improvement_csv", workload))
    assert len(rows_of(response)) == 10


def test_the_plan_csv_requires_login(client, workload):
    response = client.get(csv_url("improvement_csv", workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_plan_csv_is_hidden_from_users_without_access(client, mallory, admin_user, workload):
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(csv_url("improvement_csv", workload)).status_code == 404


def test_the_plan_csv_rejects_post(client, alice, workload):
    client.force_login(alice)

    assert client.post(csv_url("improvement_csv", workload)).status_code == 405
