"""The dashboard: risk across every workload the user can see, for managers.

One URL serves the whole page or, for htmx, the `results` partial; the filter form is a plain
GET form, so the page works without JavaScript too.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from reviews.charts import risk_bars, trend_lines
from reviews.dashboard import (
    PER_PAGE,
    Filters,
    Portfolio,
    filter_choices,
    lens_choices,
    portfolio,
    team_choices,
)
from reviews.forms import WorkloadFilterForm
from reviews.views.htmx import wants_partial

# A lens alias, a colon and a question id, as in `wellarchitected:sec1`.
QUESTION = re.compile(r"(?P<alias>[a-z0-9][a-z0-9_-]{0,127}):(?P<question_id>[^\s:]{1,128})")


FILTER_KEYS = ("environment", "tag", "owner", "team", "lens", "question")


class DashboardFilterForm(WorkloadFilterForm):
    """The workload list's environment and tag filters, plus owner, lens and risky question."""

    sort = None  # the dashboard always shows the riskiest workloads first
    owner = forms.CharField(required=False, max_length=150)
    # Not a choice field: the choices cost a query the htmx partial does without. A lens that
    # none of the user's workloads reviews simply matches no workload.
    lens = forms.SlugField(required=False, max_length=128)
    question = forms.CharField(required=False, max_length=257)

    def filters(self) -> Filters:
        match = QUESTION.fullmatch(self.value("question").strip())
        return Filters(
            environment=self.value("environment"),
            tag=self.tag_filter(),
            owner=self.value("owner").strip(),
            question=(match["alias"], match["question_id"]) if match else None,
            lens=self.value("lens"),
            team=self.value("team").strip(),
        )

    def params(self, **changes: Any) -> str:
        """The current filters as a query string, with `changes` applied (None drops a key)."""
        values = {key: self.value(key) for key in FILTER_KEYS}
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})


def _page_number(value: Any) -> int:
    """The page asked for; anything but a positive number is the first page."""
    text = str(value or "")
    return int(text) if text.isdigit() and int(text) > 0 else 1


class PortfolioRows:
    """The workloads of one page as the paginator sees them: `count` of them in all, and the
    page's rows wherever the paginator slices (the portfolio read only those)."""

    def __init__(self, data: Portfolio):
        self.rows = data.rows
        self.total = data.summary.workloads

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index: slice) -> list:
        return self.rows


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET)
    filters = form.filters()
    data = portfolio(request.user, filters, page=_page_number(form.value("page")))
    page = Paginator(PortfolioRows(data), PER_PAGE).get_page(data.page_number)
    base = reverse("reviews:dashboard")
    for question in data.questions:
        question.url = f"{base}?{form.params(question=question.filter_value)}"
    context = {
        "form": form,
        "filters": filters,
        "data": data,
        "page": page,
        "page_url": f"{base}?{form.params()}{'&' if form.params() else ''}page=",
        "clear_question_url": f"{base}?{form.params(question=None)}",
        "pillar_charts": [
            (lens, risk_bars(lens.bars, title=f"High and medium risks per pillar of {lens.name}"))
            for lens in data.lenses
        ],
        "trend_chart": trend_lines(data.trend, title="High and medium risks over time")
        if data.trend
        else "",
    }
    if wants_partial(request):
        return render(request, "reviews/dashboard.html#results", context)
    context["owners"], context["known_tags"] = filter_choices(request.user, known=data.stamp)
    context["lenses"] = lens_choices(request.user, reviewed=data.lenses_reviewed)
    context["teams"] = team_choices()
    return render(request, "reviews/dashboard.html", context)
