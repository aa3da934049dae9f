"""Access checks shared by the review views: every view starts with one of these.

No access at all is a 404 (the workload's existence is not revealed); a role that may read but
not do what was asked is a 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from reviews.models import WRITE_ROLES, Answer, LensReview, Role, Workload


def _check_role(role: str, *, write: bool, owner: bool) -> None:
    if owner and role != Role.OWNER:
        raise PermissionDenied("Only the workload's owner can do this.")
    if write and role not in WRITE_ROLES:
        raise PermissionDenied("You can read this workload but not change it.")


def get_workload_for_user(
    request: HttpRequest, public_id: str, *, write: bool = False, owner: bool = False
) -> Workload:
    """The workload with `role` set to the user's role on it."""
    workload = Workload.objects.with_role(request.user).filter(public_id=public_id).first()
    if workload is None:
        raise Http404("No such workload.")
    _check_role(workload.role, write=write, owner=owner)
    return workload


def get_lens_review_for_user(
    request: HttpRequest, public_id: str, alias: str, *, write: bool = False
) -> LensReview:
    """The active lens review with its workload (carrying `role`), lens and version loaded."""
    workload = get_workload_for_user(request, public_id, write=write)
    review = (
        LensReview.objects.select_related("lens", "lens_version")
        .filter(workload=workload, lens__alias=alias, is_active=True)
        .first()
    )
    if review is None:
        raise Http404("This lens is not reviewed in this workload.")
    review.workload = workload
    return review


def get_answer_for_user(
    request: HttpRequest, public_id: str, alias: str, question_id: str, *, write: bool = False
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
        .annotate_role(request.user)
        .first()
    )
    if answer is None:
        raise Http404("No such question in this review.")
    _check_role(answer.role, write=write, owner=False)
    answer.lens_review.workload.role = answer.role
    return answer
