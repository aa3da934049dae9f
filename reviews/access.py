"""Who may see and change what, for any interface: the HTML views and the API both start here.

No access at all is NOT_FOUND (the workload's existence is not revealed); a role that may read
but not do what was asked is FORBIDDEN. Each interface turns these into its own answer (a 404
or 403 page, an AWS error type).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from reviews.errors import FORBIDDEN, NOT_FOUND, DomainError
from reviews.models import WRITE_ROLES, Answer, LensReview, Role, Workload


class AccessError(DomainError):
    """The user may not reach this (NOT_FOUND) or may not do this to it (FORBIDDEN).

    `resource` says what could not be reached (WORKLOAD, LENS or QUESTION), for interfaces
    that name it (the API's ResourceType).
    """

    def __init__(self, message: str, kind=NOT_FOUND, *, resource: str = "WORKLOAD") -> None:
        super().__init__(message, kind)
        self.resource = resource


def _check_role(role: str, *, write: bool, owner: bool) -> None:
    if owner and role != Role.OWNER:
        raise AccessError("Only the workload's owner can do this.", FORBIDDEN)
    if write and role not in WRITE_ROLES:
        raise AccessError("You can read this workload but not change it.", FORBIDDEN)


def workload_for(
    user: AbstractBaseUser | AnonymousUser,
    public_id: str,
    *,
    write: bool = False,
    owner: bool = False,
) -> Workload:
    """The workload with `role` set to the user's role on it."""
    workload = Workload.objects.with_role(user).filter(public_id=public_id).first()
    if workload is None:
        raise AccessError("No such workload.", NOT_FOUND)
    _check_role(workload.role, write=write, owner=owner)
    return workload


def lens_review_for(
    user: AbstractBaseUser | AnonymousUser, public_id: str, alias: str, *, write: bool = False
) -> LensReview:
    """The active lens review with its workload (carrying `role`), lens and version loaded."""
    workload = workload_for(user, public_id, write=write)
    review = (
        LensReview.objects.select_related("lens", "lens_version")
        .filter(workload=workload, lens__alias=alias, is_active=True)
        .first()
    )
    if review is None:
        raise AccessError("This lens is not reviewed in this workload.", NOT_FOUND, resource="LENS")
    review.workload = workload
    return review


def answer_for(
    user: AbstractBaseUser | AnonymousUser,
    public_id: str,
    alias: str,
    question_id: str,
    *,
    write: bool = False,
) -> Answer:
    """One query: the answer with its question, pillar, lens review, lens and workload."""
    answer = (
        Answer.objects.select_related(
            "question__pillar",
            "lens_review__lens",
            "lens_review__lens_version",
            "lens_review__workload",
        )
        .filter(
            lens_review__workload__public_id=public_id,
            lens_review__lens__alias=alias,
            lens_review__is_active=True,
            question__question_id=question_id,
        )
        .annotate_role(user)
        .first()
    )
    if answer is None:
        raise AccessError("No such question in this review.", NOT_FOUND, resource="QUESTION")
    _check_role(answer.role, write=write, owner=False)
    answer.lens_review.workload.role = answer.role
    return answer
