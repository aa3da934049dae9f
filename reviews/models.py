from __future__ import annotations

import re
import uuid

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from lenses.models import Choice, Lens, LensVersion, Pillar, Question

NOTES_MAX = 2084
CHOICE_NOTES_MAX = 250
MAX_EXTRA_LENSES = 20


def _public_id() -> str:
    return uuid.uuid4().hex


def name_key(name: str) -> str:
    """What makes two workload or milestone names the same: case and spaces do not count."""
    return re.sub(r"\s+", "", name).casefold()


class Role(models.TextChoices):
    OWNER = "OWNER", "Owner"
    CONTRIBUTOR = "CONTRIBUTOR", "Contributor"
    READONLY = "READONLY", "Read-only"


WRITE_ROLES = (Role.OWNER, Role.CONTRIBUTOR)


def _teams_of(user) -> models.QuerySet:
    """The ids of the user's teams, as a subquery (people.models imports this module)."""
    return apps.get_model("people", "TeamMember").objects.filter(user=user).values("team_id")


def _role_on(user, workload: str) -> models.Case:
    """The user's strongest role on the workload at `workload` (a path to its primary key) among
    those that give access: their own share, their teams' shares, READONLY for a portfolio
    viewer. Only for rows that `_access` keeps: what is neither owner nor contributor reads.
    """

    def shared(model, role: str, **who) -> models.Exists:
        return models.Exists(
            model.objects.filter(workload=models.OuterRef(workload), role=role, **who)
        )

    contributes = shared(WorkloadMember, Role.CONTRIBUTOR, user=user) | shared(
        WorkloadTeamShare, Role.CONTRIBUTOR, team__in=_teams_of(user)
    )
    return models.Case(
        models.When(shared(WorkloadMember, Role.OWNER, user=user), then=models.Value(Role.OWNER)),
        models.When(contributes, then=models.Value(Role.CONTRIBUTOR)),
        default=models.Value(Role.READONLY),
        output_field=models.CharField(),
    )


# Strongest first.
ROLE_STRENGTH = (Role.OWNER, Role.CONTRIBUTOR, Role.READONLY)


def strongest_role(*roles: str | None) -> str | None:
    """The strongest of the roles given (None and "" stand for no role); None when there is none."""
    held = [role for role in roles if role]
    return min(held, key=ROLE_STRENGTH.index) if held else None


def role_annotations(user, workload: str) -> dict[str, models.Expression]:
    """What decides the user's role on one workload (at the path `workload`), for the lookups of
    a single workload, lens review or answer that every page and API operation starts with:
    the role of their own share (`own_role`), the strongest role of their teams' shares
    (`team_role`) and whether they are a portfolio viewer (`is_viewer`). `role_from` turns
    these into the role. Rows are not filtered: a row without a role is one the user may not
    reach.

    Three small indexed lookups on the one row found and no filter, where `_access` and
    `_role_on` (made for lists) cost several milliseconds per request to build and to plan.
    """
    # No ordering: a share's default one would join the user and the workload to sort one row.
    own = WorkloadMember.objects.filter(workload=models.OuterRef(workload), user=user.pk).order_by()
    # A team share is CONTRIBUTOR or READONLY, and in the alphabet the stronger comes first.
    team = WorkloadTeamShare.objects.filter(
        workload=models.OuterRef(workload), team__in=_teams_of(user)
    ).order_by("role")
    viewer = apps.get_model("people", "Profile").objects.filter(
        user=user.pk, is_portfolio_viewer=True
    )
    return {
        "own_role": models.Subquery(own.values("role")[:1]),
        "team_role": models.Subquery(team.values("role")[:1]),
        "is_viewer": models.Exists(viewer),
    }


def role_from(row) -> str | None:
    """The user's role from the annotations of `role_annotations`; None when they have no access."""
    return strongest_role(row.own_role, row.team_role, Role.READONLY if row.is_viewer else None)


def _access(user, workload: str) -> Q:
    """Rows whose workload (at the path `workload`) the user may read.

    Subqueries rather than joins, so that no row is repeated when a user holds several shares
    and a query that aggregates over the workloads counts each once; the portfolio viewer's
    test does not depend on the row, so the database runs it once per query.
    """
    own = WorkloadMember.objects.filter(user=user).values("workload_id")
    teams = WorkloadTeamShare.objects.filter(team__in=_teams_of(user)).values("workload_id")
    viewer = get_user_model().objects.filter(pk=user.pk, profile__is_portfolio_viewer=True)
    return (
        Q(**{f"{workload}__in": own}) | Q(**{f"{workload}__in": teams}) | Q(models.Exists(viewer))
    )


def can_have_access(user) -> bool:
    """Anonymous visitors and deactivated accounts reach no workload, whatever they were given."""
    return user.is_authenticated and user.is_active


class WorkloadQuerySet(models.QuerySet):
    def for_user(self, user) -> WorkloadQuerySet:
        """Workloads shared with the user (by themselves or through a team), every workload for
        a portfolio viewer; staff get no extra access."""
        if not can_have_access(user):
            return self.none()
        return self.filter(_access(user, "pk"))

    def with_role(self, user) -> WorkloadQuerySet:
        """Adds `role`: the strongest role the user holds on each workload."""
        return self.for_user(user).annotate(role=_role_on(user, "pk"))

    def with_role_among(self, user, ids: list[int]) -> WorkloadQuerySet:
        """The workloads `ids` with `role`, as with_role gives them, where a query through
        for_user found those ids under the portfolio's current stamps (reviews.dashboard.cached):
        whom the user may see is not worked out again, which reads every share of theirs."""
        if not can_have_access(user):
            return self.none()
        return self.filter(pk__in=ids).annotate(role=_role_on(user, "pk"))

    def of_team(self, team_name: str) -> WorkloadQuerySet:
        """The workloads the team works on: shared with the team, or owned by one of its members
        (a team is named as people type it: case and spaces do not count)."""
        key = name_key(team_name)
        shared = WorkloadTeamShare.objects.filter(team__name_key=key).values("workload_id")
        owners = get_user_model().objects.filter(team_memberships__team__name_key=key)
        return self.filter(Q(pk__in=shared) | Q(owner__in=owners.values("pk")))


def sharing_users(workload_id: int | models.QuerySet) -> models.QuerySet:
    """Active users the workload is shared with, themselves or through a team, by username.

    Those its work can be given to (improvement items): portfolio viewers read every workload
    and are not among them unless it was shared with them. `workload_id`: its id or a query of
    it.
    """
    lookup = "workload__in" if isinstance(workload_id, models.QuerySet) else "workload"
    own = WorkloadMember.objects.filter(**{lookup: workload_id}).values("user_id")
    teams = WorkloadTeamShare.objects.filter(**{lookup: workload_id}).values(
        "team__memberships__user_id"
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(pk__in=own) | Q(pk__in=teams))
        .order_by("username")
    )


class Workload(models.Model):
    class Environment(models.TextChoices):
        PRODUCTION = "PRODUCTION", "Production"
        PREPRODUCTION = "PREPRODUCTION", "Pre-production"

    class IndustryType(models.TextChoices):
        AGRICULTURE = "Agriculture", "Agriculture"
        AUTOMOTIVE = "Automotive", "Automotive"
        DEFENSE = "Defense", "Defense"
        EDUCATION = "Education", "Education"
        ENERGY = "Energy", "Energy"
        FINANCIAL_SERVICES = "Financial Services", "Financial services"
        GAMING = "Gaming", "Gaming"
        GOVERNMENT = "Government", "Government"
        HEALTHCARE = "Healthcare", "Healthcare"
        HOSPITALITY = "Hospitality", "Hospitality"
        LIFE_SCIENCES = "Life Sciences", "Life sciences"
        MANUFACTURING = "Manufacturing", "Manufacturing"
        MARKETING = "Marketing and Advertising", "Marketing and advertising"
        MEDIA = "Media and Entertainment", "Media and entertainment"
        MINING = "Mining", "Mining"
        NON_PROFIT = "Non-Profit Organization", "Non-profit organisation"
        POWER = "Power and Utilities", "Power and utilities"
        PROFESSIONAL = "Professional Services", "Professional services"
        REAL_ESTATE = "Real Estate and Construction", "Real estate and construction"
        RETAIL = "Retail", "Retail"
        SOFTWARE = "Software and Internet", "Software and internet"
        TELECOMMUNICATIONS = "Telecommunications", "Telecommunications"
        TRANSPORTATION = "Transportation and Logistics", "Transportation and logistics"
        TRAVEL = "Travel", "Travel"
        WHOLESALE = "Wholesale and Distribution", "Wholesale and distribution"
        OTHER = "Other", "Other"

    public_id = models.CharField(max_length=32, unique=True, default=_public_id, editable=False)
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, unique=True, editable=False)
    description = models.CharField(max_length=250)
    environment = models.CharField(max_length=13, choices=Environment)
    regions = models.JSONField(default=list, blank=True)
    review_owner = models.CharField(max_length=255)
    architectural_design_url = models.URLField(max_length=2048, blank=True)
    industry_type = models.CharField(max_length=64, choices=IndustryType, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    pillar_priorities = models.JSONField(default=list, blank=True)
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_workloads"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkloadQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class WorkloadMember(models.Model):
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workload_memberships"
    )
    role = models.CharField(max_length=11, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workload", "user__username"]
        # The workloads shared with a user, by role, read from the index alone: every list of
        # their workloads starts there (WorkloadQuerySet.for_user, with_role).
        indexes = [
            models.Index(fields=["user", "role", "workload"], name="member_workloads_of_user")
        ]
        constraints = [
            models.UniqueConstraint(fields=["workload", "user"], name="member_once_per_workload"),
            models.UniqueConstraint(
                fields=["workload"], condition=Q(role="OWNER"), name="one_owner_per_workload"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.workload}"


SHARE_ROLES = (Role.CONTRIBUTOR, Role.READONLY)


class WorkloadTeamShare(models.Model):
    """A workload shared with a team: each of its members gets at least this role."""

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="team_shares")
    team = models.ForeignKey(
        "people.Team", on_delete=models.CASCADE, related_name="workload_shares"
    )
    role = models.CharField(
        max_length=11, choices=[(role.value, role.label) for role in SHARE_ROLES]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workload", "team__name_key"]
        constraints = [
            models.UniqueConstraint(fields=["workload", "team"], name="team_once_per_workload"),
        ]

    def __str__(self) -> str:
        return f"{self.team} ({self.get_role_display()}) on {self.workload}"


class WorkloadActivity(models.Model):
    """One change of who may do what with a workload, or one thing that left it (an export).

    `detail` keeps the names involved as they were, so the log reads the same after a user or
    team is renamed or deleted.
    """

    class Action(models.TextChoices):
        SHARED = "SHARED", "Shared"
        SHARE_CHANGED = "SHARE_CHANGED", "Share changed"
        UNSHARED = "UNSHARED", "Share revoked"
        TEAM_SHARED = "TEAM_SHARED", "Shared with a team"
        TEAM_SHARE_CHANGED = "TEAM_SHARE_CHANGED", "Team share changed"
        TEAM_UNSHARED = "TEAM_UNSHARED", "Team share revoked"
        TRANSFERRED = "TRANSFERRED", "Ownership handed over"
        MILESTONE = "MILESTONE", "Milestone saved"
        LENS_UPGRADED = "LENS_UPGRADED", "Lens upgraded"
        EXPORTED = "EXPORTED", "Exported"

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="activity")
    at = models.DateTimeField(auto_now_add=True)
    # Who did it; None for a command run on the server.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=18, choices=Action)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["workload", "-at"], name="activity_newest_first")]
        verbose_name_plural = "workload activity"

    def __str__(self) -> str:
        return f"{self.get_action_display()} on {self.workload} at {self.at:%Y-%m-%d %H:%M}"


class LensReview(models.Model):
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="lens_reviews")
    lens = models.ForeignKey(Lens, on_delete=models.PROTECT, related_name="+")
    lens_version = models.ForeignKey(LensVersion, on_delete=models.PROTECT, related_name="+")
    # Removing a lens from a workload only hides its review, so adding it back restores answers.
    is_active = models.BooleanField(default=True)
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    notes_version = models.PositiveIntegerField(default=0)
    # Bumped by every change in the review; pages poll it to learn that something changed.
    version = models.PositiveIntegerField(default=0)
    # Bumped only when the risk of one of its answers changes. Every count of answered and risky
    # questions follows from the risks alone, so the question page's sidebar and pillar counts
    # stay as they are until this moves (see reviews.views.answers.poll_token).
    risk_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workload", "-lens__is_builtin", "lens__name"]
        constraints = [
            models.UniqueConstraint(fields=["workload", "lens"], name="one_review_per_lens")
        ]

    def __str__(self) -> str:
        return f"{self.workload} / {self.lens}"


class PillarNote(models.Model):
    lens_review = models.ForeignKey(
        LensReview, on_delete=models.CASCADE, related_name="pillar_notes"
    )
    pillar = models.ForeignKey(Pillar, on_delete=models.CASCADE, related_name="+")
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    notes_version = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lens_review", "pillar"], name="one_note_per_pillar")
        ]

    def __str__(self) -> str:
        return f"Notes on {self.pillar} in {self.lens_review}"


class AnswerRisk(models.TextChoices):
    UNANSWERED = "UNANSWERED", "Unanswered"
    HIGH = "HIGH", "High risk"
    MEDIUM = "MEDIUM", "Medium risk"
    NONE = "NONE", "No risk"
    NOT_APPLICABLE = "NOT_APPLICABLE", "Not applicable"


class Reason(models.TextChoices):
    OUT_OF_SCOPE = "OUT_OF_SCOPE", "Out of scope"
    BUSINESS_PRIORITIES = "BUSINESS_PRIORITIES", "Business priorities"
    ARCHITECTURE_CONSTRAINTS = "ARCHITECTURE_CONSTRAINTS", "Architecture constraints"
    OTHER = "OTHER", "Other"
    NONE = "NONE", "None"


class Answer(models.Model):
    lens_review = models.ForeignKey(LensReview, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    is_applicable = models.BooleanField(default=True)
    reason = models.CharField(max_length=24, choices=Reason, default=Reason.NONE)
    notes = models.TextField(max_length=NOTES_MAX, blank=True)
    notes_version = models.PositiveIntegerField(default=0)
    notes_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    risk = models.CharField(max_length=14, choices=AnswerRisk, default=AnswerRisk.UNANSWERED)
    # Bumped by every change of this answer: its choices, applicability, notes and history.
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The review template this answer came from, and a fingerprint of the state the template
    # left it in (review_templates.fingerprints): propagation updates only answers whose state
    # still matches, so what a workload changed itself is never overwritten.
    template = models.ForeignKey(
        "review_templates.ReviewTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answers",
    )
    template_state = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lens_review", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lens_review}: {self.question.question_id}"


class ChoiceAnswer(models.Model):
    class Status(models.TextChoices):
        SELECTED = "SELECTED", "Selected"
        NOT_APPLICABLE = "NOT_APPLICABLE", "Not applicable"
        UNSELECTED = "UNSELECTED", "Unselected"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="choice_answers")
    choice = models.ForeignKey(Choice, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=14, choices=Status, default=Status.UNSELECTED)
    reason = models.CharField(max_length=24, choices=Reason, default=Reason.NONE)
    notes = models.CharField(max_length=CHOICE_NOTES_MAX, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "choice"], name="one_row_per_choice")
        ]

    def __str__(self) -> str:
        return f"{self.choice.choice_id}: {self.get_status_display()}"


class AnswerEvent(models.Model):
    # Indexed by the two ways a history is read (Meta.indexes), which both start with it.
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    # [{"field": "choice:sec1_bp1", "label": "...", "before": ..., "after": ...}, ...]
    changes = models.JSONField()
    # The answer's version this change made, when one person's change made it (a tick, notes,
    # applicability): a question page behind by a few versions is sent only what they changed.
    # Empty where many answers change at once (templates, upgrades, restores).
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        # A workshop adds hundreds of entries to an answer in an hour, and each question page
        # and poll reads its latest entries or those since a version: without these every
        # read went through all of the answer's entries (reviews.selectors.answer_history).
        indexes = [
            models.Index(fields=["answer", "-at", "-id"], name="answer_history_latest"),
            models.Index(fields=["answer", "version"], name="answer_history_versions"),
        ]

    def __str__(self) -> str:
        return f"{self.user} changed {self.answer} at {self.at:%Y-%m-%d %H:%M}"


class ImprovementStatus(models.TextChoices):
    NOT_STARTED = "NOT_STARTED", "Not started"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    COMPLETE = "COMPLETE", "Complete"
    RISK_ACKNOWLEDGED = "RISK_ACKNOWLEDGED", "Risk acknowledged"


class ImprovementItem(models.Model):
    """The work to remove the risk of one question; it lives as long as the answer does."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="improvement")
    status = models.CharField(
        max_length=17, choices=ImprovementStatus, default=ImprovementStatus.NOT_STARTED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    comment = models.TextField(max_length=NOTES_MAX, blank=True)
    # Closed automatically when the question stops being risky, reopened when the risk returns.
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Improve {self.answer}"


class ImprovementEvent(models.Model):
    item = models.ForeignKey(ImprovementItem, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.text


MAX_MILESTONES = 100


class Milestone(models.Model):
    """A frozen copy of every lens review of a workload: later changes never touch it."""

    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="milestones")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, editable=False)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Totals over all lens reviews, kept beside the copy so trends need no JSON parsing.
    high_count = models.PositiveIntegerField(default=0)
    medium_count = models.PositiveIntegerField(default=0)
    answered_count = models.PositiveIntegerField(default=0)
    question_count = models.PositiveIntegerField(default=0)
    # The workload's score (reviews.scores) from the frozen copy, kept for the trend too.
    score = models.FloatField(null=True, blank=True)
    data = models.JSONField(help_text="The frozen lens reviews; see reviews.milestones.")

    class Meta:
        ordering = ["workload", "number"]
        constraints = [
            models.UniqueConstraint(fields=["workload", "number"], name="milestone_number_unique"),
            models.UniqueConstraint(fields=["workload", "name_key"], name="milestone_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workload} milestone {self.number}: {self.name}"

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)


class Branding(models.Model):
    """The organisation's name and logo on report covers and page headers (one row)."""

    organisation_name = models.CharField(max_length=100, blank=True)
    logo = models.ImageField(upload_to="branding/", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.organisation_name or "Branding"

    @classmethod
    def current(cls) -> Branding:
        return cls.objects.first() or cls()


class Report(models.Model):
    class Kind(models.TextChoices):
        LENS_REVIEW = "LENS_REVIEW", "Lens review"
        CONSOLIDATED = "CONSOLIDATED", "Consolidated"

    class Format(models.TextChoices):
        PDF = "PDF", "PDF"
        JSON = "JSON", "JSON"
        XLSX = "XLSX", "Excel"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    kind = models.CharField(max_length=12, choices=Kind)
    format = models.CharField(max_length=4, choices=Format, default=Format.PDF)
    workload = models.ForeignKey(
        Workload, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    lens = models.ForeignKey(
        Lens, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    # For consolidated reports: the dashboard filters it was asked with.
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=7, choices=Status, default=Status.QUEUED)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written by the build every REPORT_HEARTBEAT_SECONDS: a RUNNING report whose heartbeat
    # stopped has lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery worker (host name) of the latest attempt, for whoever looks into a failure.
    worker = models.CharField(max_length=255, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} report {self.pk} ({self.get_status_display()})"


class PillarCounts(models.Model):
    """What the answers of one pillar in one lens review add up to, kept as they change.

    The dashboard and the workload list read these rows instead of counting answers, so their
    cost follows the number of workloads and pillars, not of answers. reviews.counts moves them
    in the transaction of every change of an answer; `manage.py check_counts` recounts them.
    Rows of a removed lens review stay (adding the lens back brings its answers back); readers
    skip them. Milestones keep their own frozen counts: these are for the live state only.
    """

    lens_review = models.ForeignKey(
        LensReview, on_delete=models.CASCADE, related_name="pillar_counts"
    )
    pillar = models.ForeignKey(Pillar, on_delete=models.CASCADE, related_name="+")
    # Questions per risk (AnswerRisk).
    unanswered = models.PositiveIntegerField(default=0)
    high = models.PositiveIntegerField(default=0)
    medium = models.PositiveIntegerField(default=0)
    none = models.PositiveIntegerField(default=0)
    not_applicable = models.PositiveIntegerField(default=0)
    # Best practices, as reviews.scores.Practices counts them.
    followed = models.PositiveIntegerField(default=0)
    applicable = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lens_review", "pillar"], name="counts_once_per_pillar")
        ]
        verbose_name_plural = "pillar counts"

    def __str__(self) -> str:
        return f"Counts of {self.pillar} in {self.lens_review}"


class PortfolioChange(models.Model):
    """One change of a workload, of whom it is shared with or of one of its lens reviews, or
    (no workload) of something that may concern every workload: teams, their members, who
    reads the whole portfolio, the users' names.

    Written by database triggers (migration 0013) in the transaction of the change, so that no
    way of writing (services, bulk updates, the admin, restores) can miss one. Only ever
    inserted, so writers never wait for each other here; reviews.dashboard counts them per
    slice of workloads as the keys of its cache, and now and then folds them into
    PortfolioStamp.
    """

    class Kind(models.TextChoices):
        WORKLOADS = "w"  # the workload, its shares, or (no workload) everyone's access
        REVIEWS = "r"  # its lens reviews: answers, notes, versions, removal

    # No foreign key: a removed workload leaves its change behind.
    workload_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=1, choices=Kind)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of workload {self.workload_id or 'any'}"


class PortfolioStamp(models.Model):
    """How many PortfolioChanges of one kind one slice of workloads has had before the last
    fold (reviews.dashboard.slice_stamps); part -1 holds those of no workload. The slices are
    reviews.dashboard.SLICE consecutive workload ids wide."""

    part = models.IntegerField()
    kind = models.CharField(max_length=1, choices=PortfolioChange.Kind)
    changes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["part", "kind"], name="one_stamp_per_part_and_kind")
        ]

    def __str__(self) -> str:
        return f"{self.changes} changes of kind {self.kind} in slice {self.part}"
