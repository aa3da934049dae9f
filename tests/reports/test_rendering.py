"""The PDF reports as a reader sees them: read back with pypdf."""

import gc
import io
import re

import pytest
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from pypdf import PdfReader
from weasyprint import HTML

from lenses.models import Pillar
from lenses.services import lens_import, lens_version_publish
from reviews.milestones import milestone_create
from reviews.models import Answer, Branding, Report
from reviews.reports.rendering import (
    consolidated_context,
    lens_review_context,
    logo_data_uri,
    render_pdf_string,
)
from reviews.reports.services import report_build, report_request
from reviews.services import answer_notes_update, workload_add_lens, workload_create
from tests.factories import lens_bytes, lens_document
from tests.reports.conftest import NOTE, answer_everything, image_bytes, pdf_text
from tests.reports.test_consolidated import import_security_lens

HOSTILE = "<b>Bold</b> & <script>x</script>"


def build(report: Report) -> bytes:
    done = report_build(report_id=report.pk)
    assert done.status == Report.Status.DONE, done.error
    with done.file.open("rb") as file:
        return file.read()


def lens_report(user, workload, lens, **extra) -> Report:
    return report_request(
        user=user, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=lens, **extra
    )


def test_the_lens_review_report_has_every_part(workload, lens, alice, builtin_lens):
    answer_everything(workload, alice)

    data = build(lens_report(alice, workload, lens))

    reader = PdfReader(io.BytesIO(data))
    text = pdf_text(data)
    # cover
    cover = reader.pages[0].extract_text()
    assert "Payments API" in cover
    assert f"Well-Architected Framework, version {builtin_lens.version}" in cover
    assert "Current state" in cover
    assert "Alice Archer" in cover  # the review owner
    # contents with page numbers, summary, plan, every pillar and question
    contents = reader.pages[1].extract_text()
    assert re.search(r"Summary[ .]+3\b", contents), contents
    assert re.search(r"Improvement plan[ .]+\d+", contents)
    for pillar in Pillar.objects.filter(lens_version=builtin_lens):
        assert pillar.name in text
        assert re.search(rf"{re.escape(pillar.name)}[ .]+\d+", contents)
    assert "High and medium risks per pillar" in text  # the chart
    assert "High risk" in text and "Medium risk" in text and "No risk" in text
    assert f"{NOTE} Question sec1." in text
    assert "No second region in this contract." in text  # a not-applicable choice's note
    assert "Out of scope" in text  # the reason of the question that does not apply
    # header and footer on every page but the cover
    pages = len(reader.pages)
    assert f"Page 2 of {pages}" in contents
    assert "Archlens" in contents
    assert "Page 1 of" not in cover


def test_the_improvement_plan_puts_high_risks_first(workload, lens, alice):
    answer_everything(workload, alice)
    report = lens_report(alice, workload, lens)

    context = lens_review_context(report)

    risks = [entry["question"]["risk"] for entry in context["plan"]]
    assert risks == sorted(risks, key=lambda risk: risk != "HIGH")
    assert risks.count("HIGH") == context["counts"]["high"]


def test_text_people_typed_shows_as_text_not_markup(alice, lens, builtin_lens):
    workload = workload_create(
        owner=alice,
        name=HOSTILE,
        description="Tries <i>markup</i> everywhere.",
        environment="PRODUCTION",
        review_owner="<u>Owner</u>",
    )
    answer = Answer.objects.get(lens_review__workload=workload, question__question_id="sec1")
    answer_notes_update(
        answer=answer, notes='<img src="x" onerror="alert(1)"> & more', base_version=0, user=alice
    )
    report = lens_report(alice, workload, lens)

    html = render_to_string("reports/pdf/lens_review.html", lens_review_context(report))
    assert HOSTILE not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in html
    assert '<img src="x"' not in html

    text = pdf_text(build(report))
    assert HOSTILE in text
    assert '<img src="x" onerror="alert(1)"> & more' in text
    assert "<u>Owner</u>" in text


def test_a_milestone_report_shows_the_frozen_answers(workload, lens, alice):
    answer = Answer.objects.get(lens_review__workload=workload, question__question_id="sec1")
    answer_notes_update(answer=answer, notes="Noted before launch.", base_version=0, user=alice)
    milestone = milestone_create(workload=workload, name="Before launch", user=alice)
    answer.refresh_from_db()
    answer_notes_update(
        answer=answer, notes="Rewritten later.", base_version=answer.notes_version, user=alice
    )

    text = pdf_text(build(lens_report(alice, workload, lens, milestone=milestone)))

    assert "Milestone 1: Before launch" in text
    assert "Noted before launch." in text
    assert "Rewritten later." not in text


def test_branding_shows_on_the_cover_and_in_page_headers(workload, lens, alice):
    branding = Branding(organisation_name="Acme & Co")
    branding.logo.save("logo.png", ContentFile(image_bytes()), save=False)
    branding.save()

    data = build(lens_report(alice, workload, lens, filters={"paper": "LETTER"}))

    reader = PdfReader(io.BytesIO(data))
    assert "ACME & CO" in reader.pages[0].extract_text()  # in capitals on the cover
    assert "Acme & Co" in reader.pages[2].extract_text()
    assert len(reader.pages[0].images) == 1  # the logo on the cover
    assert len(reader.pages[2].images) == 1  # and in the header
    # Letter paper, as asked: 8.5 × 11 in.
    box = reader.pages[0].mediabox
    assert (round(box.width), round(box.height)) == (612, 792)


def test_a4_is_the_default_paper(report):
    reader = PdfReader(io.BytesIO(build(report)))

    box = reader.pages[0].mediabox
    assert (round(box.width), round(box.height)) == (595, 842)


def test_reports_built_one_after_the_other_keep_their_own_paper_and_branding(workload, lens, alice):
    # A worker parses the stylesheet once and shares it: the paper size of one report must
    # not carry over to the next, nor the branding of the time before it was changed.
    Branding(organisation_name="Before & Co").save()
    first = PdfReader(io.BytesIO(build(lens_report(alice, workload, lens))))
    branding = Branding.current()
    branding.organisation_name = "After & Co"
    branding.logo.save("logo.png", ContentFile(image_bytes()), save=False)
    branding.save()

    second = PdfReader(
        io.BytesIO(build(lens_report(alice, workload, lens, filters={"paper": "LETTER"})))
    )
    third = PdfReader(io.BytesIO(build(lens_report(alice, workload, lens))))

    sizes = [
        (round(r.pages[0].mediabox.width), round(r.pages[0].mediabox.height))
        for r in (first, second, third)
    ]
    assert sizes == [(595, 842), (612, 792), (595, 842)]
    assert "Before & Co" in first.pages[2].extract_text()
    assert len(first.pages[0].images) == 0
    for reader in (second, third):
        assert "After & Co" in reader.pages[2].extract_text()
        assert len(reader.pages[0].images) == 1


def test_rendering_turns_the_garbage_collector_off_and_on_again():
    # Off while WeasyPrint runs, where it only slowed it down.
    seen = []
    real_write_pdf = HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return real_write_pdf(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTML, "write_pdf", write_pdf)
        pdf = render_pdf_string("<p>Archlens</p>")

    assert pdf.startswith(b"%PDF")
    assert seen == [False]
    assert gc.isenabled()


def test_rendering_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        render_pdf_string("<p>Archlens</p>")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failed_render_turns_the_collector_back_on(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("layout failed")

    monkeypatch.setattr(HTML, "write_pdf", fail)

    with pytest.raises(RuntimeError):
        render_pdf_string("<p>Archlens</p>")
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (image_bytes("PNG"), "data:image/png;base64,"),
        (image_bytes("JPEG"), "data:image/jpeg;base64,"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", ""),
    ],
)
def test_the_logo_is_embedded_only_as_png_or_jpeg(db, content, expected):
    branding = Branding()
    branding.logo.save("logo.png", ContentFile(content), save=False)

    assert logo_data_uri(branding).startswith(expected)
    assert logo_data_uri(Branding()) == ""


def test_the_consolidated_pdf_covers_the_workloads_of_the_person_asking(
    workload, alice, bob, mallory
):
    answer_everything(workload, alice)
    workload_create(
        owner=mallory,
        name="Mallory's secret",
        description="Not for Alice.",
        environment="PRODUCTION",
        review_owner="Mallory",
    )

    report = report_request(user=alice, kind=Report.Kind.CONSOLIDATED)
    text = pdf_text(build(report))

    assert "Architecture risk across workloads" in text
    assert "Payments API" in text
    assert "Mallory's secret" not in text
    assert "Security" in text and "Most common risks" in text


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_pillars_with_one_question_follow_on_instead_of_each_taking_a_page(workload, alice):
    version = lens_import(raw=lens_bytes(lens_document(pillars=3, questions=1)), user=alice)
    lens = lens_version_publish(lens_version=version, version="1.0").lens
    workload_add_lens(workload=workload, lens=lens)
    answer_everything(workload, alice)

    pages = page_texts(build(lens_report(alice, workload, lens)))

    [questions] = [page for page in pages if "Questions and answers" in page[:200]]
    for n in range(1, 4):
        assert f"Pillar {n}\n" in questions
        assert f"Question p{n}_q1?" in questions
    assert pages[-1] == questions


def test_no_page_of_the_questions_is_left_nearly_empty(workload, lens, alice):
    answer_everything(workload, alice)

    pages = page_texts(build(lens_report(alice, workload, lens)))

    start = next(i for i, page in enumerate(pages) if "Questions and answers" in page[:200])
    # A full page of questions holds 1,100 to 1,700 characters of text; a pillar forced onto a
    # new page used to leave the one before it with a single question (370 to 750).
    short = {
        number: len(page)
        for number, page in enumerate(pages[start:-1], start=start + 1)
        if len(page) < 900
    }
    assert short == {}
    assert len(pages) <= 22


def test_the_consolidated_pdf_charts_each_lens_with_its_full_pillar_names(
    workload, alice, builtin_lens
):
    security_lens = import_security_lens(alice)
    workload_add_lens(workload=workload, lens=security_lens)
    answer_everything(workload, alice)
    Answer.objects.filter(lens_review__lens=security_lens, question__question_id="p1_q1").update(
        risk="HIGH"
    )

    data = build(report_request(user=alice, kind=Report.Kind.CONSOLIDATED))

    pages = page_texts(data)
    [summary] = [page for page in pages if "High and medium risks per pillar" in page]
    assert "…" not in "\n".join(pages)
    builtin = summary.index("High and medium risks per pillar: Well-Architected Framework")
    custom = summary.index("High and medium risks per pillar: Cloud Security Lens")
    assert builtin < custom
    for pillar in Pillar.objects.filter(lens_version=builtin_lens):
        assert pillar.name in summary[builtin:custom]
        assert f"Well-Architected Framework: {pillar.name}" not in summary
    assert "security" in summary[custom:] and "Reliability" in summary[custom:]
    # The most common risks name their lens too.
    common = "\n".join(
        pages[next(i for i, p in enumerate(pages) if p.startswith("Most common risks")) :]
    )
    assert "Lens and pillar" in common
    assert "Cloud Security Lens" in common and "Well-Architected Framework" in common


def test_the_consolidated_cells_of_two_lines_keep_both_lines_without_a_line_break_element(
    workload, alice
):
    answer_everything(workload, alice)
    report = report_request(user=alice, kind=Report.Kind.CONSOLIDATED)
    context = consolidated_context(report)
    html = render_to_string("reports/pdf/consolidated.html", context)

    [matrix] = re.findall(r'<table class="data matrix">.*?</table>', html, re.S)
    assert "<br" not in matrix
    pages = page_texts(build(report))
    [matrix_page] = [page for page in pages if "All workloads" in page]
    security = next(
        p for p in context["lenses"][0]["pillars"] if p["name"] == "Security"
    )  # its cell in the last row, the totals
    assert f"{security['high']} / {security['medium']}\n" in matrix_page
    workloads_page = next(page for page in pages if "Review owner: Alice Archer" in page)
    assert "Payments API\nReview owner: Alice Archer" in workloads_page
