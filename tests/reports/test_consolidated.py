"""The consolidated report's numbers: what it counts, for whom, and in how many queries."""

import json

import pytest

from lenses.services import lens_import, lens_version_publish
from people.models import Team, TeamMember
from reviews.models import Answer, AnswerRisk, Report, Role
from reviews.reports.consolidated import consolidated_data
from reviews.reports.services import report_build, report_request
from reviews.services import workload_add_lens, workload_create, workload_share
from tests.factories import lens_bytes, lens_document
from tests.personas import make_viewer, team_with

HIGH, MEDIUM, NONE = AnswerRisk.HIGH, AnswerRisk.MEDIUM, AnswerRisk.NONE


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
    """Give questions of the built-in lens a risk directly (the counting is what is tested)."""
    for question_id, risk in risks.items():
        updated = Answer.objects.filter(
            lens_review__workload=workload, question__question_id=question_id
        ).update(risk=risk)
        assert updated == 1, question_id


@pytest.fixture
def portfolio(workload, alice, bob, mallory):
    """Payments API (Alice's), Search (Bob's, shared read-only with Alice), Mallory's own."""
    set_risks(workload, sec1=HIGH, sec2=HIGH, rel1=MEDIUM, ops1=NONE)
    search = make_workload(
        bob, "Search", environment="PREPRODUCTION", tags={"team": "discovery", "pci": ""}
    )
    workload_share(workload=search, user=alice, role=Role.READONLY)
    set_risks(search, sec1=HIGH, rel1=HIGH, cost1=MEDIUM)
    hidden = make_workload(mallory, "Hidden")
    set_risks(hidden, sec1=HIGH, sec3=HIGH)
    return {"payments": workload, "search": search, "hidden": hidden}


def by_name(data):
    return {row["name"]: row for row in data["workloads"]}


def test_it_counts_the_workloads_the_user_can_see(portfolio, alice):
    data = consolidated_data(user=alice, filters={})

    rows = by_name(data)
    assert list(rows) == ["Payments API", "Search"]
    assert (rows["Payments API"]["high"], rows["Payments API"]["medium"]) == (2, 1)
    assert (rows["Search"]["high"], rows["Search"]["medium"]) == (2, 1)
    assert rows["Payments API"]["answered"] == 4
    assert rows["Payments API"]["questions"] == 38
    assert data["totals"] == {
        "workloads": 2,
        "questions": 76,
        "answered": 7,
        "high": 4,
        "medium": 2,
        "none": 1,
        "not_applicable": 0,
        "unanswered": 69,
        # The risks were set without ticking a choice: nothing counts as followed or answered.
        "score": None,
    }


def test_it_counts_per_pillar_per_workload(portfolio, alice):
    data = consolidated_data(user=alice, filters={})

    [lens] = data["lenses"]
    assert (lens["alias"], lens["name"], lens["workloads"]) == (
        "wellarchitected",
        "Well-Architected Framework",
        2,
    )
    pillars = {column["id"]: column for column in lens["pillars"]}
    assert [column["id"] for column in lens["pillars"]] == [
        "operationalExcellence",
        "security",
        "reliability",
        "performance",
        "costOptimization",
        "sustainability",
    ]
    assert (pillars["security"]["high"], pillars["reliability"]["high"]) == (3, 1)
    assert pillars["reliability"]["medium"] == 1
    [search_lens] = by_name(data)["Search"]["lenses"]
    search = {p["id"]: p for p in search_lens["pillars"]}
    assert (search["costOptimization"]["medium"], search["costOptimization"]["answered"]) == (1, 1)


def test_the_most_common_risks_come_first(portfolio, alice):
    data = consolidated_data(user=alice, filters={})

    top = data["common_risks"][0]
    assert (top["question_id"], top["workloads"], top["high"]) == ("sec1", 2, 2)
    assert {risk["question_id"] for risk in data["common_risks"]} == {
        "sec1",
        "sec2",
        "rel1",
        "cost1",
    }
    # Mallory's sec3 is not Alice's business.
    assert "sec3" not in {risk["question_id"] for risk in data["common_risks"]}


def test_staff_see_nothing_more(portfolio, admin_user):
    data = consolidated_data(user=admin_user, filters={})

    assert data["workloads"] == []
    assert data["totals"]["workloads"] == 0


def test_a_portfolio_viewer_gets_every_workload_and_a_team_narrows_it(portfolio, carol, bob):
    make_viewer(carol)
    team_with(portfolio["hidden"], "Discovery", Role.READONLY)
    TeamMember.objects.create(team=Team.objects.get(name="Discovery"), user=bob)

    every = consolidated_data(user=carol, filters={})
    team = consolidated_data(user=carol, filters={"team": "discovery"})

    assert [row["name"] for row in every["workloads"]] == ["Hidden", "Payments API", "Search"]
    # Shared with the team (Hidden) or owned by its member bob (Search).
    assert [row["name"] for row in team["workloads"]] == ["Hidden", "Search"]


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({"environment": "PREPRODUCTION"}, ["Search"]),
        ({"tag": "team"}, ["Search"]),
        ({"tag": "team=discovery"}, ["Search"]),
        ({"tag": "team=other"}, []),
        ({"tag": "pci="}, ["Search"]),
        ({"owner": "alice"}, ["Payments API"]),
        ({"question": "wellarchitected:sec2"}, ["Payments API"]),
        ({"question": "wellarchitected:sec1"}, ["Payments API", "Search"]),
        ({"environment": "", "tag": "", "owner": ""}, ["Payments API", "Search"]),
    ],
)
def test_filters_narrow_like_the_dashboard(portfolio, alice, filters, names):
    data = consolidated_data(user=alice, filters=filters)

    assert [row["name"] for row in data["workloads"]] == names


# the workloads, the answers per pillar, the common risks; for the scores the lens reviews, their
# choices and their answers with choice rows
CONSOLIDATED_QUERIES = 6


def test_it_takes_the_same_few_queries_for_any_number_of_workloads(
    portfolio, alice, django_assert_num_queries
):
    with django_assert_num_queries(CONSOLIDATED_QUERIES):
        consolidated_data(user=alice, filters={})
    for index in range(8):
        make_workload(alice, f"More {index}")
    with django_assert_num_queries(CONSOLIDATED_QUERIES):
        data = consolidated_data(user=alice, filters={})
    assert data["totals"]["workloads"] == 10


def test_the_json_report_is_the_data_with_who_and_when(portfolio, alice):
    report = report_request(
        user=alice,
        kind=Report.Kind.CONSOLIDATED,
        format=Report.Format.JSON,
        filters={"environment": "PRODUCTION"},
    )

    done = report_build(report_id=report.pk)

    assert done.status == Report.Status.DONE, done.error
    assert done.file.name.endswith(".json")
    with done.file.open("rb") as file:
        document = json.load(file)
    assert document["report"]["requested_by"] == "alice"
    assert document["filters"] == {"environment": "PRODUCTION"}
    assert [row["name"] for row in document["workloads"]] == ["Payments API"]
    assert document["totals"]["high"] == 2
    assert document["workloads"][0]["lenses"][0]["pillars"][1]["id"] == "security"


def test_a_report_whose_requester_is_gone_fails_with_a_reason(portfolio, alice, bob):
    report = report_request(user=bob, kind=Report.Kind.CONSOLIDATED, format=Report.Format.JSON)
    Report.objects.filter(pk=report.pk).update(requested_by=None)

    failed = report_build(report_id=report.pk)

    assert failed.status == Report.Status.FAILED
    assert "no longer exists" in failed.error


def import_security_lens(user):
    """A second lens whose pillars share the built-in lens's ids, one its name exactly and one
    in lower case: "security" and "Reliability"."""
    document = lens_document(name="Cloud Security Lens", pillars=2, questions=2)
    document["pillars"][0].update(id="security", name="security")
    document["pillars"][1].update(id="reliability", name="Reliability")
    version = lens_import(raw=lens_bytes(document), user=user)
    return lens_version_publish(lens_version=version, version="1.0").lens


@pytest.fixture
def two_lenses(portfolio, alice):
    """Payments API also reviews the Cloud Security Lens: p1_q1 high, p1_q2 medium in its
    "security" pillar, p2_q1 high in its "Reliability"."""
    lens = import_security_lens(alice)
    payments = portfolio["payments"]
    workload_add_lens(workload=payments, lens=lens)
    for question_id, risk in {"p1_q1": HIGH, "p1_q2": MEDIUM, "p2_q1": HIGH}.items():
        Answer.objects.filter(
            lens_review__workload=payments,
            lens_review__lens=lens,
            question__question_id=question_id,
        ).update(risk=risk)
    return lens


def test_pillars_of_two_lenses_with_the_same_names_are_grouped_under_their_lens(two_lenses, alice):
    data = consolidated_data(user=alice, filters={})

    assert [(lens["name"], lens["workloads"]) for lens in data["lenses"]] == [
        ("Well-Architected Framework", 2),
        ("Cloud Security Lens", 1),
    ]
    builtin, custom = data["lenses"]
    assert {p["id"]: (p["name"], p["high"], p["medium"]) for p in builtin["pillars"]}[
        "security"
    ] == ("Security", 3, 0)
    assert [(p["id"], p["name"], p["high"], p["medium"]) for p in custom["pillars"]] == [
        ("security", "security", 1, 1),
        ("reliability", "Reliability", 1, 0),
    ]
    assert (custom["alias"], custom["is_builtin"]) == (two_lenses.alias, False)
    assert (custom["high"], custom["medium"], custom["questions"]) == (2, 1, 4)
    payments, search = by_name(data)["Payments API"], by_name(data)["Search"]
    assert [lens["name"] for lens in payments["lenses"]] == [
        "Well-Architected Framework",
        "Cloud Security Lens",
    ]
    assert payments["lenses"][1]["pillars"][0] == {
        "id": "security",
        "name": "security",
        "questions": 2,
        "answered": 2,
        "high": 1,
        "medium": 1,
        "none": 0,
        "not_applicable": 0,
        "unanswered": 0,
        "score": None,  # risks set directly, no choice ticked
    }
    assert (payments["high"], payments["medium"]) == (4, 2)
    assert [lens["name"] for lens in search["lenses"]] == ["Well-Architected Framework"]


def test_the_most_common_risks_name_their_lens(two_lenses, alice):
    data = consolidated_data(user=alice, filters={})

    risks = {(risk["lens"], risk["question_id"]): risk for risk in data["common_risks"]}
    assert risks[(two_lenses.alias, "p1_q1")]["lens_name"] == "Cloud Security Lens"
    assert risks[(two_lenses.alias, "p1_q1")]["pillar"] == "security"
    assert risks[("wellarchitected", "sec1")]["lens_name"] == "Well-Architected Framework"


def test_the_json_report_groups_pillars_by_lens(two_lenses, alice):
    report = report_request(user=alice, kind=Report.Kind.CONSOLIDATED, format=Report.Format.JSON)

    done = report_build(report_id=report.pk)

    with done.file.open("rb") as file:
        document = json.load(file)
    assert [lens["name"] for lens in document["lenses"]] == [
        "Well-Architected Framework",
        "Cloud Security Lens",
    ]
    assert [p["name"] for p in document["lenses"][1]["pillars"]] == ["security", "Reliability"]
    assert "pillars" not in document


def test_two_lenses_take_the_same_few_queries(two_lenses, alice, django_assert_num_queries):
    with django_assert_num_queries(CONSOLIDATED_QUERIES):
        data = consolidated_data(user=alice, filters={})

    assert len(data["lenses"]) == 2
