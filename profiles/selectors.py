"""Reads of profiles that every page and interface shares: no request, no response."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from profiles.models import Profile, WorkloadProfile


def profiles_listed() -> QuerySet[Profile]:
    """Every profile, built-in ones first, with how many workloads use each (one query)."""
    return Profile.objects.annotate(use_count=Count("uses")).select_related("owner")


def profile_use_of(workload) -> WorkloadProfile | None:
    """The workload's profile and its answers, or None (one query)."""
    return WorkloadProfile.objects.select_related("profile").filter(workload=workload).first()


def ticked_choices(questions: list[dict[str, Any]], answers: dict[str, list[str]]) -> list[dict]:
    """The choices ticked in `answers`, in profile order; ids the profile no longer has (it was
    edited since) are left out, and a single-select question keeps its first tick."""
    ticked = []
    for question in questions:
        chosen = set(answers.get(question["id"], []))
        picked = [choice for choice in question["choices"] if choice["id"] in chosen]
        if question["selectionType"] == "SINGLE":
            picked = picked[:1]
        ticked.extend(picked)
    return ticked


def prioritised_of(use: WorkloadProfile | None) -> set[tuple[str, str]]:
    """(lens alias, question id) of every lens question the ticked choices prioritise."""
    if use is None:
        return set()
    return {
        (ref["lens"], ref["question"])
        for choice in ticked_choices(use.profile.questions, use.answers)
        for ref in choice["prioritises"]
    }


def prioritised_questions(workload) -> set[tuple[str, str]]:
    """The workload's prioritised lens questions as (lens alias, question id), one query.

    Computed from the profile and the answers as they are now, so an edit of either shows on
    every page at once; a question id matches in every version of its lens.
    """
    return prioritised_of(profile_use_of(workload))


def prioritised_in(workload, alias: str) -> set[str]:
    """The question ids of one lens that the workload's profile prioritises (one query)."""
    return {question for lens, question in prioritised_questions(workload) if lens == alias}


def suggested_pillar_order(questions: list[dict[str, Any]], answers: dict) -> list[str]:
    """The first suggested pillar order among the ticked choices, in profile order ([]: none)."""
    for choice in ticked_choices(questions, answers):
        if choice["pillarOrder"]:
            return list(choice["pillarOrder"])
    return []


def counts_apart(questions: list, prioritised: set[str]) -> dict[str, int]:
    """How many of `questions` (each with `answer`) are prioritised, and of those how many are
    high and medium risk: the overview's "3 high risks, 2 of them prioritised"."""
    counts = {"prioritised": 0, "high": 0, "medium": 0}
    for question in questions:
        if question.question_id not in prioritised:
            continue
        counts["prioritised"] += 1
        risk = question.answer.risk if question.answer is not None else None
        if risk == "HIGH":
            counts["high"] += 1
        elif risk == "MEDIUM":
            counts["medium"] += 1
    return counts
