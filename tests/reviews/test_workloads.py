"""Workload pages: list, create, edit, delete and detail."""

import re

import pytest
from django.urls import reverse

from lenses.services import lens_import, lens_version_publish
from reviews.models import (
    Answer,
    AnswerRisk,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    Role,
    Workload,
    WorkloadMember,
)
from reviews.services import (
    answer_choice_update,
    workload_add_lens,
    workload_create,
    workload_remove_lens,
    workload_share,
)
from reviews.views.workloads import PER_PAGE
from tests.factories import answers_set_risk, lens_bytes

HTMX = {"HTTP_HX_REQUEST": "true"}
PILLARS = [
    "operationalExcellence",
    "security",
    "reliability",
    "performance",
    "costOptimization",
    "sustainability",
]
# session, user, the portfolio's stamps (reviews.dashboard.slice_stamps), how many workloads
# match and the ids on the page (both cached under the stamps: reviews.dashboard.cached), the
# page's workloads with the user's role, their kept counts and their improvement items, the tag
# suggestions (cached too) and team names. The htmx rows go without the last two; a view the
# cache holds without counting and without the page's ids (nor the suggestions).
LIST_QUERIES = 10
LIST_PARTIAL_QUERIES = LIST_QUERIES - 2
LIST_CACHED_QUERIES = LIST_QUERIES - 3
LIST_CACHED_PARTIAL_QUERIES = LIST_CACHED_QUERIES - 1


def make_workload(owner, name, **fields):
    values = {
        "description": f"About {name}.",
        "environment": Workload.Environment.PRODUCTION,
        "review_owner": "Someone",
        **fields,
    }
    return workload_create(owner=owner, name=name, **values)


def form_data(**overrides):
    data = {
        "name": "Checkout",
        "description": "Takes the orders of the web shop.",
        "environment": "PRODUCTION",
        "regions": "eu-west-1\neu-central-1, us-east-1",
        "review_owner": "Olga Owner",
        "architectural_design_url": "https://wiki.example.com/checkout",
        "industry_type": "Retail",
        "industry": "Online retail",
        "notes": "First review before the sale.",
        "tags": "team=shop\ncost-centre = 42\n",
    }
    data["pillar_priorities"] = PILLARS
    data.update(overrides)
    return data


def url(name, workload=None):
    return reverse(f"reviews:{name}", args=[workload.public_id] if workload else [])


def answer_sec1(workload, user, choice_id="sec1_bp1"):
    answer = Answer.objects.get(lens_review__workload=workload, question__question_id="sec1")
    return answer_choice_update(answer=answer, choice_id=choice_id, status="SELECTED", user=user)


def sec1_best_practices(workload):
    answer = Answer.objects.get(lens_review__workload=workload, question__question_id="sec1")
    return list(answer.question.choices.filter(is_none=False).values_list("choice_id", flat=True))


@pytest.fixture
def team_lens(admin_user):
    version = lens_import(raw=lens_bytes(name="Team Lens"), user=admin_user)
    return lens_version_publish(lens_version=version, version="1.0").lens


# -- list ----------------------------------------------------------------------------------------


def test_the_list_requires_login(client, workload):
    response = client.get(url("workload_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_list_shows_the_workload_with_owner_environment_and_counts(client, alice, workload):
    answer_sec1(workload, alice, sec1_best_practices(workload)[-1])
    client.force_login(alice)

    response = client.get(url("workload_list"))

    body = response.content.decode()
    assert response.status_code == 200
    [row] = response.context["workloads"]
    total = Answer.objects.filter(lens_review__workload=workload).count()
    assert (row.answered, row.total, row.high, row.medium) == (1, total, 1, 0)
    assert row.last_updated >= workload.updated_at
    assert f'id="workload-{workload.public_id}"' in body
    assert "Payments API" in body and "alice" in body and "Production" in body
    assert f"1&thinsp;/&thinsp;{total}" in body
    assert "1 high" in body


def test_the_list_shows_workloads_shared_with_the_user_and_their_role(client, carol, workload):
    client.force_login(carol)

    response = client.get(url("workload_list"))

    assert [w.name for w in response.context["workloads"]] == ["Payments API"]
    assert "Read-only" in response.content.decode()


def test_the_list_hides_workloads_of_others(client, mallory, workload):
    make_workload(mallory, "Mallory's own")
    client.force_login(mallory)

    response = client.get(url("workload_list"))

    assert [w.name for w in response.context["workloads"]] == ["Mallory's own"]
    assert "Payments API" not in response.content.decode()


def test_staff_without_membership_see_nothing_of_alices_workloads(client, admin_user, workload):
    client.force_login(admin_user)

    response = client.get(url("workload_list"))

    assert list(response.context["workloads"]) == []
    assert "Payments API" not in response.content.decode()
    assert client.get(url("workload_detail", workload)).status_code == 404


def test_the_list_counts_only_lenses_the_workload_still_reviews(client, alice, workload, team_lens):
    review = workload_add_lens(workload=workload, lens=team_lens)
    builtin_total = Answer.objects.filter(lens_review__workload=workload).count() - 4
    LensReview.objects.filter(pk=review.pk).update(is_active=False)
    client.force_login(alice)

    [row] = client.get(url("workload_list")).context["workloads"]

    assert row.total == builtin_total


def test_the_list_filters_by_environment(client, alice, workload):
    make_workload(alice, "Staging shop", environment=Workload.Environment.PREPRODUCTION)
    client.force_login(alice)

    response = client.get(url("workload_list"), {"environment": "PREPRODUCTION"})

    assert [w.name for w in response.context["workloads"]] == ["Staging shop"]


def test_the_list_filters_by_tag_key_or_key_and_value(client, alice, workload):
    make_workload(alice, "Shop front", tags={"team": "shop", "tier": "1"})
    make_workload(alice, "Shop back", tags={"team": "warehouse"})
    client.force_login(alice)

    def names(tag):
        response = client.get(url("workload_list"), {"tag": tag})
        return [w.name for w in response.context["workloads"]]

    assert names("team") == ["Shop back", "Shop front"]
    assert names("team=shop") == ["Shop front"]
    assert names(" team = warehouse ") == ["Shop back"]
    assert names("team=nobody") == []
    assert names('we"ird.key__x=1') == []


def test_the_list_suggests_tags_in_use(client, alice, workload):
    make_workload(alice, "Shop front", tags={"team": "shop"})
    client.force_login(alice)

    response = client.get(url("workload_list"))

    assert response.context["known_tags"] == ["team", "team=shop"]


def test_the_list_says_when_no_workload_matches_the_filters(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_list"), {"environment": "PREPRODUCTION"})

    assert "No workload matches these filters" in response.content.decode()


def test_the_list_sorts_by_name_and_by_risks(client, alice, workload):
    risky = make_workload(alice, "a risky one")
    answer_sec1(risky, alice, sec1_best_practices(risky)[-1])
    make_workload(alice, "Zebra")
    client.force_login(alice)

    def names(sort):
        response = client.get(url("workload_list"), {"sort": sort})
        return [w.name for w in response.context["workloads"]]

    assert names("name") == ["a risky one", "Payments API", "Zebra"]
    assert names("-name") == ["Zebra", "Payments API", "a risky one"]
    assert names("-high")[0] == "a risky one"
    assert names("high")[-1] == "a risky one"
    assert names("nonsense") == ["a risky one", "Payments API", "Zebra"]


def test_the_sort_links_keep_the_filters_and_flip_the_direction(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_list"), {"environment": "PRODUCTION", "sort": "name"})

    columns = {column["key"]: column for column in response.context["columns"]}
    assert columns["name"]["url"].endswith("?environment=PRODUCTION&sort=-name")
    assert columns["name"]["sorted"] == "ascending"
    assert columns["high"]["url"].endswith("?environment=PRODUCTION&sort=-high")
    assert columns["improvement"]["url"] is None


def make_risky(workload, user, question_id="sec1", status=None):
    """Answer "none of these" (high risk, so an item opens); optionally set the item's status."""
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id=question_id
    )
    answer_choice_update(answer=answer, choice_id=f"{question_id}_no", status="SELECTED", user=user)
    if status:
        ImprovementItem.objects.filter(answer=answer).update(status=status)
    return answer


def test_the_list_shows_each_workloads_improvement_status(client, alice, workload, team_lens):
    not_started = make_workload(alice, "B not started")
    make_risky(not_started, alice)
    in_progress = make_workload(alice, "C in progress")
    make_risky(in_progress, alice, status=ImprovementStatus.IN_PROGRESS)
    mixed = make_workload(alice, "D mixed")
    make_risky(mixed, alice, "sec1")
    make_risky(mixed, alice, "rel1", status=ImprovementStatus.COMPLETE)
    acknowledged = make_workload(alice, "E acknowledged")
    make_risky(acknowledged, alice, status=ImprovementStatus.RISK_ACKNOWLEDGED)
    fixed = make_workload(alice, "F fixed")
    answer = make_risky(fixed, alice)
    for choice_id in sec1_best_practices(fixed):
        answer, _ = answer_choice_update(
            answer=answer, choice_id=choice_id, status="SELECTED", user=alice
        )
    assert not ImprovementItem.objects.get(answer=answer).is_open
    removed = make_workload(alice, "G removed lens")
    workload_add_lens(workload=removed, lens=team_lens)
    make_risky(removed, alice, "p1_q1")
    workload_remove_lens(workload=removed, lens=team_lens)
    client.force_login(alice)

    response = client.get(url("workload_list"))

    statuses = {w.name: w.improvement for w in response.context["workloads"]}
    assert statuses == {
        "Payments API": "NONE",
        "B not started": "NOT_STARTED",
        "C in progress": "IN_PROGRESS",
        "D mixed": "IN_PROGRESS",
        "E acknowledged": "RISK_ACKNOWLEDGED",
        "F fixed": "COMPLETE",
        "G removed lens": "NONE",
    }
    body = response.content.decode()
    row = body[body.index(f'id="workload-{mixed.public_id}"') :]
    assert '<span class="badge improvement-IN_PROGRESS">In progress</span>' in row[:3000]
    row = body[body.index(f'id="workload-{workload.public_id}"') :]
    assert row.index('<span class="muted">None</span>') < row.index("</tr>")
    assert "Improvement tracking is not available yet" not in body


def test_the_list_takes_the_same_number_of_queries_for_many_workloads(
    client,
    alice,
    bob,
    workload,
    team_lens,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    client.force_login(alice)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(url("workload_list"))
    assert len(response.context["workloads"]) == 1

    for n in range(6):
        other = make_workload(alice, f"Workload {n}", tags={"n": str(n)})
        workload_add_lens(workload=other, lens=team_lens)
        workload_share(workload=other, user=bob, role=Role.READONLY)
        for choice_id in sec1_best_practices(other)[: n + 1]:
            answer_sec1(other, alice, choice_id)
    shared = make_workload(bob, "Bob's", tags={"team": "b"})
    workload_share(workload=shared, user=alice, role=Role.CONTRIBUTOR)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(url("workload_list"), {"sort": "-updated"})
    assert len(response.context["workloads"]) == 8
    with django_assert_max_num_queries(LIST_PARTIAL_QUERIES):
        client.get(url("workload_list"), {"tag": "n"}, **HTMX)


def test_an_empty_list_takes_no_queries_for_workloads_or_counts(
    client, mallory, django_assert_max_num_queries
):
    client.force_login(mallory)

    with django_assert_max_num_queries(LIST_QUERIES - 3):
        response = client.get(url("workload_list"))

    assert "No workloads yet" in response.content.decode()


def add_workloads(alice, bob, team_lens, numbers):
    """Workloads "Workload 000"… that Alice sees: some Bob's, some with two lenses, some risky."""
    for n in numbers:
        owner = bob if n % 4 == 0 else alice
        environment = "PREPRODUCTION" if n % 5 == 0 else "PRODUCTION"
        other = make_workload(owner, f"Workload {n:03}", environment=environment, tags={"n": "x"})
        if owner == bob:
            workload_share(workload=other, user=alice, role=Role.READONLY)
        if n % 10 == 0:
            workload_add_lens(workload=other, lens=team_lens)
        if n % 3 == 0:
            answer_sec1(other, owner, sec1_best_practices(other)[-1])


LIST_REQUESTS = [
    {},
    {"sort": "-high"},
    {"sort": "answered"},
    {"sort": "medium"},
    {"sort": "-updated"},
    {"sort": "owner", "tag": "n"},
    {"environment": "PRODUCTION", "sort": "-environment", "page": "2"},
    {"page": "99"},
]


def test_the_list_takes_the_same_queries_for_5_and_for_120_workloads(
    client,
    alice,
    bob,
    builtin_lens,
    team_lens,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    add_workloads(alice, bob, team_lens, range(5))
    client.force_login(alice)
    for params in LIST_REQUESTS:
        with django_assert_max_num_queries(LIST_QUERIES):
            assert client.get(url("workload_list"), params).status_code == 200
        with django_assert_num_queries(LIST_CACHED_PARTIAL_QUERIES):
            client.get(url("workload_list"), params, **HTMX)

    add_workloads(alice, bob, team_lens, range(5, 120))

    for params in LIST_REQUESTS:
        with django_assert_max_num_queries(LIST_QUERIES):
            assert client.get(url("workload_list"), params).status_code == 200
        with django_assert_num_queries(LIST_CACHED_PARTIAL_QUERIES):
            client.get(url("workload_list"), params, **HTMX)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(url("workload_list"), {"page": "2"})
    names = [w.name for w in response.context["workloads"]]
    assert names == [f"Workload {n:03}" for n in range(50, 100)]
    body = response.content.decode()
    assert ">51–100 of 120 workloads.</p>" in body
    [row] = [w for w in response.context["workloads"] if w.name == "Workload 063"]
    total = Answer.objects.filter(lens_review__workload=row, lens_review__is_active=True).count()
    assert (row.answered, row.total, row.high, row.medium) == (1, total, 1, 0)
    assert row.role == Role.OWNER and row.owner == alice
    [row] = [w for w in response.context["workloads"] if w.name == "Workload 052"]
    assert row.role == Role.READONLY and row.owner == bob


def risky_workloads(alice, count):
    """`count` workloads by name; the last three have high risks (the very last two of them)."""
    workloads = [make_workload(alice, f"Workload {n:02}") for n in range(count)]
    for workload in workloads[-3:]:
        answers_set_risk(
            Answer.objects.filter(lens_review__workload=workload, question__question_id="sec1"),
            AnswerRisk.HIGH,
        )
    answers_set_risk(
        Answer.objects.filter(lens_review__workload=workloads[-1], question__question_id="rel1"),
        AnswerRisk.HIGH,
    )
    return workloads


def test_the_second_page_lists_the_next_workloads_in_the_chosen_order(client, alice, builtin_lens):
    risky_workloads(alice, PER_PAGE + 2)
    client.force_login(alice)

    def page(sort, number):
        response = client.get(url("workload_list"), {"sort": sort, "page": number})
        return [(w.name, w.high) for w in response.context["workloads"]]

    riskiest_first = page("-high", 1)
    assert riskiest_first[:4] == [
        ("Workload 51", 2),
        ("Workload 50", 1),
        ("Workload 49", 1),
        ("Workload 48", 0),
    ]
    assert page("-high", 2) == [("Workload 01", 0), ("Workload 00", 0)]
    assert page("high", 2) == [("Workload 50", 1), ("Workload 51", 2)]
    assert page("-name", 2) == [("Workload 01", 0), ("Workload 00", 0)]


def test_the_pager_keeps_the_filters_and_the_sort_order(client, alice, builtin_lens):
    for n in range(PER_PAGE + 1):
        make_workload(alice, f"Workload {n:02}", tags={"team": "shop"})
    make_workload(alice, "Elsewhere")
    client.force_login(alice)

    response = client.get(url("workload_list"), {"tag": "team=shop", "sort": "-name", "page": 2})

    pages = response.context["pages"]
    first = url("workload_list") + "?tag=team%3Dshop&sort=-name&page=1"
    assert pages["previous"] == first
    assert pages["next"] is None
    assert [link["url"] for link in pages["numbers"]] == [first, first[:-1] + "2"]
    body = response.content.decode()
    assert f'href="{first.replace("&", "&amp;")}"' in body
    assert f'hx-get="{first.replace("&", "&amp;")}"' in body
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2</span>' in body
    assert ">51 of 51 workloads matching the filters.</p>" in body
    assert [w.name for w in response.context["workloads"]] == ["Workload 00"]
    # Sorting again starts from the first page.
    columns = {column["key"]: column for column in response.context["columns"]}
    assert columns["name"]["url"].endswith("?tag=team%3Dshop&sort=name")


def test_the_pager_leaves_out_far_away_pages(client, alice, builtin_lens, monkeypatch):
    monkeypatch.setattr("reviews.views.workloads.PER_PAGE", 2)
    for n in range(15):
        make_workload(alice, f"Workload {n:02}")
    client.force_login(alice)

    def numbers(page):
        response = client.get(url("workload_list"), {"page": page})
        return [link["number"] for link in response.context["pages"]["numbers"]]

    assert numbers(1) == [1, 2, 3, None, 8]
    assert numbers(6) == [1, None, 4, 5, 6, 7, 8]
    body = client.get(url("workload_list")).content.decode()
    assert ">1–2 of 15 workloads.</p>" in body
    assert "‹ Previous" not in body and "Next ›" in body
    assert '<span class="pager-gap" aria-hidden="true">…</span>' in body


def test_a_page_past_the_end_shows_the_last_and_a_junk_page_the_first(client, alice, builtin_lens):
    for n in range(PER_PAGE + 1):
        make_workload(alice, f"Workload {n:02}")
    client.force_login(alice)

    def shown(page):
        response = client.get(url("workload_list"), {"page": page})
        assert response.status_code == 200
        return response.context["page"].number, response.context["workloads"][0].name

    assert shown("3") == (2, "Workload 50")
    assert shown("99999999999999999999") == (2, "Workload 50")
    for junk in ("0", "-1", "two", "1.5", ""):
        assert shown(junk) == (1, "Workload 00")


def test_an_htmx_request_for_another_page_gets_the_rows_with_the_pager(client, alice, builtin_lens):
    for n in range(PER_PAGE + 1):
        make_workload(alice, f"Workload {n:02}")
    client.force_login(alice)

    response = client.get(url("workload_list"), {"page": 2}, **HTMX)

    body = response.content.decode()
    assert "<html" not in body and 'name="tag"' not in body
    assert "Workload 50" in body and "Workload 49" not in body
    assert 'aria-label="Workload pages"' in body and "‹ Previous" in body
    assert 'hx-target="#workload-rows"' in body


def test_one_page_of_workloads_has_no_pager(client, alice, workload):
    client.force_login(alice)

    body = client.get(url("workload_list")).content.decode()

    assert ">1 workload.</p>" in body
    assert "Workload pages" not in body


def test_the_list_rejects_post(client, alice):
    client.force_login(alice)

    assert client.post(url("workload_list")).status_code == 405


def test_an_htmx_request_for_the_list_gets_only_the_rows(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_list"), {"sort": "-name"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<table" in body and "Payments API" in body
    assert "<html" not in body and 'name="tag"' not in body


def test_an_htmx_history_restore_gets_the_whole_list_page(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_list"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)

    assert "<html" in response.content.decode()


def test_the_list_and_the_detail_page_escape_the_workload_name(client, alice, builtin_lens):
    workload = make_workload(alice, "<script>alert(1)</script>", tags={"<b>": "<i>"})
    client.force_login(alice)

    for page in (url("workload_list"), url("workload_detail", workload)):
        body = client.get(page).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<b>" not in body


# -- create --------------------------------------------------------------------------------------


def test_create_requires_login(client, builtin_lens):
    response = client.get(url("workload_create"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_create_form_offers_the_pillars_in_lens_order(client, alice, builtin_lens):
    client.force_login(alice)

    response = client.get(url("workload_create"))

    form = response.context["form"]
    assert response.status_code == 200
    body = response.content.decode()
    assert form["pillar_priorities"].value() == PILLARS
    assert 'name="pillar_move" value="operationalExcellence:down"' in body
    assert "<select" not in body.split("Pillar priorities</legend>")[1]


def test_it_creates_a_workload_with_all_fields_and_redirects_to_it(client, alice, builtin_lens):
    client.force_login(alice)
    priorities = [PILLARS[1], PILLARS[0], *PILLARS[2:]]
    data = form_data(pillar_priorities=priorities)

    response = client.post(url("workload_create"), data)

    workload = Workload.objects.get()
    assert response.status_code == 302
    assert response.url == url("workload_detail", workload)
    assert workload.name == "Checkout"
    assert workload.description == "Takes the orders of the web shop."
    assert workload.environment == "PRODUCTION"
    assert workload.regions == ["eu-west-1", "eu-central-1", "us-east-1"]
    assert workload.review_owner == "Olga Owner"
    assert workload.architectural_design_url == "https://wiki.example.com/checkout"
    assert workload.industry_type == "Retail"
    assert workload.industry == "Online retail"
    assert workload.notes == "First review before the sale."
    assert workload.tags == {"team": "shop", "cost-centre": "42"}
    assert workload.pillar_priorities == priorities
    assert workload.owner == alice
    assert WorkloadMember.objects.get(workload=workload).role == Role.OWNER
    assert workload.lens_reviews.get().lens.is_builtin


def test_it_creates_a_workload_with_only_the_required_fields(client, alice, builtin_lens):
    client.force_login(alice)
    data = form_data(
        regions="", architectural_design_url="", industry_type="", industry="", notes="", tags=""
    )

    response = client.post(url("workload_create"), data)

    workload = Workload.objects.get()
    assert response.status_code == 302
    assert (workload.regions, workload.tags, workload.pillar_priorities) == ([], {}, PILLARS)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "ab", "at least 3 characters"),
        ("name", "x" * 101, "at most 100 characters"),
        ("name", "payments  api", "exists already"),
        ("name", "PAYMENTSAPI", "exists already"),
        ("description", "ab", "at least 3 characters"),
        ("description", "x" * 251, "at most 250 characters"),
        ("environment", "", "This field is required."),
        ("environment", "MOON", "Select a valid choice."),
        ("review_owner", "", "This field is required."),
        ("architectural_design_url", "javascript:alert(1)", "Enter a web address (http or https)."),
        ("architectural_design_url", "ftp://example.com/x", "Enter a web address (http or https)."),
        ("architectural_design_url", "not a url", "Enter a web address (http or https)."),
        ("industry_type", "Piracy", "Select a valid choice."),
        ("notes", "x" * 2085, "at most 2084 characters"),
        ("tags", "team", "write a tag as key=value"),
        ("tags", "=shop", "write a tag as key=value"),
        ("tags", "k" * 129 + "=v", "a tag key is at most 128 characters"),
        ("tags", "k=" + "v" * 257, "a tag value is at most 256 characters"),
        ("tags", "team=a\nteam=b", "the key “team” is given twice"),
        ("tags", "\n".join(f"k{n}=v" for n in range(51)), "At most 50 tags (51 given)"),
        ("regions", "\n".join(f"r{n}" for n in range(51)), "At most 50 regions"),
        ("pillar_priorities", [PILLARS[0]] * 6, "must name each pillar once"),
        ("pillar_priorities", ["nonsense", *PILLARS[1:]], "must name each pillar once"),
        ("pillar_priorities", PILLARS[1:], "must name each pillar once"),
    ],
)
def test_an_invalid_workload_is_not_created_and_the_form_says_why(
    client, alice, workload, field, value, message
):
    client.force_login(alice)

    response = client.post(url("workload_create"), form_data(**{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "The workload was not saved" in response.content.decode()
    assert list(Workload.objects.values_list("name", flat=True)) == ["Payments API"]


def test_create_shows_what_was_typed_after_an_error(client, alice, builtin_lens):
    client.force_login(alice)

    response = client.post(url("workload_create"), form_data(name="ab"))

    body = response.content.decode()
    assert "eu-west-1\neu-central-1, us-east-1" in body
    assert "team=shop" in body


def test_create_without_the_builtin_lens_says_so_and_creates_nothing(client, alice):
    client.force_login(alice)

    response = client.post(url("workload_create"), form_data())

    assert response.status_code == 200
    assert "load_builtin_lens" in response.content.decode()
    assert not Workload.objects.exists()


def test_create_rejects_put(client, alice, builtin_lens):
    client.force_login(alice)

    assert client.put(url("workload_create")).status_code == 405


def test_an_htmx_create_with_errors_gets_only_the_form(client, alice, builtin_lens):
    client.force_login(alice)

    response = client.post(url("workload_create"), form_data(name="ab"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="workload-form"')
    assert "at least 3 characters" in body
    assert not Workload.objects.exists()


def test_an_htmx_create_redirects_the_browser_to_the_new_workload(client, alice, builtin_lens):
    client.force_login(alice)

    response = client.post(url("workload_create"), form_data(), **HTMX)

    assert response["HX-Redirect"] == url("workload_detail", Workload.objects.get())


# -- edit ----------------------------------------------------------------------------------------


def test_a_contributor_edits_the_workload_properties(client, bob, workload):
    client.force_login(bob)

    response = client.post(
        url("workload_edit", workload),
        form_data(name="Payments API v2", environment="PREPRODUCTION", tags="team=pay"),
    )

    workload.refresh_from_db()
    assert response.status_code == 302
    assert response.url == url("workload_detail", workload)
    assert workload.name == "Payments API v2"
    assert workload.name_key == "paymentsapiv2"
    assert workload.environment == "PREPRODUCTION"
    assert workload.tags == {"team": "pay"}
    assert workload.owner.username == "alice"


def test_the_edit_form_shows_the_saved_values(client, alice, workload):
    Workload.objects.filter(pk=workload.pk).update(
        regions=["eu-west-1", "us-east-1"],
        tags={"team": "pay"},
        pillar_priorities=["security", *[p for p in PILLARS if p != "security"]],
    )
    client.force_login(alice)

    response = client.get(url("workload_edit", workload))

    body = response.content.decode()
    form = response.context["form"]
    assert response.status_code == 200
    assert "eu-west-1\nus-east-1" in body
    assert "team=pay" in body
    assert form["pillar_priorities"].value()[0] == "security"


def test_moving_a_pillar_up_shows_the_form_again_with_it_moved_and_saves_nothing(
    client, alice, workload
):
    client.force_login(alice)
    before = Workload.objects.get(pk=workload.pk).pillar_priorities

    response = client.post(
        url("workload_edit", workload),
        form_data(name="Renamed meanwhile", pillar_move="reliability:up"),
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"]["pillar_priorities"].value() == [
        "operationalExcellence",
        "reliability",
        "security",
        *PILLARS[3:],
    ]
    assert 'value="Renamed meanwhile"' in body
    assert "Pillar order changed. Save to keep it." in body
    assert 'value="reliability:up" autofocus' in body
    saved = Workload.objects.get(pk=workload.pk)
    assert (saved.name, saved.pillar_priorities) == ("Payments API", before)


def test_a_move_on_an_unfinished_new_workload_shows_no_errors(client, alice, builtin_lens):
    client.force_login(alice)

    response = client.post(
        url("workload_create"),
        {"name": "", "pillar_priorities": PILLARS, "pillar_move": "sustainability:up"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "The workload was not saved" not in body and "This field is required" not in body
    shown = re.findall(r'<li id="pillar-order-(\w+)">', body)
    assert shown == [*PILLARS[:4], "sustainability", "costOptimization"]
    assert not Workload.objects.exists()


@pytest.mark.parametrize(
    "move", ["operationalExcellence:up", "sustainability:down", "nonsense:up", "security:sideways"]
)
def test_a_move_that_cannot_be_made_leaves_the_order_alone(client, alice, workload, move):
    client.force_login(alice)

    response = client.post(url("workload_edit", workload), form_data(pillar_move=move))

    assert response.context["form"]["pillar_priorities"].value() == PILLARS


def test_saving_after_moving_pillars_stores_the_new_order(client, alice, workload):
    client.force_login(alice)
    order = ["security", "reliability", "operationalExcellence", *PILLARS[3:]]

    response = client.post(url("workload_edit", workload), form_data(pillar_priorities=order))

    assert response.status_code == 302
    assert Workload.objects.get(pk=workload.pk).pillar_priorities == order


def test_an_edit_without_the_pillar_order_keeps_the_saved_one(client, alice, workload):
    order = ["security", *[p for p in PILLARS if p != "security"]]
    Workload.objects.filter(pk=workload.pk).update(pillar_priorities=order)
    client.force_login(alice)
    data = form_data()
    del data["pillar_priorities"]

    response = client.post(url("workload_edit", workload), data)

    assert response.status_code == 302
    assert Workload.objects.get(pk=workload.pk).pillar_priorities == order


def test_a_workload_keeps_its_own_name_in_another_spelling(client, alice, workload):
    client.force_login(alice)

    response = client.post(url("workload_edit", workload), form_data(name="payments  API"))

    workload.refresh_from_db()
    assert response.status_code == 302
    assert workload.name == "payments  API"


def test_an_edit_may_not_take_the_name_of_another_workload(client, alice, workload):
    make_workload(alice, "Checkout")
    client.force_login(alice)

    response = client.post(url("workload_edit", workload), form_data(name=" check OUT"))

    workload.refresh_from_db()
    assert response.status_code == 200
    assert "exists already" in response.content.decode()
    assert workload.name == "Payments API"
    assert "<h1>Edit workload properties</h1>" in response.content.decode()


def test_edit_requires_login(client, workload):
    response = client.get(url("workload_edit", workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_edit_requires_write_access(client, carol, mallory, workload):
    client.force_login(carol)
    assert client.get(url("workload_edit", workload)).status_code == 403
    assert client.post(url("workload_edit", workload), form_data(name="Mine")).status_code == 403

    client.force_login(mallory)
    assert client.get(url("workload_edit", workload)).status_code == 404
    assert client.post(url("workload_edit", workload), form_data(name="Mine")).status_code == 404
    workload.refresh_from_db()
    assert workload.name == "Payments API"


def test_edit_rejects_delete(client, alice, workload):
    client.force_login(alice)

    assert client.delete(url("workload_edit", workload)).status_code == 405


def test_an_htmx_edit_with_errors_gets_only_the_form(client, alice, workload):
    client.force_login(alice)

    response = client.post(url("workload_edit", workload), form_data(notes="x" * 3000), **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<form id="workload-form"')
    assert "at most 2084 characters" in body


# -- delete --------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_delete", workload))

    assert response.status_code == 200
    assert "Delete this workload?" in response.content.decode()
    assert Workload.objects.filter(pk=workload.pk).exists()


def test_the_owner_deletes_a_workload_with_its_answers(client, alice, workload):
    answer_sec1(workload, alice)
    client.force_login(alice)

    response = client.post(url("workload_delete", workload))

    assert response.status_code == 302
    assert response.url == url("workload_list")
    assert not Workload.objects.exists()
    assert not Answer.objects.exists()


def test_it_requires_owner_access_to_delete(client, bob, carol, mallory, workload):
    for user, status in ((bob, 403), (carol, 403), (mallory, 404)):
        client.force_login(user)
        assert client.get(url("workload_delete", workload)).status_code == status
        assert client.post(url("workload_delete", workload)).status_code == status
    assert Workload.objects.filter(pk=workload.pk).exists()


def test_delete_requires_login(client, workload):
    response = client.post(url("workload_delete", workload))

    assert response.status_code == 302
    assert Workload.objects.filter(pk=workload.pk).exists()


def test_delete_rejects_put(client, alice, workload):
    client.force_login(alice)

    assert client.put(url("workload_delete", workload)).status_code == 405
    assert Workload.objects.filter(pk=workload.pk).exists()


def test_an_htmx_delete_redirects_the_browser_to_the_list(client, alice, workload):
    client.force_login(alice)

    response = client.post(url("workload_delete", workload), **HTMX)

    assert response["HX-Redirect"] == url("workload_list")
    assert not Workload.objects.exists()


# -- detail --------------------------------------------------------------------------------------


def test_the_detail_page_shows_properties_lens_reviews_and_members(client, carol, workload):
    Workload.objects.filter(pk=workload.pk).update(
        regions=["eu-west-1"],
        architectural_design_url="https://wiki.example.com/pay",
        tags={"team": "pay"},
        notes="Line one\nLine two",
    )
    client.force_login(carol)

    response = client.get(url("workload_detail", workload))

    body = response.content.decode()
    overview = reverse("reviews:overview", args=[workload.public_id, "wellarchitected"])
    assert response.status_code == 200
    assert [r.lens.alias for r in response.context["lens_reviews"]] == ["wellarchitected"]
    assert f'href="{overview}"' in body
    assert "Takes card payments for the web shop." in body
    assert "Alice Archer" in body and "eu-west-1" in body and "team=pay" in body
    assert 'href="https://wiki.example.com/pay"' in body
    assert "Line one<br>Line two" in body
    assert response.context["priorities"][0] == "Operational Excellence"
    assert [m.user.username for m in response.context["members"]] == ["alice", "bob", "carol"]
    assert "Edit properties" not in body and "Add a lens" not in body


def test_the_detail_page_requires_login(client, workload):
    response = client.get(url("workload_detail", workload))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_detail_page_is_hidden_from_users_without_access(client, mallory, workload):
    client.force_login(mallory)

    assert client.get(url("workload_detail", workload)).status_code == 404
    assert client.get(url("workload_detail", Workload(public_id="0" * 32))).status_code == 404


def test_the_detail_page_rejects_post(client, alice, workload):
    client.force_login(alice)

    assert client.post(url("workload_detail", workload)).status_code == 405


def test_an_htmx_request_for_the_detail_page_gets_the_lens_reviews(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_detail", workload), **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="lenses">')
    assert "Properties" not in body


def test_the_detail_page_takes_few_queries(
    client, alice, workload, team_lens, django_assert_max_num_queries
):
    workload_add_lens(workload=workload, lens=team_lens)
    client.force_login(alice)

    # session, user, workload, lens reviews, where each review continues, newer versions of
    # the lenses (upgrade notices), lenses to add, pillar names, members; for the scores the
    # lenses' choices and the answers with their choice rows
    with django_assert_max_num_queries(11):
        client.get(url("workload_detail", workload))


def test_high_risk_answers_show_up_on_the_detail_page(client, alice, workload):
    answer = answer_sec1(workload, alice, sec1_best_practices(workload)[-1])[0]
    assert answer.risk == AnswerRisk.HIGH
    client.force_login(alice)

    response = client.get(url("workload_detail", workload))

    [review] = response.context["lens_reviews"]
    assert (review.answered, review.high) == (1, 1)
    assert "1 high" in response.content.decode()


def test_the_detail_page_shows_the_improvement_status_and_links_to_each_plan(
    client, carol, alice, workload
):
    make_risky(workload, alice, "sec1", status=ImprovementStatus.IN_PROGRESS)
    make_risky(workload, alice, "rel1")
    client.force_login(carol)

    response = client.get(url("workload_detail", workload))

    body = response.content.decode()
    [review] = response.context["lens_reviews"]
    assert review.improvement == ImprovementStatus.IN_PROGRESS
    assert response.context["improvement_totals"].improvement == ImprovementStatus.IN_PROGRESS
    assert "Open items: 1 not started, 1 in progress, 0 risk acknowledged." in body
    args = [workload.public_id, "wellarchitected"]
    for name in ("improvement_plan", "improvement_csv", "answers_csv"):
        assert f'href="{reverse(f"reviews:{name}", args=args)}"' in body


def test_the_detail_page_says_when_nothing_needed_improving(client, alice, workload):
    client.force_login(alice)

    response = client.get(url("workload_detail", workload))

    assert response.context["improvement_totals"].improvement == "NONE"
    assert "None: no question has been high or medium risk." in response.content.decode()
