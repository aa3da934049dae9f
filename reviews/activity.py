"""The activity log of a workload: who changed who may do what with it, and what left it.

The services that share, revoke, hand over, save milestones, upgrade lenses and export write
one row each inside their own transaction, so a change that fails leaves no line behind. Only
the owner reads the log (reviews.views.activity).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from reviews.models import Role, Workload, WorkloadActivity

Action = WorkloadActivity.Action


def activity_record(
    *, workload: Workload, user: AbstractBaseUser | None, action: str, **detail: Any
) -> WorkloadActivity:
    """One line of the log; `detail` holds the names involved, as they are now."""
    return WorkloadActivity.objects.create(
        workload=workload, user=user, action=action, detail=detail
    )


def _role(value: str) -> str:
    return Role(value).label.lower() if value in Role.values else value


def activity_sentence(entry: WorkloadActivity) -> str:
    """What happened, as a sentence without its author (the page shows who and when)."""
    d = entry.detail
    match entry.action:
        case Action.SHARED:
            return f"Shared with {d['person']} as {_role(d['role'])}."
        case Action.SHARE_CHANGED:
            return f"Changed {d['person']} from {_role(d['before'])} to {_role(d['role'])}."
        case Action.UNSHARED:
            return f"Revoked the {_role(d['before'])} access of {d['person']}."
        case Action.TEAM_SHARED:
            return f"Shared with the team {d['team']} as {_role(d['role'])}."
        case Action.TEAM_SHARE_CHANGED:
            return f"Changed the team {d['team']} from {_role(d['before'])} to {_role(d['role'])}."
        case Action.TEAM_UNSHARED:
            return f"Revoked the {_role(d['before'])} access of the team {d['team']}."
        case Action.TRANSFERRED:
            return f"Handed ownership over from {d['from']} to {d['to']}."
        case Action.MILESTONE:
            return f"Saved milestone {d['number']}, “{d['name']}”."
        case Action.LENS_UPGRADED:
            return f"Upgraded {d['lens']} from version {d['from']} to {d['to']}."
        case Action.EXPORTED:
            return f"Exported {d['what']}."
    return entry.get_action_display()
