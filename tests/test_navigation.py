"""The main navigation marks exactly one tab, the one the page belongs to."""

import re

import pytest
from django.urls import reverse

from reviews.models import Report


def current_tabs(response) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', response.content.decode(), re.S).group(0)
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', nav)


@pytest.mark.parametrize(
    ("name", "args", "tab"),
    [
        ("reviews:workload_list", [], "Workloads"),
        ("reviews:workload_detail", ["workload"], "Workloads"),
        ("reviews:reports", ["workload"], "Workloads"),
        ("reviews:improvement_plan", ["workload", "wellarchitected"], "Workloads"),
        ("reviews:dashboard", [], "Dashboard"),
        ("lenses:catalogue", [], "Lenses"),
        ("reviews:consolidated_reports", [], "Reports"),
        ("reviews:consolidated_report", ["report"], "Reports"),
        ("reviews:branding", [], "Branding"),
        ("people:people", [], "People"),
        ("people:teams", [], "People"),
    ],
)
def test_each_page_marks_only_its_own_tab(client, admin_user, workload, alice, name, args, tab):
    # Sam (staff) sees every tab, Branding and People too; the workload is shared with him.
    workload.members.create(user=admin_user, role="READONLY")
    report = Report.objects.create(kind=Report.Kind.CONSOLIDATED, requested_by=admin_user)
    values = {"workload": workload.public_id, "report": report.pk}
    client.force_login(admin_user)

    response = client.get(reverse(name, args=[values.get(arg, arg) for arg in args]))

    assert response.status_code == 200
    assert current_tabs(response) == [tab]
