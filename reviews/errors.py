"""What kind of failure a domain error is, so each interface can answer it in its own terms.

The browser turns an error into a message on the page (or a 404), the API into an AWS error
type and status code. Neither should have to read the message to tell a missing workload from
a full quota.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    NOT_FOUND = "not_found"  # the thing asked for does not exist, or is not visible to the user
    INVALID = "invalid"  # the request itself is wrong; sending it again will not help
    CONFLICT = "conflict"  # it clashes with the current state (exists already, changed meanwhile)
    QUOTA = "quota"  # a limit is reached (lenses per workload, milestones, pending reports)
    FORBIDDEN = "forbidden"  # the user sees the thing but may not do this to it


NOT_FOUND = Kind.NOT_FOUND
INVALID = Kind.INVALID
CONFLICT = Kind.CONFLICT
QUOTA = Kind.QUOTA
FORBIDDEN = Kind.FORBIDDEN


class DomainError(Exception):
    """A change that cannot be made, with a message for the person who asked and its kind."""

    def __init__(self, message: str, kind: Kind = INVALID, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = Kind(kind)
        self.field = field  # the input field at fault, where there is one
