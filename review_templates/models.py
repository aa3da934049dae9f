"""Review templates: shared-responsibility answers written once and applied to many workloads.

A template is not a workload: it has its own table, its own shares and its own answers, so no
query of workloads, answers or counts (lists, dashboard, API, reports) can meet one by accident.
A workload's answer remembers the template it came from and a fingerprint of the state the
template left it in (reviews.Answer.template / template_state); propagation compares the two.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from lenses.models import Lens, LensVersion, Question
from reviews.models import NOTES_MAX, Reason, Role, Workload, can_have_access, name_key


def _public_id() -> str:
    return uuid.uuid4().hex


class ReviewTemplateQuerySet(models.QuerySet):
    def for_user(self, user) -> ReviewTemplateQuerySet:
        """Templates shared with the user (as owner, contributor or reader)."""
        if not can_have_access(user):
            return self.none()
        return self.filter(members__user=user)

    def with_role(self, user) -> ReviewTemplateQuerySet:
        """Adds `role`: the user's role on each template (one share per user and template)."""
        return self.for_user(user).annotate(role=models.F("members__role"))


class ReviewTemplate(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=_public_id, editable=False)
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, unique=True, editable=False)
    description = models.CharField(max_length=250, blank=True)
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_review_templates"
    )
    # Bumped by every change of its answers, so a propagation knows what it carries.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class TemplateMember(models.Model):
    template = models.ForeignKey(ReviewTemplate, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="template_memberships"
    )
    role = models.CharField(max_length=11, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["template", "user"], name="member_once_per_template"),
            models.UniqueConstraint(
                fields=["template"], condition=Q(role="OWNER"), name="one_owner_per_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.template}"


class TemplateLens(models.Model):
    """A lens the template answers, pinned to the version its answers were written for."""

    template = models.ForeignKey(ReviewTemplate, on_delete=models.CASCADE, related_name="lenses")
    lens = models.ForeignKey(Lens, on_delete=models.PROTECT, related_name="+")
    lens_version = models.ForeignKey(LensVersion, on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(max_length=NOTES_MAX, blank=True)

    class Meta:
        ordering = ["template", "-lens__is_builtin", "lens__name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "lens"], name="one_template_lens")
        ]

    def __str__(self) -> str:
        return f"{self.template} / {self.lens}"


class TemplateAnswer(models.Model):
    """The template's answer to one question; questions without a row are left to workloads.

    `choices` holds only the choices that are not unselected:
    {choice_id: {"status": SELECTED | NOT_APPLICABLE, "reason": ..., "notes": ...}}.
    """

    template_lens = models.ForeignKey(
        TemplateLens, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    is_applicable = models.BooleanField(default=True)
    reason = models.CharField(max_length=24, choices=Reason, default=Reason.NONE)
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    choices = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["template_lens", "question"], name="one_template_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template_lens}: {self.question.question_id}"


class TemplateUse(models.Model):
    """A workload the template was applied to: the workloads a propagation visits."""

    template = models.ForeignKey(ReviewTemplate, on_delete=models.CASCADE, related_name="uses")
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="template_uses")
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "workload__name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "workload"], name="template_used_once")
        ]

    def __str__(self) -> str:
        return f"{self.template} applied to {self.workload}"


class Propagation(models.Model):
    """One run of a template's changes over the workloads that use it, done by a worker."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    template = models.ForeignKey(
        ReviewTemplate, on_delete=models.CASCADE, related_name="propagations"
    )
    status = models.CharField(max_length=7, choices=Status, default=Status.QUEUED)
    template_version = models.PositiveIntegerField(default=0)
    workload_total = models.PositiveIntegerField(default=0)
    workload_done = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    # [{"workload": name, "public_id": ..., "lens": alias, "question": id, "title": ...}, ...]
    changed_locally = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Propagation {self.pk} of {self.template} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.workload_total:
            return 100 if self.status == self.Status.DONE else 0
        return round(100 * self.workload_done / self.workload_total)
