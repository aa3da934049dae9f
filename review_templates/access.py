"""Who may see and change a review template, for the HTML views and the API alike.

The same roles as a workload's: the owner changes everything and shares it, contributors
answer its questions, readers read it and may apply it to a workload they can change. No
access at all is NOT_FOUND, so a template's existence is not revealed.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from review_templates.models import ReviewTemplate
from reviews.access import AccessError
from reviews.errors import FORBIDDEN, NOT_FOUND
from reviews.models import WRITE_ROLES, Role

RESOURCE = "REVIEW_TEMPLATE"


def template_for(
    user: AbstractBaseUser | AnonymousUser,
    public_id: str,
    *,
    write: bool = False,
    owner: bool = False,
) -> ReviewTemplate:
    """The template with `role` set to the user's role on it."""
    template = ReviewTemplate.objects.with_role(user).filter(public_id=public_id).first()
    if template is None:
        raise AccessError("No such review template.", NOT_FOUND, resource=RESOURCE)
    if owner and template.role != Role.OWNER:
        raise AccessError("Only the template's owner can do this.", FORBIDDEN, resource=RESOURCE)
    if write and template.role not in WRITE_ROLES:
        raise AccessError(
            "You can read this template but not change it.", FORBIDDEN, resource=RESOURCE
        )
    return template
