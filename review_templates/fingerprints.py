"""A short fingerprint of an answer's state, to tell "as the template left it" from "changed".

The state is what a template sets: applicability with its reason, the notes, and every choice
that is not unselected (with its reason and notes). A question that does not apply keeps its
choices but they do not count (nobody can change them then). Kept free of model imports, so
reviews.services can use it without a cycle.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

UNSELECTED = "UNSELECTED"

# (choice id, status, reason, notes)
ChoiceRow = tuple[str, str, str, str]


def state_fingerprint(
    *, is_applicable: bool, reason: str, notes: str, choices: Iterable[ChoiceRow]
) -> str:
    kept = sorted(row for row in choices if row[1] != UNSELECTED) if is_applicable else []
    state = [bool(is_applicable), reason if not is_applicable else "NONE", notes, kept]
    return hashlib.sha256(json.dumps(state, separators=(",", ":")).encode()).hexdigest()


def blank_fingerprint() -> str:
    """An answer nobody has touched: applies, no notes, nothing ticked."""
    return state_fingerprint(is_applicable=True, reason="NONE", notes="", choices=[])
