"""The dashboard's cache (reviews.dashboard.slice_stamps): an unchanged portfolio is not counted
again, and every kind of change shows on the next view exactly as a count from scratch."""

import datetime

import pytest
from django.core.cache import cache
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from people.services import team_create, team_member_add, user_viewer_set
from reviews import dashboard
from reviews.counts import counts_repair
from reviews.milestones import milestone_create
from reviews.models import (
    Answer,
    AnswerRisk,
    LensReview,
    PillarCounts,
    PortfolioChange,
    PortfolioStamp,
    Role,
    Workload,
)
from reviews.services import (
    answer_choice_update,
    workload_remove_lens,
    workload_share,
    workload_share_team,
    workload_unshare,
    workload_update,
)
from tests.factories import answers_set_risk
from tests.reviews.test_dashboard import (
    DASHBOARD_CACHED_QUERIES,
    DASHBOARD_QUERIES,
    dashboard_url,
    make_workload,
)
from tests.reviews.test_workloads import LIST_CACHED_QUERIES

SELECTED = "SELECTED"


def shown(response) -> tuple:
    """What the dashboard shows, as plain values."""
    data = response.context["data"]
    return (
        data.summary,
        [(row.name, row.high, row.medium, row.answered, row.score) for row in data.rows],
        [(q.question_id, q.workloads, q.high, q.medium) for q in data.questions],
        [(p.lens, p.pillar_id, p.high, p.medium, p.score) for p in data.pillars],
        data.trend,
        response.context.get("owners"),
        response.context.get("known_tags"),
        response.context.get("lenses"),
    )


def afresh(client, url) -> tuple:
    cache.clear()
    return shown(client.get(url))


def assert_shows_change(client, before: tuple, url=None) -> None:
    """The next view shows what a count from scratch shows, and that is not `before`."""
    url = url or dashboard_url()
    cached = shown(client.get(url))
    assert cached == afresh(client, url)
    assert cached != before


@pytest.fixture(autouse=True, params=[dashboard.SLICE, 1], ids=["one slice", "slices of one"])
def slice_size(request, monkeypatch):
    """Every case once with all the workloads in one slice of the portfolio, once with each in
    a slice of its own (reviews.dashboard._totals), whose counts are cached apart."""
    monkeypatch.setattr(dashboard, "SLICE", request.param)
    return request.param


@pytest.fixture
def counted_slices(monkeypatch):
    """The slices each view counts again, as lists of workload pks."""
    counted = []
    count = dashboard._count_slices

    def spy(*args, **kwargs):
        found, seen = count(*args, **kwargs)
        counted.append(sorted(pk for ids in seen.values() for pk in ids))
        return found, seen

    monkeypatch.setattr(dashboard, "_count_slices", spy)
    return counted


@pytest.fixture
def portfolio(client, alice, bob, workload):
    """Alice sees her Payments API and Bob's Search, both with the same risks."""
    search = make_workload(bob, "Search", tags={"team": "web"})
    workload_share(workload=search, user=alice, role=Role.READONLY)
    for each in (workload, search):
        answers_set_risk(
            Answer.objects.filter(lens_review__workload=each, question__question_id="sec1"),
            AnswerRisk.HIGH,
        )
    client.force_login(alice)
    cache.clear()
    return {"payments": workload, "search": search}


def tick_in_search(portfolio, user) -> None:
    """The tick these tests make: one choice of the Search workload."""
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=portfolio["search"], question__question_id="rel1"
    )
    answer_choice_update(answer=answer, choice_id="rel1_bp1", status=SELECTED, user=user)


def test_an_unchanged_dashboard_is_not_counted_again(
    client, portfolio, django_assert_max_num_queries
):
    first = shown(client.get(dashboard_url()))

    with django_assert_max_num_queries(DASHBOARD_CACHED_QUERIES) as captured:
        again = client.get(dashboard_url())

    assert shown(again) == first
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "reviews_milestone" in sql]
    # The answers are read once, for the improvement items of the workloads on the page.
    assert len([sql for sql in statements if "reviews_answer" in sql]) == 1


def test_a_tick_shows_on_the_next_view(client, alice, portfolio):
    before = shown(client.get(dashboard_url()))
    tick_in_search(portfolio, alice)

    assert_shows_change(client, before)


def test_a_tick_counts_again_only_the_slice_of_its_workload(
    client, alice, portfolio, slice_size, counted_slices
):
    client.get(dashboard_url())
    tick_in_search(portfolio, alice)
    after = shown(client.get(dashboard_url()))

    both = sorted(workload.pk for workload in portfolio.values())
    if slice_size == 1:
        assert counted_slices == [both, [portfolio["search"].pk]]
    else:
        assert counted_slices == [both, both]
    assert after == afresh(client, dashboard_url())


def test_after_a_tick_whom_the_user_may_see_is_not_read_again(
    client, alice, portfolio, django_assert_max_num_queries
):
    client.get(dashboard_url())
    tick_in_search(portfolio, alice)

    with django_assert_max_num_queries(DASHBOARD_QUERIES - 2) as captured:
        after = shown(client.get(dashboard_url()))

    shares = [q["sql"] for q in captured.captured_queries if "reviews_workloadmember" in q["sql"]]
    assert shares == []
    assert after == afresh(client, dashboard_url())


def test_no_statement_of_an_unchanged_view_reads_the_workloads_or_their_reviews(
    client, portfolio, django_assert_max_num_queries
):
    client.get(dashboard_url())

    with django_assert_max_num_queries(DASHBOARD_CACHED_QUERIES) as captured:
        client.get(dashboard_url())

    stamps = captured.captured_queries[2]["sql"]
    assert "reviews_portfoliostamp" in stamps
    assert "reviews_workload" not in stamps and "reviews_lensreview" not in stamps


def test_changes_made_past_the_services_show_too(client, portfolio):
    """The stamps are kept by the database, so an update of the rows themselves (the admin, a
    bulk change, a script) moves them as a service does."""
    before = shown(client.get(dashboard_url()))
    Workload.objects.filter(pk=portfolio["payments"].pk).update(tags={"tier": "2"})
    assert_shows_change(client, before)
    assert "tier=2" in client.get(dashboard_url()).context["known_tags"]

    review = portfolio["search"].lens_reviews.get()
    before = shown(client.get(dashboard_url()))
    PillarCounts.objects.filter(lens_review=review, pillar__pillar_id="security").update(high=9)
    LensReview.objects.filter(pk=review.pk).update(version=F("version") + 1)
    assert_shows_change(client, before)


def test_joining_a_team_that_a_workload_is_shared_with_brings_it_to_the_dashboard(
    client, alice, bob, portfolio
):
    ledger = make_workload(bob, "Ledger")
    finance = team_create(name="Finance", actor=None)
    workload_share_team(workload=ledger, team=finance, role=Role.READONLY)
    before = shown(client.get(dashboard_url()))

    team_member_add(team=finance, user=alice, actor=None)

    assert_shows_change(client, before)
    names = [row.name for row in client.get(dashboard_url()).context["data"].rows]
    assert "Ledger" in names


def test_becoming_a_portfolio_viewer_shows_every_workload(
    client, alice, bob, admin_user, builtin_lens
):
    make_workload(bob, "Ledger")
    client.force_login(alice)
    before = shown(client.get(dashboard_url()))
    assert before[1] == []

    user_viewer_set(user=alice, actor=admin_user, is_viewer=True)

    assert_shows_change(client, before)
    assert [row[0] for row in shown(client.get(dashboard_url()))[1]] == ["Ledger"]


def test_folding_the_changes_leaves_the_stamps_and_the_cache_as_they_were(
    client, alice, portfolio, monkeypatch, counted_slices
):
    monkeypatch.setattr(dashboard, "FOLD_AT", 3)
    assert PortfolioChange.objects.count() >= 3  # the workloads, their reviews and shares
    before = shown(client.get(dashboard_url()))  # counts, then folds what it read
    assert PortfolioChange.objects.count() == 0
    assert PortfolioStamp.objects.exists()

    again = shown(client.get(dashboard_url()))

    assert again == before
    assert len(counted_slices) == 1  # the second view found everything under the same stamps
    tick_in_search(portfolio, alice)
    assert_shows_change(client, before)


def test_an_unchanged_dashboard_counts_no_slice_again(client, portfolio, counted_slices):
    client.get(dashboard_url())
    client.get(dashboard_url())

    assert len(counted_slices) == 1


def test_every_page_shows_the_riskiest_workloads_first_across_slices(client, alice, bob, portfolio):
    third = make_workload(alice, "Analytics")
    answers_set_risk(
        Answer.objects.filter(
            lens_review__workload=third, question__question_id__in=["sec1", "rel1"]
        ),
        AnswerRisk.HIGH,
    )
    visible = {"user": alice, "filters": dashboard.Filters(), "per_page": 1}

    pages = [
        [row.name for row in dashboard.portfolio(page=page, **visible).rows] for page in (1, 2, 3)
    ]
    past_the_end = dashboard.portfolio(page=9, **visible)

    # Two high risks first, then the equals by name.
    assert pages == [["Analytics"], ["Payments API"], ["Search"]]
    assert (past_the_end.page_number, [row.name for row in past_the_end.rows]) == (3, ["Search"])


def test_after_a_tick_the_trend_and_the_owners_and_tags_are_not_read_again(
    client, alice, portfolio, django_assert_max_num_queries
):
    milestone_create(workload=portfolio["payments"], name="Baseline", user=alice)
    client.get(dashboard_url())
    tick_in_search(portfolio, alice)

    with django_assert_max_num_queries(DASHBOARD_QUERIES - 2) as captured:
        after = shown(client.get(dashboard_url()))

    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "reviews_milestone" in sql]
    assert not [sql for sql in statements if 'DISTINCT "reviews_workload"."owner_id"' in sql]
    assert after == afresh(client, dashboard_url())


def test_a_tick_shows_on_the_next_filtered_view_too(client, alice, portfolio):
    url = dashboard_url(question="wellarchitected:sec1")
    before = shown(client.get(url))
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=portfolio["payments"], question__question_id="sec1"
    )

    answer_choice_update(answer=answer, choice_id="sec1_bp1", status=SELECTED, user=alice)

    assert_shows_change(client, before, url)


def test_a_new_milestone_shows_in_the_trend(client, alice, portfolio):
    before = shown(client.get(dashboard_url()))

    milestone_create(workload=portfolio["payments"], name="Baseline", user=alice)

    assert_shows_change(client, before)
    assert client.get(dashboard_url()).context["data"].trend


def test_a_workload_shared_or_unshared_comes_and_goes(client, alice, bob, portfolio):
    before = shown(client.get(dashboard_url()))
    workload_unshare(workload=portfolio["search"], user=alice)
    assert_shows_change(client, before)
    assert [row.name for row in client.get(dashboard_url()).context["data"].rows] == [
        "Payments API"
    ]

    before = shown(client.get(dashboard_url()))
    workload_share(workload=portfolio["search"], user=alice, role=Role.READONLY)
    assert_shows_change(client, before)


def test_a_renamed_workload_takes_its_place_among_equal_risks(client, alice, portfolio):
    before = shown(client.get(dashboard_url()))
    assert [row[0] for row in before[1]] == ["Payments API", "Search"]

    workload_update(workload=portfolio["payments"], user=alice, name="Webshop Payments")

    assert_shows_change(client, before)
    rows = client.get(dashboard_url()).context["data"].rows
    assert [row.name for row in rows] == ["Search", "Webshop Payments"]


def test_edited_tags_show_in_the_filter_choices(client, alice, portfolio):
    before = shown(client.get(dashboard_url()))

    workload_update(workload=portfolio["payments"], user=alice, tags={"team": "payments"})

    assert_shows_change(client, before)
    assert "team=payments" in client.get(dashboard_url()).context["known_tags"]


def test_a_removed_lens_no_longer_counts(client, alice, portfolio, team_lens):
    from reviews.services import workload_add_lens

    workload_add_lens(workload=portfolio["payments"], lens=team_lens)
    before = shown(client.get(dashboard_url()))

    workload_remove_lens(workload=portfolio["payments"], lens=team_lens)

    assert_shows_change(client, before)


def test_repaired_counts_show_on_the_next_view(client, portfolio):
    review = portfolio["search"].lens_reviews.get()
    PillarCounts.objects.filter(lens_review=review, pillar__pillar_id="security").update(high=9)
    broken = afresh(client, dashboard_url())

    counts_repair(review.pk)

    assert_shows_change(client, broken)


def test_the_trend_follows_the_months_of_the_time_zone(client, alice, portfolio, settings):
    """The cached milestones per month are kept apart per time zone."""
    milestone = milestone_create(workload=portfolio["payments"], name="Baseline", user=alice)
    # Half an hour before this month began in UTC: last month in UTC, this month in Berlin.
    now = timezone.now()
    month = datetime.datetime(now.year, now.month, 1, tzinfo=datetime.UTC)
    recorded = month - datetime.timedelta(minutes=30)
    type(milestone).objects.filter(pk=milestone.pk).update(recorded_at=recorded)
    cache.clear()
    utc = client.get(dashboard_url()).context["data"].trend

    settings.TIME_ZONE = "Europe/Berlin"
    berlin = client.get(dashboard_url()).context["data"].trend

    assert utc[0].label == recorded.strftime("%b ’%y")
    assert berlin[0].label == month.strftime("%b ’%y")


def test_an_unchanged_list_reads_its_tag_suggestions_from_the_cache(
    client, portfolio, django_assert_num_queries
):
    first = client.get(reverse("reviews:workload_list")).context["known_tags"]

    with django_assert_num_queries(LIST_CACHED_QUERIES) as captured:
        again = client.get(reverse("reviews:workload_list")).context["known_tags"]

    assert again == first == ["team", "team=web"]
    assert not [q for q in captured.captured_queries if "DISTINCT" in q["sql"]]


def test_new_tags_show_in_the_lists_suggestions_on_the_next_view(client, alice, portfolio):
    client.get(reverse("reviews:workload_list"))

    workload_update(workload=portfolio["payments"], user=alice, tags={"tier": "1"})

    known = client.get(reverse("reviews:workload_list")).context["known_tags"]
    assert known == ["team", "team=web", "tier", "tier=1"]


@pytest.fixture
def team_lens(alice):
    from lenses.services import lens_import, lens_version_publish
    from tests.factories import lens_bytes

    version = lens_import(raw=lens_bytes(name="Team Lens", pillars=2, questions=2), user=alice)
    return lens_version_publish(lens_version=version, version="1.0").lens


def list_names(client, **params) -> list[str]:
    response = client.get(reverse("reviews:workload_list"), params)
    return [workload.name for workload in response.context["workloads"]]


def test_an_unchanged_list_does_not_work_out_again_whom_the_user_may_see(
    client, portfolio, django_assert_num_queries
):
    first = list_names(client)

    with django_assert_num_queries(LIST_CACHED_QUERIES) as captured:
        again = list_names(client)

    assert again == first == ["Payments API", "Search"]
    access = 'IN (SELECT U0."workload_id"'
    assert not [q for q in captured.captured_queries if access in q["sql"]]


def test_the_lists_page_follows_a_new_risk_a_rename_and_a_share_on_the_next_view(
    client, alice, bob, portfolio
):
    assert list_names(client, sort="high") == ["Payments API", "Search"]  # equal: by name

    answers_set_risk(
        Answer.objects.filter(
            lens_review__workload=portfolio["payments"], question__question_id="rel1"
        ),
        AnswerRisk.HIGH,
    )
    assert list_names(client, sort="high") == ["Search", "Payments API"]

    assert list_names(client) == ["Payments API", "Search"]
    workload_update(workload=portfolio["payments"], user=alice, name="Webshop Payments")
    assert list_names(client) == ["Search", "Webshop Payments"]

    workload_unshare(workload=portfolio["search"], user=alice)
    response = client.get(reverse("reviews:workload_list"))
    assert [w.name for w in response.context["workloads"]] == ["Webshop Payments"]
    assert response.context["page"].paginator.count == 1
