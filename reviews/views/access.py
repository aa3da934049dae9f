"""Access checks shared by the review views: every view starts with one of these.

The rules live in reviews.access, which takes a user; these wrappers take the request and turn
NOT_FOUND into a 404 (the workload's existence is not revealed) and FORBIDDEN into a 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from reviews import access
from reviews.errors import NOT_FOUND
from reviews.models import Answer, LensReview, Workload


def _http(exc: access.AccessError) -> Exception:
    return Http404(exc.message) if exc.kind == NOT_FOUND else PermissionDenied(exc.message)


def get_workload_for_user(
    request: HttpRequest, public_id: str, *, write: bool = False, owner: bool = False
) -> Workload:
    """The workload with `role` set to the user's role on it."""
    try:
        return access.workload_for(request.user, public_id, write=write, owner=owner)
    except access.AccessError as exc:
        raise _http(exc) from None


def get_lens_review_for_user(
    request: HttpRequest, public_id: str, alias: str, *, write: bool = False
) -> LensReview:
    """The active lens review with its workload (carrying `role`), lens and version loaded."""
    try:
        return access.lens_review_for(request.user, public_id, alias, write=write)
    except access.AccessError as exc:
        raise _http(exc) from None


def get_answer_for_user(
    request: HttpRequest,
    public_id: str,
    alias: str,
    question_id: str,
    *,
    write: bool = False,
    choice_id: str | None = None,
) -> Answer:
    """One query: the answer with its question, pillar, lens review, lens and workload (and
    the stored status of `choice_id`, see access.answer_for)."""
    try:
        return access.answer_for(
            request.user, public_id, alias, question_id, write=write, choice_id=choice_id
        )
    except access.AccessError as exc:
        raise _http(exc) from None
