"""People who reach a workload in the other ways there are, for the access walks.

Besides the fixtures' owner, contributor, reader and outsider: tina contributes and rita reads
only through a team, vera is a portfolio viewer, and the deactivated dora (tests.conftest) is
given a contributor share herself and through a team, which must give her nothing.
"""

from django.contrib.auth.models import User

from people.models import Team, TeamMember, profile_of
from reviews.models import Role, Workload
from reviews.services import workload_share, workload_share_team


def _person(username: str) -> User:
    return User.objects.create_user(username, f"{username}@example.com", "pw-for-tests-9")


def team_with(workload: Workload, name: str, role: str, *members: User) -> Team:
    """A team of `members`, with which `workload` is shared as `role`."""
    team = Team.objects.create(name=name)
    TeamMember.objects.bulk_create(TeamMember(team=team, user=user) for user in members)
    workload_share_team(workload=workload, team=team, role=role)
    return team


def make_viewer(user: User) -> User:
    profile = profile_of(user)
    profile.is_portfolio_viewer = True
    profile.save()
    return user


def more_personas(workload: Workload, dora: User) -> dict[str, User]:
    assert not dora.is_active
    tina, rita, vera = (_person(name) for name in ("tina", "rita", "vera"))
    team_with(workload, "Platform", Role.CONTRIBUTOR, tina, dora)
    team_with(workload, "Auditors", Role.READONLY, rita)
    workload_share(workload=workload, user=dora, role=Role.CONTRIBUTOR)
    make_viewer(vera)
    return {"tina": tina, "rita": rita, "vera": vera}
