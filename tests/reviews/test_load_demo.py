"""The load_demo command: demo users, workloads, answers, items and milestones."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.http import HttpRequest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from lenses.models import Lens
from reviews.management.commands.load_demo import DEMO_PASSWORD, USERS, WORKLOADS
from reviews.models import (
    Answer,
    AnswerEvent,
    AnswerRisk,
    ImprovementItem,
    LensReview,
    Milestone,
    Role,
    Workload,
    WorkloadMember,
)
from reviews.services import workload_create


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def risks() -> dict[tuple[str, str, str], str]:
    rows = Answer.objects.values_list(
        "lens_review__workload__name", "lens_review__lens__alias", "question__question_id", "risk"
    )
    return {(name, alias, qid): risk for name, alias, qid, risk in rows}


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Load the demo once for the module (it takes a while); each test rolls back its changes."""
    # The tests' fast password hasher (see conftest.py), which module fixtures do not get.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        output = load_demo()
    yield output
    with django_db_blocker.unblock():
        Workload.objects.all().delete()
        Lens.objects.all().delete()
        User.objects.all().delete()


@pytest.fixture
def demo(demo_output, db):
    return demo_output


def test_it_creates_the_users_it_prints_with_the_demo_password(demo):
    assert DEMO_PASSWORD in demo
    for user in USERS:
        assert user.username in demo
        # django-axes checks every authentication against a request.
        assert authenticate(HttpRequest(), username=user.username, password=DEMO_PASSWORD)


def test_it_creates_workloads_with_varied_environments_and_tags(demo):
    workloads = list(Workload.objects.all())

    assert len(workloads) == len(WORKLOADS) == 7
    assert {w.environment for w in workloads} == set(Workload.Environment.values)
    assert len({w.tags["team"] for w in workloads}) >= 5
    assert {w.owner.username for w in workloads} == {"facilitator", "contributor"}
    assert f"Loaded {len(WORKLOADS)} workloads" in demo


def test_the_manager_reads_every_workload_and_the_others_contribute(demo):
    manager = User.objects.get(username="manager")

    assert Workload.objects.for_user(manager).count() == 7
    assert set(WorkloadMember.objects.filter(user=manager).values_list("role", flat=True)) == {
        Role.READONLY
    }
    for workload in Workload.objects.all():
        roles = sorted(workload.members.values_list("role", flat=True))
        assert roles == sorted([Role.OWNER, Role.CONTRIBUTOR, Role.READONLY])


def test_answers_vary_in_risk_between_and_within_workloads(demo):
    per_workload = (
        Answer.objects.filter(lens_review__lens__alias="wellarchitected")
        .values("lens_review__workload__name")
        .annotate(
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
            none=Count("pk", filter=Q(risk=AnswerRisk.NONE)),
        )
    )
    highs = {row["high"] for row in per_workload}
    assert len(highs) >= 4
    assert all(row["high"] and row["none"] for row in per_workload)
    assert sum(row["medium"] for row in per_workload) > 0
    assert Answer.objects.filter(risk=AnswerRisk.UNANSWERED).exists()
    # Answered through the answer service, so the audit trail is there.
    assert AnswerEvent.objects.count() > 500


def test_two_workloads_also_review_a_custom_lens(demo):
    custom = LensReview.objects.filter(lens__is_builtin=False)

    assert custom.count() == 2
    assert {review.lens.name for review in custom} == {"Data Protection"}


def test_it_adds_notes(demo):
    assert LensReview.objects.exclude(notes="").count() == 7
    assert Answer.objects.exclude(notes="").count() >= 7


def test_improvement_items_have_statuses_and_assignees(demo):
    items = ImprovementItem.objects.filter(is_open=True)

    assert len(set(items.values_list("status", flat=True))) == 4
    assert items.exclude(assignee=None).exists()
    assert items.filter(assignee=None).exists()
    assert items.filter(due_date__lt=timezone.localdate()).exists()
    assert ImprovementItem.objects.filter(is_open=False).exists()


def test_each_workload_has_three_to_five_milestones_spread_over_past_months(demo):
    now = timezone.now()
    for workload in Workload.objects.all():
        milestones = list(workload.milestones.order_by("number"))
        assert 3 <= len(milestones) <= 5
        dates = [m.recorded_at for m in milestones]
        assert dates == sorted(dates)
        assert all(date < now for date in dates)
        assert (dates[-1] - dates[0]).days > 120
        # Real snapshots, with totals that match them.
        first = milestones[0]
        assert first.data["lens_reviews"][0]["lens"]["alias"] == "wellarchitected"
        assert first.question_count >= 38
    months = {m.recorded_at.strftime("%Y-%m") for m in Milestone.objects.all()}
    assert len(months) >= 6


def test_the_risk_goes_down_over_the_milestones_of_most_workloads(demo):
    better = 0
    for workload in Workload.objects.all():
        milestones = list(workload.milestones.order_by("number"))
        better += milestones[-1].high_count < milestones[0].high_count
    assert better >= 5


def test_it_refuses_to_run_twice(demo):
    with pytest.raises(CommandError, match="loaded already"):
        load_demo()

    assert Workload.objects.count() == 7


def test_it_refuses_when_a_real_user_has_a_demo_name(demo):
    Workload.objects.all().delete()
    User.objects.all().delete()
    User.objects.create_user("manager", "mona@example.com", "x")

    with pytest.raises(CommandError, match="not demo users"):
        load_demo()

    assert not Workload.objects.exists()


def test_it_refuses_when_a_workload_has_a_demo_name(demo):
    Workload.objects.all().delete()
    User.objects.all().delete()
    owner = User.objects.create_user("olga", "olga@example.com", "x")
    workload_create(
        owner=owner,
        name="payments  API",
        description="Someone else's.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Olga",
    )

    with pytest.raises(CommandError, match="“payments  API” exists already"):
        load_demo()

    assert not User.objects.filter(username="manager").exists()


def test_reset_loads_the_same_data_again_for_the_same_seed(demo):
    before = risks()
    User.objects.create_user("someone", "someone@example.com", "x")

    out = load_demo("--reset", "--password", "another-demo-pw")

    assert risks() == before
    assert "another-demo-pw" in out
    assert authenticate(HttpRequest(), username="manager", password="another-demo-pw")
    assert User.objects.filter(username="someone").exists()
    assert Workload.objects.count() == 7


def test_the_manager_sees_the_demo_on_the_dashboard(client, demo):
    client.force_login(User.objects.get(username="manager"))

    response = client.get(reverse("reviews:dashboard"))

    data = response.context["data"]
    assert data.summary.workloads == 7
    assert data.summary.high > 0 and data.questions
    assert len(data.trend) >= 6
    assert data.has_other_pillars
