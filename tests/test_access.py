"""Walk every URL of the project with every persona and check what each may do.

A URL added without an entry here fails `test_every_url_is_classified`, so nothing new escapes
the access rules: anonymous visitors and deactivated accounts are sent to log in, people
without access to a workload (staff included) get 404, read-only members get 403 on writes,
contributors get 403 on owner-only actions. Staff pages answer 403 to everyone but staff (a
superuser and a plain member of staff). Access through a team and the portfolio viewer's
read-only access to everything follow the same rules as a share of one's own.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from lenses.models import Lens, LensVersion
from people.models import Team, TeamMember
from profiles.models import Profile
from review_templates.models import ReviewTemplate
from review_templates.services import template_create, template_share
from reviews.milestones import milestone_create
from reviews.models import Answer, ImprovementItem, Role
from reviews.services import answer_choice_update, workload_share_team
from tests.personas import more_personas
from tests.reports.test_access import RULES as REPORT_RULES

# name: ((method, who may use it), ...)
#   "public": anyone, logged in or not; "user": anyone logged in; "staff": staff only;
#   "read"/"write"/"owner": by workload role
RULES = {
    "api:account_keys": (("GET", "user"), ("POST", "user")),
    "healthz": (("GET", "public"),),
    "home": (("GET", "user"),),
    "lenses:catalogue": (("GET", "user"),),
    "lenses:import": (("GET", "staff"), ("POST", "staff")),
    "lenses:lens": (("GET", "user"),),
    "lenses:version": (("GET", "user"),),
    "lenses:publish": (("POST", "staff"),),
    "lenses:deprecate": (("POST", "staff"),),
    "lenses:export": (("GET", "user"),),
    "lenses:difference": (("GET", "user"),),
    "lenses:delete": (("GET", "staff"), ("POST", "staff")),
    "lenses:upgrade_reviews": (("POST", "staff"),),
    "lenses:difference_json": (("GET", "user"),),
    "reviews:dashboard": (("GET", "user"),),
    "reviews:workload_list": (("GET", "user"),),
    "reviews:workload_create": (("GET", "user"), ("POST", "user")),
    "reviews:workload_detail": (("GET", "read"),),
    "reviews:workload_edit": (("GET", "write"), ("POST", "write")),
    "reviews:workload_delete": (("GET", "owner"), ("POST", "owner")),
    "reviews:workload_lenses": (("POST", "write"),),
    "reviews:sharing": (("GET", "read"), ("POST", "owner")),
    "reviews:member_update": (("POST", "owner"),),
    "reviews:transfer": (("POST", "owner"),),
    "reviews:team_share": (("POST", "owner"),),
    "reviews:team_share_update": (("POST", "owner"),),
    "reviews:activity": (("GET", "owner"),),
    "reviews:milestones": (("GET", "read"), ("POST", "owner")),
    "reviews:compare": (("GET", "read"),),
    "reviews:milestone_overview": (("GET", "read"),),
    "reviews:milestone_pillar": (("GET", "read"),),
    "reviews:milestone_question": (("GET", "read"),),
    "reviews:milestone_improvements": (("GET", "read"),),
    "reviews:overview": (("GET", "read"),),
    "reviews:overview_poll": (("GET", "read"),),
    "reviews:lens_notes": (("POST", "write"),),
    "reviews:upgrade": (("GET", "write"), ("POST", "write")),
    "reviews:pillar": (("GET", "read"),),
    "reviews:pillar_notes": (("POST", "write"),),
    "reviews:improvement_plan": (("GET", "read"),),
    "reviews:improvement_update": (("GET", "write"), ("POST", "write")),
    "reviews:improvement_row": (("GET", "read"),),
    "reviews:improvement_bulk": (("POST", "write"),),
    "reviews:improvement_csv": (("GET", "read"),),
    "reviews:answers_csv": (("GET", "read"),),
    "reviews:improvement_xlsx": (("GET", "read"),),
    "reviews:answers_xlsx": (("GET", "read"),),
    "reviews:dashboard_xlsx": (("GET", "user"),),
    "reviews:question": (("GET", "read"),),
    "reviews:question_poll": (("GET", "read"),),
    "reviews:choice_update": (("POST", "write"),),
    "reviews:applicability": (("POST", "write"),),
    "reviews:question_notes": (("POST", "write"),),
    "invitation_accept": (("GET", "public"), ("POST", "public")),
    "account:account": (("GET", "user"), ("POST", "user")),
    "account:password": (("POST", "user"),),
    "account:sessions_end": (("POST", "user"),),
    "people:people": (("GET", "staff"),),
    "people:invite": (("GET", "staff"), ("POST", "staff")),
    "people:invitation_resend": (("POST", "staff"),),
    "people:invitation_revoke": (("POST", "staff"),),
    "people:person": (("GET", "staff"),),
    "people:deactivate": (("POST", "staff"),),
    "people:reactivate": (("POST", "staff"),),
    "people:staff_flag": (("POST", "staff"),),
    "people:viewer_flag": (("POST", "staff"),),
    "people:hand_over": (("POST", "staff"),),
    "people:teams": (("GET", "staff"), ("POST", "staff")),
    "people:team": (("GET", "staff"), ("POST", "staff")),
    "people:team_delete": (("POST", "staff"),),
    "people:member_add": (("POST", "staff"),),
    "people:member_remove": (("POST", "staff"),),
    "people:log": (("GET", "staff"),),
    "profiles:list": (("GET", "user"),),
    "profiles:create": (("GET", "staff"), ("POST", "staff")),
    "profiles:import": (("GET", "staff"), ("POST", "staff")),
    "profiles:detail": (("GET", "user"),),
    "profiles:edit": (("GET", "staff"), ("POST", "staff")),
    "profiles:delete": (("POST", "staff"),),
    "profiles:export": (("GET", "user"),),
    "profiles:workload_profile": (("GET", "read"), ("POST", "write")),
    "review_templates:list": (("GET", "user"), ("POST", "user")),
    "review_templates:detail": (("GET", "template_read"),),
    "review_templates:edit": (("POST", "template_owner"),),
    "review_templates:delete": (("POST", "template_owner"),),
    "review_templates:share": (("POST", "template_owner"),),
    "review_templates:apply": (("POST", "template_read"),),
    "review_templates:propagate": (("POST", "template_owner"),),
    "review_templates:progress": (("GET", "template_read"),),
    "review_templates:question": (("GET", "template_read"), ("POST", "template_write")),
    "review_templates:from_workload": (("POST", "read"),),
}
# Django's own pages (login, admin) have their own tests and rules; the API authenticates each
# request by its signature, and tests/api walks every operation with every persona.
# Single sign-on's two addresses are public, 404 without OIDC_ISSUER: tests/sso/ walks them.
NOT_OURS = {"first_run", "login", "logout", "api:dispatch", "sso:sign_in", "sso:callback"}
KWARG_SHAPES = [
    (),
    ("alias",),
    ("alias", "pk"),
    ("public_id",),
    ("public_id", "user_id"),
    ("public_id", "team_id"),
    ("public_id", "alias"),
    ("public_id", "alias", "pillar_id"),
    ("public_id", "alias", "question_id"),
    ("public_id", "alias", "question_id", "choice_id"),
    ("public_id", "number", "alias"),
    ("public_id", "number", "alias", "pillar_id"),
    ("public_id", "number", "alias", "question_id"),
    ("public_id", "alias", "item_id"),  # last: building it makes sec1 high risk
    ("user_id",),
    ("invitation_id",),
    ("team_id",),
    ("team_id", "user_id"),
    ("token",),
    ("profile_id",),
    ("template_id",),
    ("template_id", "alias", "question_id"),
]
STAFF = {"sam", "stan"}  # a superuser and a plain member of staff
# tests.personas: tina and rita have access only through their teams (contributor, read-only),
# vera is a portfolio viewer; dora is deactivated, though she was given a share herself and
# through a team.
WORKLOAD_ROLES = {
    "read": {"vera", "rita", "carol", "tina", "bob", "alice"},
    "write": {"tina", "bob", "alice"},
    "owner": {"alice"},
}
NO_ACCESS = {"mallory", "sam", "stan"}
# Review templates are shared with people like workloads: the walk's template is owned by alice,
# bob contributes and carol reads; nobody else (teams, portfolio viewers, staff) reaches it.
TEMPLATE_ROLES = {
    "template_read": {"carol", "bob", "alice"},
    "template_write": {"bob", "alice"},
    "template_owner": {"alice"},
}
SIGNED_OUT = {"dora"}


@pytest.fixture
def personas(workload, dora, mallory, stan, admin_user, carol, bob, alice) -> list[User]:
    """Everyone who visits each URL, least access first, so the owner's destructive actions
    come last."""
    more = more_personas(workload, dora)
    visitors = [dora, mallory, stan, admin_user, more["vera"], more["rita"], carol]
    return [*visitors, more["tina"], bob, alice]


def named_urls(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin" or entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_is_classified():
    names = set(named_urls()) - NOT_OURS - {n for n in named_urls() if n.startswith("password_")}
    # The report URLs are walked with every persona in tests/reports/test_access.py.
    assert names == set(RULES) | set(REPORT_RULES)


def url_for(name, workload, version, bob, people):
    values = {
        "public_id": workload.public_id,
        "alias": "wellarchitected",
        "question_id": "sec1",
        "pillar_id": "security",
        "choice_id": "sec1_bp1",
        "user_id": bob.pk,
        "pk": version.pk,
        "number": 1,
        "profile_id": walk_profile().pk,
        **people,
    }
    if name.startswith("review_templates:"):
        values["template_id"] = walk_template_id(workload)
    if name.startswith("people:"):
        values["user_id"] = people["person_id"]
    else:
        values["team_id"] = shared_team_id(workload, people["team_id"])
    for keys in KWARG_SHAPES:
        if "item_id" in keys:
            values["item_id"] = improvement_item_id(workload, bob)
        try:
            return reverse(name, kwargs={key: values[key] for key in keys})
        except NoReverseMatch:
            continue
    raise AssertionError(f"no way to build a URL for {name}")


def walk_template_id(workload) -> str:
    """The walk's review template, shared as the workload is with its own members."""
    template = ReviewTemplate.objects.filter(name="Walk template").first()
    if template is None:
        lens = Lens.objects.get(alias="wellarchitected")
        template = template_create(owner=workload.owner, name="Walk template", lenses=[lens])
        for member in workload.members.exclude(role=Role.OWNER).select_related("user"):
            template_share(template=template, user=member.user, role=member.role)
    return template.public_id


def shared_team_id(workload, team_id: int) -> int:
    """A team the workload is shared with: the first one, or the team `team_id` shared now."""
    share = workload.team_shares.order_by("pk").first()
    if share is None:
        team = Team.objects.get(pk=team_id)
        share = workload_share_team(workload=workload, team=team, role=Role.READONLY)
    return share.team_id


def improvement_item_id(workload, user) -> int:
    """An open improvement item of the workload: sec1 answered "none of these"."""
    answer = Answer.objects.select_related("question", "lens_review").get(
        lens_review__workload=workload, question__question_id="sec1"
    )
    answer_choice_update(answer=answer, choice_id="sec1_no", status="SELECTED", user=user)
    return ImprovementItem.objects.get(answer=answer).pk


WALK_PROFILE_ID = 900_001


def walk_profile() -> Profile:
    """The profile the profile URLs act on; staff delete it on the walk, so it comes back."""
    profile, _ = Profile.objects.get_or_create(
        pk=WALK_PROFILE_ID, defaults={"name": "Walk profile", "questions": []}
    )
    return profile


def restore_people_targets(targets: dict[str, object]) -> None:
    walk_profile()
    # One persona's allowed action (deleting the team, removing its member) leaves the next
    # persona something to try it on; the team keeps its id, so the URL stays the same.
    team, _ = Team.objects.get_or_create(pk=targets["team_id"], defaults={"name": "Walkers"})
    TeamMember.objects.get_or_create(team=team, user_id=targets["person_id"])


def allowed(rule: str, who: str) -> bool:
    if who in SIGNED_OUT:
        return rule == "public"
    if rule in ("public", "user"):
        return True
    if rule == "staff":
        return who in STAFF
    if rule in TEMPLATE_ROLES:
        return who in TEMPLATE_ROLES[rule]
    return who in WORKLOAD_ROLES[rule]


@pytest.mark.parametrize(
    ("name", "method", "rule"),
    [(name, method, rule) for name, rules in sorted(RULES.items()) for method, rule in rules],
)
def test_each_persona_gets_exactly_what_its_role_allows(
    client, name, method, rule, workload, personas, bob, alice, people_targets
):
    version = LensVersion.objects.get(lens__alias="wellarchitected")
    milestone_create(workload=workload, name="Baseline", user=alice)
    url = url_for(name, workload, version, bob, people_targets)
    send = client.post if method == "POST" else client.get

    client.logout()
    response = send(url)
    if rule == "public":
        assert response.status_code == 200, f"anonymous {method} {url}"
    else:
        assert response.status_code == 302, f"anonymous {method} {url}"
        assert response.url.startswith(reverse("login"))

    for user in personas:
        restore_people_targets(people_targets)
        client.force_login(user)
        response = send(url)
        status, who = response.status_code, user.username
        if allowed(rule, who):
            assert status in (200, 204, 302), f"{who} {method} {url} gave {status}"
            if status == 302:
                assert not response.url.startswith(reverse("login")), f"{who} {method} {url}"
        elif who in SIGNED_OUT:
            assert status == 302, f"{who} {method} {url} gave {status}"
            assert response.url.startswith(reverse("login")), f"{who} {method} {url}"
        elif (rule in WORKLOAD_ROLES and who in NO_ACCESS) or (
            rule in TEMPLATE_ROLES and who not in TEMPLATE_ROLES["template_read"]
        ):
            assert status == 404, f"{who} {method} {url} gave {status}"
        else:
            assert status == 403, f"{who} {method} {url} gave {status}"


@pytest.mark.parametrize(
    "name", sorted(name for name, rules in RULES.items() if [m for m, _ in rules] == ["POST"])
)
def test_state_changing_urls_refuse_get(
    client, name, workload, personas, admin_user, bob, alice, people_targets
):
    version = LensVersion.objects.get(lens__alias="wellarchitected")
    client.force_login(admin_user if RULES[name][0][1] == "staff" else alice)

    assert client.get(url_for(name, workload, version, bob, people_targets)).status_code == 405
