from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Count, Q

from lenses import conditions


class Risk(models.TextChoices):
    HIGH = "HIGH", "High risk"
    MEDIUM = "MEDIUM", "Medium risk"
    NONE = "NONE", "No risk"


class LensQuerySet(models.QuerySet):
    def visible_to(self, user) -> LensQuerySet:
        """Staff manage every lens; everyone else reads lenses with a published version."""
        if user.is_staff:
            return self
        return self.filter(versions__status=LensVersion.Status.PUBLISHED).distinct()


class Lens(models.Model):
    alias = models.SlugField(max_length=128, unique=True)
    name = models.CharField(max_length=128)
    description = models.TextField(max_length=2048, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who imported it first; empty for the built-in lens.",
    )
    is_builtin = models.BooleanField(default=False, editable=False)
    tags = models.JSONField(default=dict, blank=True, help_text="Key-value tags (from the API).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LensQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "lenses"

    def __str__(self) -> str:
        return self.name


class LensVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> LensVersionQuerySet:
        if user.is_staff:
            return self
        return self.exclude(status=LensVersion.Status.DRAFT)

    def published(self) -> LensVersionQuerySet:
        return self.filter(status=LensVersion.Status.PUBLISHED)

    def with_counts(self) -> LensVersionQuerySet:
        return self.annotate(
            pillar_count=Count("pillars", distinct=True),
            question_count=Count("questions", distinct=True),
        )


class LensVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PUBLISHED = "PUBLISHED", "Published"
        DEPRECATED = "DEPRECATED", "Deprecated"

    lens = models.ForeignKey(Lens, on_delete=models.CASCADE, related_name="versions")
    # Empty while a draft: the version name is given when it is published.
    version = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    name = models.CharField(max_length=128)
    description = models.TextField(max_length=2048, blank=True)
    schema_version = models.CharField(max_length=32, blank=True)
    source = models.TextField(help_text="The lens file exactly as it was imported.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the normalised lens document.")
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = LensVersionQuerySet.as_manager()

    class Meta:
        ordering = ["lens", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["lens", "version"],
                condition=~Q(version=""),
                name="lens_version_unique_name",
            ),
            models.UniqueConstraint(
                fields=["lens"],
                condition=Q(status="DRAFT"),
                name="lens_version_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lens.name} {self.label}"

    @property
    def label(self) -> str:
        return self.version or "draft"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Pillar(models.Model):
    lens_version = models.ForeignKey(LensVersion, on_delete=models.CASCADE, related_name="pillars")
    pillar_id = models.CharField(max_length=128)
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["lens_version", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["lens_version", "pillar_id"], name="pillar_unique_id_in_version"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    lens_version = models.ForeignKey(
        LensVersion, on_delete=models.CASCADE, related_name="questions"
    )
    pillar = models.ForeignKey(Pillar, on_delete=models.CASCADE, related_name="questions")
    question_id = models.CharField(max_length=128)
    title = models.CharField(max_length=512)
    description = models.TextField(blank=True)
    helpful_resource_text = models.TextField(blank=True)
    helpful_resource_url = models.URLField(max_length=2048, blank=True)
    additional_resources = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["pillar__order", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["lens_version", "question_id"], name="question_unique_id_in_version"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def risk_for(self, selected_choice_ids: set[str] | frozenset[str]) -> str:
        """The risk of this question for a set of selected choice ids (use prefetched rules)."""
        for rule in self.risk_rules.all():
            if conditions.evaluate(rule.expression, selected_choice_ids):
                return rule.risk
        # Real lenses leave out the `default` rule on some questions: nothing matched means no risk.
        return Risk.NONE


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    choice_id = models.CharField(max_length=128)
    title = models.CharField(max_length=512)
    description = models.TextField(blank=True)
    helpful_resource_text = models.TextField(blank=True)
    helpful_resource_url = models.URLField(max_length=2048, blank=True)
    improvement_plan_text = models.TextField(blank=True)
    improvement_plan_url = models.URLField(max_length=2048, blank=True)
    additional_resources = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField()
    is_none = models.BooleanField(default=False, help_text='The exclusive "None of these" choice.')

    class Meta:
        ordering = ["question", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "choice_id"], name="choice_unique_id_in_question"
            )
        ]

    def __str__(self) -> str:
        return self.title


class RiskRule(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="risk_rules")
    condition = models.TextField(help_text="The condition as written in the lens file.")
    expression = models.JSONField(help_text="The parsed condition (see lenses.conditions).")
    risk = models.CharField(max_length=6, choices=Risk)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["question", "order"]

    def __str__(self) -> str:
        return f"{self.get_risk_display()} when {self.condition}"
