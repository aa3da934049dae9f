import io, time
from PIL import Image, ImageDraw
from django.core.files.base import ContentFile
from reviews.milestones import milestone_create
from reviews.models import Branding, Report, Workload
from reviews.reports.services import report_build, report_request
from reviews.services import workload_create
from tests.reports.conftest import answer_everything


def logo_png():
    im = Image.new("RGB", (240, 80), "#0b5")
    d = ImageDraw.Draw(im)
    d.rectangle([10, 10, 70, 70], fill="#fff")
    d.text((90, 30), "ACME", fill="#fff")
    buf = io.BytesIO(); im.save(buf, "PNG"); return buf.getvalue()


def test_scratch(workload, lens, alice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    b = Branding(organisation_name="Acme Corporation")
    b.logo.save("logo.png", ContentFile(logo_png()), save=False); b.save()
    milestone_create(workload=workload, name="Baseline", user=alice)
    answer_everything(workload, alice)
    ms = milestone_create(workload=workload, name="After workshop", user=alice)
    r = report_request(user=alice, kind="LENS_REVIEW", workload=workload, lens=lens)
    t = time.time()
    done = report_build(report_id=r.pk)
    print("build", time.time() - t)
    assert done.status == Report.Status.DONE, done.error
    open("/tmp/rep/lens.pdf", "wb").write(done.file.read())
    r = report_request(user=alice, kind="LENS_REVIEW", workload=workload, lens=lens, milestone=ms, filters={"paper": "LETTER"})
    done = report_build(report_id=r.pk)
    assert done.status == Report.Status.DONE, done.error
    open("/tmp/rep/ms.pdf", "wb").write(done.file.read())
    from django.template.loader import render_to_string
    from reviews.reports.rendering import lens_review_context, consolidated_context
    open("/tmp/rep/ms.html", "w").write(render_to_string("reports/pdf/lens_review.html", lens_review_context(done)))
    for i in range(12):
        w = workload_create(owner=alice, name=f"Service {i:02d} with a longer name", description="x" * 10, environment="PRODUCTION" if i % 2 else "PREPRODUCTION", review_owner="Bob")
        if i % 3 == 0:
            answer_everything(w, alice)
    r = report_request(user=alice, kind="CONSOLIDATED", format="PDF")
    t = time.time()
    done = report_build(report_id=r.pk)
    print("consolidated", time.time() - t)
    assert done.status == Report.Status.DONE, done.error
    open("/tmp/rep/cons.pdf", "wb").write(done.file.read())
    open("/tmp/rep/cons.html", "w").write(render_to_string("reports/pdf/consolidated.html", consolidated_context(done)))
    r = report_request(user=alice, kind="CONSOLIDATED", format="JSON")
    done = report_build(report_id=r.pk)
    open("/tmp/rep/cons.json", "wb").write(done.file.read())
