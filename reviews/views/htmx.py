"""What an htmx request asks for: HTTP only, so it stays with the views."""

from django.http import HttpRequest


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request swaps in a part of the page, except when htmx restores its history."""
    return bool(request.htmx) and not request.htmx.history_restore_request
