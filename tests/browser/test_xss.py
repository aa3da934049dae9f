"""Script payloads in every text a user or a lens file can write, on every page, in a browser.

Each page is checked three ways: no dialog opened (a payload ran), the browser reported no
Content-Security-Policy violation (a payload was blocked, so it reached the page unescaped),
and the DOM holds no element or link a payload could have made. The payloads must still be
visible as text: escaped, not dropped. Report PDFs show them literally.
"""

import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page

from lenses.models import Choice, Pillar, Question
from lenses.services import lens_import, lens_version_publish
from reviews.milestones import milestone_create
from reviews.models import Answer, ChoiceAnswer, ImprovementItem, LensReview, Reason, Workload
from reviews.services import (
    answer_applicability_update,
    answer_choice_update,
    answer_notes_update,
    lens_review_notes_update,
    pillar_notes_update,
    workload_create,
)
from tests.factories import lens_bytes, lens_document

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
ALIAS = "xss-lens"
# Written by the test before a page polls, so htmx swaps it in.
LIVE_NOTES = 'Live <script>alert(2)</script>"><img src=x onerror=alert(2)>'

# Records violations in the page itself too: the console message is easy to miss.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def payload(label: str) -> str:
    return f"{label} {SCRIPT} {ATTR}"


def evil_lens_document() -> dict:
    document = lens_document(name=payload("Lens"), pillars=2, questions=2, choices=2)
    document["description"] = payload("Lens description")
    for pillar in document["pillars"]:
        pillar["name"] = payload(f"Pillar {pillar['id']}")
        for question in pillar["questions"]:
            question["title"] = payload(f"Question {question['id']}")
            question["description"] = payload(f"Question text {question['id']}")
            question["helpfulResource"]["displayText"] = payload("Helpful resource")
            for choice in question["choices"]:
                choice["title"] = payload(f"Choice {choice['id']}")
                if "helpfulResource" in choice:
                    choice["helpfulResource"]["displayText"] = payload("Why it matters")
                    choice["improvementPlan"]["displayText"] = payload("Improvement plan")
    return document


@pytest.fixture
def evil_workload(alice, builtin_lens) -> Workload:
    """Payloads in every field of a workload, its reviews of an evil lens, notes and items."""
    version = lens_import(raw=lens_bytes(evil_lens_document()), user=alice, alias=ALIAS)
    lens_version_publish(lens_version=version, version="1.0")
    # Lens files with such links are refused on import; older data or the admin could hold
    # them, and the templates must not turn them into links.
    Question.objects.filter(lens_version=version).update(helpful_resource_url=JS_URL)
    Choice.objects.filter(question__lens_version=version).update(
        helpful_resource_url=JS_URL, improvement_plan_url=JS_URL
    )

    workload = workload_create(
        owner=alice,
        lenses=[version.lens],
        name=payload("W"),
        description=payload("Description"),
        environment=Workload.Environment.PRODUCTION,
        regions=[payload("Region"), "eu-west-1"],
        review_owner=payload("Owner"),
        industry_type=Workload.IndustryType.OTHER,
        industry=payload("Industry"),
        notes=payload("Workload notes"),
        tags={SCRIPT: ATTR, "team": payload("Tag")},
    )
    # The form and the model refuse such a link too; the template is the last line.
    Workload.objects.filter(pk=workload.pk).update(architectural_design_url=JS_URL)
    review = LensReview.objects.get(workload=workload, lens=version.lens)
    lens_review_notes_update(
        lens_review=review, notes=payload("Lens notes"), base_version=0, user=alice
    )
    pillar = Pillar.objects.get(lens_version=version, pillar_id="pillar1")
    pillar_notes_update(
        lens_review=review,
        pillar_pk=pillar.pk,
        notes=payload("Pillar notes"),
        base_version=0,
        user=alice,
    )

    def answer(question_id: str) -> Answer:
        return Answer.objects.get(lens_review=review, question__question_id=question_id)

    # p1_q1: "None of these", so it is high risk and has an improvement item.
    answer_choice_update(
        answer=answer("p1_q1"), choice_id="p1_q1_no", status="SELECTED", user=alice
    )
    answer_notes_update(
        answer=answer("p1_q1"), notes=payload("Question notes"), base_version=0, user=alice
    )
    # p1_q2: one choice not applicable, with a reason and notes.
    answer_choice_update(
        answer=answer("p1_q2"),
        choice_id="p1_q2_c1",
        status=ChoiceAnswer.Status.NOT_APPLICABLE,
        reason=Reason.OTHER,
        notes=payload("Choice N/A notes"),
        user=alice,
    )
    answer_applicability_update(
        answer=answer("p2_q1"), is_applicable=False, reason=Reason.OTHER, user=alice
    )
    item = ImprovementItem.objects.get(answer=answer("p1_q1"))
    item.comment = payload("Improvement comment")
    item.due_date = date(2020, 1, 1)
    item.save()

    milestone_create(workload=workload, name=payload("Milestone"), user=alice)
    # A change after the milestone, so the comparison has something to show.
    answer_choice_update(
        answer=answer("p2_q2"), choice_id="p2_q2_c1", status="SELECTED", user=alice
    )
    return workload


def page_urls(workload: Workload) -> Iterator[tuple[str, bool]]:
    """Every page (and whether it shows a payload); names that do not exist are skipped."""
    version = workload.lens_reviews.get(lens__alias=ALIAS).lens_version
    w = {"public_id": workload.public_id}
    lens = {**w, "alias": ALIAS}
    milestone = {**lens, "number": 1}
    item_id = ImprovementItem.objects.get(
        answer__lens_review__workload=workload, answer__question__question_id="p1_q1"
    ).pk
    pages = [
        ("reviews:workload_list", {}),
        ("reviews:workload_detail", w),
        ("reviews:workload_edit", w),
        ("reviews:workload_delete", w),
        ("reviews:sharing", w),
        ("reviews:milestones", w),
        ("reviews:compare", w),
        ("reviews:overview", lens),
        ("reviews:pillar", {**lens, "pillar_id": "pillar1"}),
        ("reviews:question", {**lens, "question_id": "p1_q1"}),
        ("reviews:question", {**lens, "question_id": "p1_q2"}),
        ("reviews:question", {**lens, "question_id": "p2_q1"}),
        ("reviews:improvement_plan", lens),
        # The item's edit page (where "Edit" leads without JavaScript).
        ("reviews:improvement_update", {**lens, "item_id": item_id}),
        ("reviews:milestone_overview", milestone),
        ("reviews:milestone_pillar", {**milestone, "pillar_id": "pillar1"}),
        ("reviews:milestone_question", {**milestone, "question_id": "p1_q1"}),
        ("reviews:milestone_question", {**milestone, "question_id": "p1_q2"}),
        ("reviews:milestone_improvements", milestone),
        ("reviews:dashboard", {}),
        ("reviews:reports", w),
        ("reviews:consolidated_reports", {}, False),  # lists reports; there are none
        ("lenses:catalogue", {}),
        ("lenses:lens", {"alias": ALIAS}),
        ("lenses:version", {"alias": ALIAS, "pk": version.pk}),
    ]
    for name, kwargs, *shows in pages:
        try:
            yield reverse(name, kwargs=kwargs), shows != [False]
        except NoReverseMatch:
            continue
    # Filters are echoed back into the page.
    yield reverse("reviews:workload_list") + f"?tag={SCRIPT}%22%3E%3Cimg%20src%3Dx%3E", True


class Watch:
    """What a page did that it should not: dialogs, CSP violations, injected elements."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)
        page.context.add_init_script(CSP_LISTENER)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{self.page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    def problems(self) -> list[str]:
        page = self.page
        found = [f"{page.url}: CSP {v}" for v in page.evaluate("window.__cspViolations || []")]
        injected = {
            "inline script": "script:not([src])",
            "payload image": "img[src='x']",
            "event handler": "[onerror], [onload], [onclick]",
            "javascript: link": "a[href^='javascript:' i], [src^='javascript:' i]",
        }
        for what, selector in injected.items():
            if count := page.locator(selector).count():
                found.append(f"{page.url}: {count} × {what}")
        return found


def test_no_payload_runs_on_any_page(workshop, alice, evil_workload):
    page = workshop.join(alice)
    watch = Watch(page)
    problems: list[str] = []

    for url, shows_payload in page_urls(evil_workload):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("networkidle")
        problems += watch.problems()
        # Escaped, not dropped: the payload is on the page as text (or in a form field).
        text = page.inner_text("main") + " ".join(
            page.locator("input, textarea").evaluate_all("els => els.map(e => e.value)")
        )
        if shows_payload and "alert(1)" not in text:
            problems.append(f"{url}: no payload shown")

    assert watch.dialogs == []
    assert problems == []
    assert workshop.errors == []


def test_notes_swapped_in_by_polling_do_not_run(workshop, alice, evil_workload):
    review = evil_workload.lens_reviews.get(lens__alias=ALIAS)
    url = reverse("reviews:question", args=[evil_workload.public_id, ALIAS, "p1_q2"])
    page = workshop.join(alice, url)
    watch = Watch(page)
    page.reload()

    answer = Answer.objects.get(lens_review=review, question__question_id="p1_q2")
    answer_notes_update(
        answer=answer, notes=LIVE_NOTES, base_version=answer.notes_version, user=alice
    )

    # The page polls every 2 s and swaps the notes editor in out of band.
    page.wait_for_function(
        "text => [...document.querySelectorAll('textarea')].some(t => t.value === text)",
        arg=LIVE_NOTES,
        timeout=8_000,
    )
    assert watch.dialogs == []
    assert watch.problems() == []
    assert workshop.errors == []


def pdf_text(content: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "".join(page.extract_text() or "" for page in reader.pages)


def squeeze(text: str) -> str:
    # PDF text comes back with line breaks where the layout wrapped it.
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("kind", ["LENS_REVIEW", "CONSOLIDATED"])
def test_reports_show_the_payloads_as_text(
    workshop, alice, evil_workload, kind, settings, tmp_path, monkeypatch
):
    try:
        from reviews.reports import services as reports
    except ImportError:
        pytest.skip("no reports yet")
    names = {  # the report's page and its download
        "LENS_REVIEW": ("reviews:report", "reviews:report_download"),
        "CONSOLIDATED": ("reviews:consolidated_report", "reviews:consolidated_download"),
    }
    show, download_name = names[kind]
    settings.MEDIA_ROOT = tmp_path
    # Built here, in the test, instead of by a worker.
    monkeypatch.setattr(reports, "report_enqueue", lambda report: True)
    lens = evil_workload.lens_reviews.get(lens__alias=ALIAS).lens
    scope = {"workload": evil_workload, "lens": lens} if kind == "LENS_REVIEW" else {}
    report = reports.report_request(user=alice, kind=kind, **scope)
    report = reports.report_build(report_id=report.pk)
    assert report.status == "DONE", report.error
    args = [evil_workload.public_id, report.pk] if kind == "LENS_REVIEW" else [report.pk]

    page = workshop.join(alice)
    watch = Watch(page)
    response = page.goto(reverse(show, args=args))
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")
    assert watch.problems() == []
    download = page.request.get(reverse(download_name, args=args))
    assert download.status == 200

    text = squeeze(pdf_text(download.body()))
    assert squeeze(payload("W")) in text
    if kind == "LENS_REVIEW":
        assert squeeze(payload("Question p1_q1")) in text
    assert watch.dialogs == []
    assert workshop.errors == []
