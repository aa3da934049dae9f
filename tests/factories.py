"""Factories for tests: small, valid lens documents and users."""

import json
from typing import Any

import factory
from django.contrib.auth.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-9")


def lens_document(
    *, name: str = "Test Lens", pillars: int = 2, questions: int = 2, choices: int = 3
) -> dict[str, Any]:
    """A valid custom-lens document with predictable ids (p1, p1_q1, p1_q1_c1, p1_q1_no)."""
    return {
        "schemaVersion": "2021-11-01",
        "name": name,
        "description": "A lens made for tests.",
        "pillars": [
            {
                "id": f"pillar{p}",
                "name": f"Pillar {p}",
                "questions": [_question(f"p{p}_q{q}", choices) for q in range(1, questions + 1)],
            }
            for p in range(1, pillars + 1)
        ],
    }


def _question(qid: str, choices: int) -> dict[str, Any]:
    ids = [f"{qid}_c{c}" for c in range(1, choices + 1)]
    return {
        "id": qid,
        "title": f"Question {qid}?",
        "description": f"What {qid} asks.",
        "helpfulResource": {"displayText": "Read this.", "url": "https://example.com/help"},
        "choices": [
            {
                "id": cid,
                "title": f"Practice {cid}",
                "helpfulResource": {"displayText": f"Why {cid}.", "url": "https://example.com/h"},
                "improvementPlan": {"displayText": f"Do {cid}.", "url": "https://example.com/i"},
            }
            for cid in ids
        ]
        + [{"id": f"{qid}_no", "title": "None of these"}],
        "riskRules": [
            {"condition": f"!{ids[0]}", "risk": "HIGH_RISK"},
            {"condition": " || ".join(f"!{cid}" for cid in ids[1:]), "risk": "MEDIUM_RISK"},
            {"condition": "default", "risk": "NO_RISK"},
        ],
    }


def lens_bytes(document: dict[str, Any] | None = None, **kwargs) -> bytes:
    return json.dumps(document or lens_document(**kwargs)).encode()


def answers_set_risk(answers, risk: str) -> int:
    """Give answers a risk directly, as a test's shortcut, and count their reviews again.

    A direct UPDATE goes around the services that keep the counts (reviews.counts); the
    recount puts the kept counts where the services would have.
    """
    from django.db.models import F

    from reviews.counts import counts_rebuild
    from reviews.models import LensReview

    reviews = set(answers.values_list("lens_review_id", flat=True))
    updated = answers.update(risk=risk)
    counts_rebuild(reviews)
    # As the services do: pages that poll, and the dashboard's cache, see the review change.
    LensReview.objects.filter(pk__in=reviews).update(version=F("version") + 1)
    return updated
