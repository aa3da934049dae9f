"""Fill an Archlens database with a small, believable portfolio to try the app with.

Everything goes through the same services the pages use (answers, improvement items,
milestones), so the audit trail, improvement items and milestone snapshots are real. Only the
milestones' dates are moved into the past afterwards. The same seed gives the same data.
"""

from __future__ import annotations

import datetime
import json
import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from lenses.models import Choice, Lens, LensVersion
from lenses.services import builtin_lens_load, lens_import, lens_version_publish
from reviews.improvements import ItemChange, improvement_item_update
from reviews.milestones import milestone_create
from reviews.models import (
    Answer,
    ChoiceAnswer,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    Milestone,
    Role,
    Workload,
    name_key,
)
from reviews.services import (
    answer_choice_update,
    answer_notes_update,
    lens_review_notes_update,
    workload_add_lens,
    workload_create,
    workload_share,
)

DEMO_PASSWORD = "archlens-demo"
DEMO_EMAIL_DOMAIN = "demo.archlens.invalid"
DEMO_LENS_ALIAS = "demo-data-protection"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str


USERS = [
    DemoUser("facilitator", "Fiona", "Facilitator", "owns most workloads and runs the reviews"),
    DemoUser("contributor", "Colin", "Contributor", "owns two workloads, contributes to the rest"),
    DemoUser("manager", "Mona", "Manager", "reads every workload: start at the dashboard"),
]


@dataclass(frozen=True)
class DemoWorkload:
    name: str
    description: str
    environment: str
    tags: dict[str, str]
    owner: str
    # How likely a best practice is ticked in the first round, and how much of the review
    # is answered by then; every later round improves on both.
    maturity: float
    answered: float
    milestones: int
    data_protection: bool = False


PROD, PRE = Workload.Environment.PRODUCTION, Workload.Environment.PREPRODUCTION
WORKLOADS = [
    DemoWorkload(
        "Payments API",
        "Takes card and wallet payments for the web shop and the mobile app.",
        PROD,
        {"team": "payments", "tier": "1", "cost-centre": "fin-100"},
        "facilitator",
        maturity=0.55,
        answered=0.9,
        milestones=5,
        data_protection=True,
    ),
    DemoWorkload(
        "Customer Portal",
        "Where customers see their orders, invoices and support tickets.",
        PROD,
        {"team": "web", "tier": "2", "cost-centre": "cx-200"},
        "facilitator",
        maturity=0.45,
        answered=0.8,
        milestones=4,
    ),
    DemoWorkload(
        "Order Pipeline",
        "Event-driven order processing between the shop, the warehouse and billing.",
        PROD,
        {"team": "fulfilment", "tier": "1", "cost-centre": "ops-300"},
        "contributor",
        maturity=0.35,
        answered=0.85,
        milestones=4,
    ),
    DemoWorkload(
        "Data Lake",
        "Raw and curated data for analytics and the recommendation models.",
        PRE,
        {"team": "data", "tier": "3", "cost-centre": "dat-400"},
        "facilitator",
        maturity=0.3,
        answered=0.55,
        milestones=3,
        data_protection=True,
    ),
    DemoWorkload(
        "Mobile Backend",
        "APIs and push notifications behind the iOS and Android apps.",
        PROD,
        {"team": "mobile", "tier": "2", "cost-centre": "cx-200"},
        "facilitator",
        maturity=0.5,
        answered=0.75,
        milestones=3,
    ),
    DemoWorkload(
        "Search Service",
        "Product search and autocomplete for the shop.",
        PRE,
        {"team": "web", "tier": "2", "cost-centre": "cx-200"},
        "contributor",
        maturity=0.6,
        answered=0.7,
        milestones=4,
    ),
    DemoWorkload(
        "Internal Wiki",
        "The company wiki: documentation, runbooks and on-call guides.",
        PROD,
        {"team": "it", "tier": "3", "cost-centre": "it-500"},
        "facilitator",
        maturity=0.7,
        answered=0.95,
        milestones=3,
    ),
]
MILESTONE_NAMES = [
    "Baseline",
    "After the first workshop",
    "Mid-year review",
    "Pre-launch",
    "Year-end review",
]
QUESTION_NOTES = [
    "Discussed in the workshop; the team agrees this needs work before the next release.",
    "Owned by the platform team. Follow up with them in the next sprint review.",
    "Partly in place: only the main region is covered so far.",
    "Runbook exists but has not been tested this year.",
]
REVIEW_NOTES = (
    "Reviewed with the team in two sessions. The biggest gaps are in security and reliability; "
    "the improvement plan is agreed with the product owner."
)
ITEM_COMMENTS = [
    "Ticket raised in the team backlog.",
    "Needs budget approval first.",
    "Accepted for now: the service is retired next year.",
    "Pairing with the security team on this.",
]


def data_protection_lens() -> dict:
    """A small custom lens, so the dashboard shows pillars of more than the built-in lens."""
    pillars = {
        "privacy": (
            "Privacy",
            [
                "How do you classify the personal data the workload holds?",
                "How do you limit who can read personal data?",
                "How do you answer requests to see or delete personal data?",
            ],
        ),
        "retention": (
            "Retention",
            [
                "How do you decide how long data is kept?",
                "How do you delete data at the end of its life?",
            ],
        ),
    }
    document = {"schemaVersion": "2021-11-01", "name": "Data Protection", "pillars": []}
    document["description"] = "Questions on personal data, for workloads that hold some."
    for pillar_id, (name, titles) in pillars.items():
        questions = []
        for n, title in enumerate(titles, start=1):
            qid = f"{pillar_id[:3]}{n}"
            ids = [f"{qid}_bp{c}" for c in range(1, 5)]
            practices = ["Documented", "Automated", "Reviewed every year", "Tested"]
            questions.append(
                {
                    "id": qid,
                    "title": title,
                    "description": "See the company data protection policy.",
                    "choices": [
                        {"id": cid, "title": practice}
                        for cid, practice in zip(ids, practices, strict=True)
                    ]
                    + [{"id": f"{qid}_no", "title": "None of these"}],
                    "riskRules": [
                        {"condition": f"!{ids[0]} || !{ids[1]}", "risk": "HIGH_RISK"},
                        {"condition": f"!{ids[2]} || !{ids[3]}", "risk": "MEDIUM_RISK"},
                        {"condition": "default", "risk": "NO_RISK"},
                    ],
                }
            )
        document["pillars"].append({"id": pillar_id, "name": name, "questions": questions})
    return document


class Command(BaseCommand):
    help = (
        "Load demo users, workloads with answers, notes, improvement items and milestones "
        "spread over the past months. Refuses to run twice unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of the demo users (default: {DEMO_PASSWORD}).",
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default: 7).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo users and their workloads first, then load them again.",
        )

    def handle(self, *args, password: str, seed: int, reset: bool, **options):
        if not password:
            raise CommandError("The demo password may not be empty.")
        with transaction.atomic():
            if reset:
                self._reset()
            self._refuse_if_loaded()
            builtin_lens_load()
            loader = _Loader(random.Random(seed), timezone.now())
            users = loader.users(password)
            workloads = loader.workloads(users)
        milestones = Milestone.objects.filter(workload__in=workloads).count()
        items = ImprovementItem.objects.filter(answer__lens_review__workload__in=workloads)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(workloads)} workloads, {milestones} milestones and "
                f"{items.count()} improvement items ({items.filter(is_open=True).count()} open)."
            )
        )
        self.stdout.write(f"Log in at /accounts/login/ with the password “{password}” as:")
        for user in USERS:
            self.stdout.write(f"  {user.username:<12} {user.role}")

    def _demo_users(self):
        return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")

    def _reset(self) -> None:
        demo_users = self._demo_users()
        Workload.objects.filter(owner__in=demo_users).delete()
        demo_users.delete()

    def _refuse_if_loaded(self) -> None:
        names = [user.username for user in USERS]
        taken = User.objects.filter(username__in=names)
        if taken.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists():
            raise CommandError(
                "The demo data is loaded already. Run with --reset to delete it and load it again."
            )
        if taken.exists():
            raise CommandError(
                f"There are users named {', '.join(taken.values_list('username', flat=True))} "
                "who are not demo users; the demo needs these names, so nothing was loaded."
            )
        # Names are unique whatever their case and spaces.
        keys = [name_key(w.name) for w in WORKLOADS]
        clash = Workload.objects.filter(name_key__in=keys).first()
        if clash is not None:
            raise CommandError(
                f"A workload named “{clash.name}” exists already; nothing was loaded."
            )


class _Loader:
    def __init__(self, rng: random.Random, now: datetime.datetime):
        self.rng = rng
        self.now = now

    def users(self, password: str) -> dict[str, User]:
        users = {}
        for demo in USERS:
            user = User(
                username=demo.username,
                first_name=demo.first_name,
                last_name=demo.last_name,
                email=f"{demo.username}@{DEMO_EMAIL_DOMAIN}",
            )
            user.set_password(password)
            user.save()
            users[demo.username] = user
        return users

    def workloads(self, users: dict[str, User]) -> list[Workload]:
        lens = self._data_protection_lens()
        created = []
        for demo in WORKLOADS:
            owner = users[demo.owner]
            workload = workload_create(
                owner=owner,
                name=demo.name,
                description=demo.description,
                environment=demo.environment,
                review_owner=f"{owner.first_name} {owner.last_name}",
                tags=demo.tags,
                regions=["eu-west-1", "eu-central-1"][: 1 + (len(demo.name) % 2)],
                industry_type=Workload.IndustryType.RETAIL,
                notes=f"Demo workload owned by the {demo.tags['team']} team.",
            )
            other = users["contributor" if demo.owner == "facilitator" else "facilitator"]
            workload_share(workload=workload, user=other, role=Role.CONTRIBUTOR)
            workload_share(workload=workload, user=users["manager"], role=Role.READONLY)
            if demo.data_protection:
                workload_add_lens(workload=workload, lens=lens)
            self._review(workload, demo, [owner, other])
            created.append(workload)
        return created

    def _data_protection_lens(self) -> Lens:
        lens = Lens.objects.filter(alias=DEMO_LENS_ALIAS).first()
        if lens and lens.versions.filter(status=LensVersion.Status.PUBLISHED).exists():
            return lens
        raw = json.dumps(data_protection_lens()).encode()
        version = lens_import(raw=raw, alias=DEMO_LENS_ALIAS)
        version = lens_version_publish(lens_version=version, version="1.0")
        return version.lens

    # -- one workload's review history --------------------------------------------------------

    def _review(self, workload: Workload, demo: DemoWorkload, people: list[User]) -> None:
        """Answer in rounds, saving a milestone after each round but the last (that is now)."""
        answers = list(
            Answer.objects.filter(lens_review__workload=workload)
            .select_related("question", "lens_review")
            .order_by("lens_review__lens__name", "question__pillar__order", "question__order")
        )
        choices: dict[int, list[Choice]] = {}
        for choice in Choice.objects.filter(question__in=[a.question_id for a in answers]).order_by(
            "order"
        ):
            choices.setdefault(choice.question_id, []).append(choice)
        selected: dict[int, set[str]] = {answer.pk: set() for answer in answers}
        rounds = demo.milestones + 1
        for number in range(1, rounds + 1):
            progress = (number - 1) / (rounds - 1)
            maturity = demo.maturity + (0.95 - demo.maturity) * progress
            # The first round answers most of the review; each later one a part of the rest.
            answering = demo.answered if number == 1 else 0.3
            for answer in answers:
                options = choices[answer.question_id]
                current = selected[answer.pk]
                if current and self.rng.random() > 0.4:
                    continue  # most answers stay as they were in a later round
                if not current and self.rng.random() > answering:
                    continue  # not answered yet
                wanted = self._pick(options, current, maturity)
                user = self.rng.choice(people)
                self._set_choices(answer, options, current, wanted, user)
                selected[answer.pk] = wanted
            if number < rounds:
                milestone_create(
                    workload=workload, name=MILESTONE_NAMES[number - 1], user=people[0]
                )
        self._date_milestones(workload, demo)
        self._notes(workload, answers, people)
        self._improvements(workload, people)

    def _pick(self, options: list[Choice], current: set[str], maturity: float) -> set[str]:
        """The practices ticked in this round: earlier ones mostly stay, new ones come."""
        practices = [c.choice_id for c in options if not c.is_none]
        wanted = {c for c in practices if c in current and self.rng.random() > 0.05}
        wanted |= {c for c in practices if self.rng.random() < maturity}
        if not wanted:
            return {next(c.choice_id for c in options if c.is_none)}
        return wanted

    def _set_choices(
        self,
        answer: Answer,
        options: list[Choice],
        current: set[str],
        wanted: set[str],
        user: User,
    ) -> None:
        """Tick and untick choices through the answer service, one at a time."""
        # Tick first, then untick what went away. Ticking a practice unticks "none of these"
        # and ticking "none of these" unticks every practice, as on the question page.
        none_ids = {c.choice_id for c in options if c.is_none}
        state = set(current)
        for choice_id in sorted(wanted - current):
            answer, _ = answer_choice_update(
                answer=answer, choice_id=choice_id, status=ChoiceAnswer.Status.SELECTED, user=user
            )
            state = {choice_id} if choice_id in none_ids else (state - none_ids) | {choice_id}
        for choice_id in sorted(state - wanted):
            answer, _ = answer_choice_update(
                answer=answer,
                choice_id=choice_id,
                status=ChoiceAnswer.Status.UNSELECTED,
                user=user,
            )

    def _date_milestones(self, workload: Workload, demo: DemoWorkload) -> None:
        """Spread the milestones over the past months, the last one a few weeks ago."""
        span = 9 + len(demo.name) % 4  # months back to the first milestone
        count = demo.milestones
        for index, milestone in enumerate(workload.milestones.order_by("number")):
            months_back = span - index * (span - 1) / max(count - 1, 1)
            days = int(months_back * 30.4) + self.rng.randint(-5, 5)
            when = self.now - datetime.timedelta(days=max(days, 14), hours=self.rng.randint(0, 8))
            Milestone.objects.filter(pk=milestone.pk).update(recorded_at=when)

    def _notes(self, workload: Workload, answers: list[Answer], people: list[User]) -> None:
        for review in LensReview.objects.filter(workload=workload, lens__is_builtin=True):
            lens_review_notes_update(
                lens_review=review, notes=REVIEW_NOTES, base_version=0, user=people[0]
            )
        for pk in self.rng.sample([a.pk for a in answers], k=4):
            answer = Answer.objects.select_related("question", "lens_review").get(pk=pk)
            answer_notes_update(
                answer=answer,
                notes=self.rng.choice(QUESTION_NOTES),
                base_version=answer.notes_version,
                user=self.rng.choice(people),
            )

    def _improvements(self, workload: Workload, people: list[User]) -> None:
        """Give open items a status, an assignee, sometimes a comment or a missed due date."""
        statuses = [
            ImprovementStatus.NOT_STARTED,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.IN_PROGRESS,
            ImprovementStatus.RISK_ACKNOWLEDGED,
            ImprovementStatus.COMPLETE,
        ]
        items = ImprovementItem.objects.filter(
            answer__lens_review__workload=workload, is_open=True
        ).order_by("pk")
        today = timezone.localdate()
        for item in items:
            status = self.rng.choice(statuses)
            due = item.due_date
            if status in (ImprovementStatus.NOT_STARTED, ImprovementStatus.IN_PROGRESS) and (
                self.rng.random() < 0.15
            ):
                due = today - datetime.timedelta(days=self.rng.randint(3, 40))
            improvement_item_update(
                item=item,
                change=ItemChange(
                    status=status,
                    assignee_id=self.rng.choice(people).pk if self.rng.random() < 0.8 else None,
                    due_date=due,
                    # An acknowledged risk always says why (improvement_item_update checks it).
                    comment=self.rng.choice(ITEM_COMMENTS)
                    if self.rng.random() < 0.4 or status == ImprovementStatus.RISK_ACKNOWLEDGED
                    else "",
                ),
                user=people[0],
            )
