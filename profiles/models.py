"""Business-context profiles: questions about a workload's context whose answers prioritise
lens questions and may suggest an order of the pillars.

A profile's questions and choices are one checked document (`questions`, the shape of
profiles.profile_format): they are always read, edited, exported and imported whole, and a
workload's prioritised questions come from one row, so nothing is gained by a table per level.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

NAME_MAX = 100
DESCRIPTION_MAX = 1024


class Profile(models.Model):
    name = models.CharField(max_length=NAME_MAX, unique=True)
    description = models.TextField(max_length=DESCRIPTION_MAX, blank=True)
    # [{"id", "title", "description", "selectionType": SINGLE | MULTIPLE,
    #   "choices": [{"id", "title", "description", "prioritises": [{"lens", "question"}],
    #                "pillarOrder": [pillar ids]}]}]
    questions = models.JSONField(default=list)
    # Shipped with Archlens (profiles/builtin/<builtin_key>.json). Loading them again creates
    # the missing ones only: staff may have edited the others, and their edits stay.
    is_builtin = models.BooleanField(default=False, editable=False)
    builtin_key = models.CharField(max_length=64, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Bumped by every change of the questions, so a workload can tell it answered an older one.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_builtin", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["builtin_key"],
                condition=~models.Q(builtin_key=""),
                name="one_profile_per_builtin_file",
            )
        ]

    def __str__(self) -> str:
        return self.name


class WorkloadProfile(models.Model):
    """The profile a workload uses (one at most, as in the AWS tool) and its answers to it."""

    workload = models.OneToOneField(
        "reviews.Workload", on_delete=models.CASCADE, related_name="profile_use"
    )
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="uses")
    # {profile question id: [ticked choice ids]}
    answers = models.JSONField(default=dict, blank=True)
    # The workload's pillar priorities follow the ticked choices' suggested order.
    follows_pillar_order = models.BooleanField(default=False)
    profile_version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.workload} uses {self.profile}"
