"""Every report URL with every persona, in the manner of tests/test_access.py.

Lens review reports: every member of the workload (read-only too) may ask for, read, download
and retry them; anyone else gets 404. Consolidated reports: anyone logged in asks for their
own; only the person who asked sees one (404 otherwise). Branding: staff only (403).
"""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, get_resolver, reverse

from reviews.models import Report
from reviews.reports.services import report_request
from tests.personas import more_personas

RULES = {
    "reviews:reports": (("GET", "read"), ("POST", "read")),
    "reviews:report": (("GET", "read"),),
    "reviews:report_download": (("GET", "read"),),
    "reviews:report_retry": (("POST", "read"),),
    "reviews:consolidated_reports": (("GET", "user"), ("POST", "user")),
    "reviews:consolidated_report": (("GET", "requester"),),
    "reviews:consolidated_download": (("GET", "requester"),),
    "reviews:consolidated_retry": (("POST", "requester"),),
    "reviews:branding": (("GET", "staff"), ("POST", "staff")),
}
# tests.personas: tina and rita read through a team, vera as a portfolio viewer; dora is
# deactivated and sent to log in like an anonymous visitor.
ALLOWED = {
    "user": {"mallory", "sam", "vera", "rita", "carol", "tina", "bob", "alice"},
    "staff": {"sam"},
    "read": {"vera", "rita", "carol", "tina", "bob", "alice"},
    "requester": {"alice"},
}


def test_every_report_url_is_classified():
    names = {
        f"reviews:{entry.name}"
        for entry in get_resolver("reviews.urls").url_patterns
        if isinstance(entry, URLPattern) and entry.name
    }
    ours = {n for n in names if n.startswith(("reviews:report", "reviews:consolidated"))}
    assert ours | {"reviews:branding"} == set(RULES)
    assert "reviews:branding" in names


def done(report: Report) -> Report:
    report.file.save(f"r{report.pk}.pdf", ContentFile(b"%PDF-1.7"), save=False)
    report.status = Report.Status.DONE
    report.save()
    return report


def url_for(name, workload, lens_report, consolidated):
    if name in ("reviews:reports",):
        return reverse(name, args=[workload.public_id])
    if name.startswith("reviews:report"):
        return reverse(name, args=[workload.public_id, lens_report.pk])
    if name == "reviews:consolidated_reports" or name == "reviews:branding":
        return reverse(name)
    return reverse(name, args=[consolidated.pk])


@pytest.mark.parametrize(
    ("name", "method", "rule"),
    [(name, method, rule) for name, rules in sorted(RULES.items()) for method, rule in rules],
)
def test_each_persona_gets_exactly_what_it_may(
    client, name, method, rule, workload, builtin_lens, admin_user, mallory, carol, bob, alice, dora
):
    lens_report = done(
        report_request(
            user=bob, kind=Report.Kind.LENS_REVIEW, workload=workload, lens=builtin_lens.lens
        )
    )
    consolidated = done(report_request(user=alice, kind=Report.Kind.CONSOLIDATED))
    url = url_for(name, workload, lens_report, consolidated)
    send = client.post if method == "POST" else client.get

    client.logout()
    response = send(url)
    assert response.status_code == 302, f"anonymous {method} {url}"
    assert response.url.startswith(reverse("login"))

    more = more_personas(workload, dora)
    visitors = [dora, mallory, admin_user, more["vera"], more["rita"], carol]
    for user in [*visitors, more["tina"], bob, alice]:
        client.force_login(user)
        response = send(url)
        status, who = response.status_code, user.username
        if who in ALLOWED[rule]:
            assert status in (200, 302), f"{who} {method} {url} gave {status}"
            if status == 302:
                assert not response.url.startswith(reverse("login")), f"{who} {method} {url}"
        elif who == "dora":
            assert status == 302, f"{who} {method} {url} gave {status}"
            assert response.url.startswith(reverse("login")), f"{who} {method} {url}"
        elif rule == "staff":
            assert status == 403, f"{who} {method} {url} gave {status}"
        else:
            assert status == 404, f"{who} {method} {url} gave {status}"
