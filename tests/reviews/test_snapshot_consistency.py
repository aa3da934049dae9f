"""A snapshot (milestone, current-state report, export) is one state, even with ticks in flight."""

import random
import threading

import pytest
from django.db import connection, connections

from lenses.models import Question
from reviews.milestones import milestone_create
from reviews.models import Answer, ChoiceAnswer
from reviews.portability import workload_export
from reviews.services import answer_choice_update
from reviews.snapshots import workload_snapshots

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one writer at a time; the race needs PostgreSQL",
)

QUESTIONS = ["ops1", "ops2", "ops3"]
RISKY = ("HIGH", "MEDIUM")
WRITERS = 4
SNAPSHOTS = 40


class Ticking:
    """Writer threads ticking and unticking choices of ops1-ops3 until stopped."""

    def __init__(self, workload, users):
        self.answers = list(
            Answer.objects.select_related("question", "lens_review").filter(
                lens_review__workload=workload, question__question_id__in=QUESTIONS
            )
        )
        self.choices = {
            answer.pk: list(answer.question.choices.values_list("choice_id", flat=True))
            for answer in self.answers
        }
        self.users = users
        self.stop = threading.Event()
        self.errors = []
        self.ticks = 0
        self.threads = [threading.Thread(target=self._tick, args=(n,)) for n in range(WRITERS)]

    def _tick(self, seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not self.stop.is_set():
                answer = rng.choice(self.answers)
                answer_choice_update(
                    answer=answer,
                    choice_id=rng.choice(self.choices[answer.pk]),
                    status=rng.choice(
                        [ChoiceAnswer.Status.SELECTED, ChoiceAnswer.Status.UNSELECTED]
                    ),
                    user=rng.choice(self.users),
                )
                self.ticks += 1
        except Exception as exc:  # reported by the test: a thread's exception would be lost
            self.errors.append(exc)
        finally:
            connections.close_all()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not self.errors, self.errors


def contradictions(lens_reviews: list[dict], label: str) -> list[str]:
    """Frozen questions whose risk is not what the lens's rules give for their frozen ticks, or
    whose improvement item is open when the question is not risky (or the other way round)."""
    questions = {
        q.question_id: q
        for q in Question.objects.filter(question_id__in=QUESTIONS).prefetch_related("risk_rules")
    }
    found = []
    for snapshot in lens_reviews:
        for pillar in snapshot["pillars"]:
            for question in pillar["questions"]:
                if question["id"] not in questions:
                    continue
                ticked = {c["id"] for c in question["choices"] if c["status"] == "SELECTED"}
                if not question["is_applicable"]:
                    expected = "NOT_APPLICABLE"
                elif not ticked:
                    expected = "UNANSWERED"
                else:
                    expected = questions[question["id"]].risk_for(ticked)
                if question["risk"] != expected:
                    found.append(
                        f"{label} froze {question['id']} as {question['risk']} "
                        f"with {sorted(ticked)} ticked ({expected} by the rules)"
                    )
                if (question["improvement"] is not None) != (question["risk"] in RISKY):
                    found.append(
                        f"{label} froze {question['id']} as {question['risk']} "
                        f"with improvement {question['improvement']}"
                    )
    return found


@pytest.mark.django_db(transaction=True)
def test_every_milestone_saved_while_people_tick_freezes_risks_that_match_its_ticks(
    workload, alice, bob
):
    with Ticking(workload, [alice, bob]) as ticking:
        milestones = [
            milestone_create(workload=workload, name=f"Milestone {n}", user=alice)
            for n in range(1, SNAPSHOTS + 1)
        ]
    assert ticking.ticks > SNAPSHOTS  # the writers really were ticking meanwhile

    found = []
    for milestone in milestones:
        milestone.refresh_from_db()
        found += contradictions(milestone.data["lens_reviews"], f"milestone {milestone.number}")
    assert not found, found


@pytest.mark.django_db(transaction=True)
def test_every_current_state_read_while_people_tick_holds_risks_that_match_its_ticks(
    workload, alice, bob
):
    # What the milestones and compare pages show as "now", and lens review reports render.
    with Ticking(workload, [alice, bob]) as ticking:
        states = [workload_snapshots(workload) for _ in range(SNAPSHOTS)]
    assert ticking.ticks > SNAPSHOTS

    found = []
    for n, state in enumerate(states, start=1):
        found += contradictions(state, f"state {n}")
    assert not found, found


def export_as_snapshot(document: dict) -> list[dict]:
    """The export's answers in the shape `contradictions` reads."""
    return [
        {
            "pillars": [
                {
                    "questions": [
                        {
                            "id": answer["question"],
                            "risk": answer["risk"],
                            "is_applicable": answer["is_applicable"],
                            "improvement": (
                                answer["improvement"]
                                if answer["improvement"] and answer["improvement"]["is_open"]
                                else None
                            ),
                            "choices": [
                                {"id": row["choice"], "status": row["status"]}
                                for row in answer["choices"]
                            ],
                        }
                        for answer in review["answers"]
                    ]
                }
            ]
        }
        for review in document["lens_reviews"]
    ]


@pytest.mark.django_db(transaction=True)
def test_every_export_written_while_people_tick_holds_risks_that_match_its_ticks(
    workload, alice, bob
):
    with Ticking(workload, [alice, bob]) as ticking:
        documents = [workload_export(workload=workload) for _ in range(SNAPSHOTS)]
    assert ticking.ticks > SNAPSHOTS

    found = []
    for n, document in enumerate(documents, start=1):
        found += contradictions(export_as_snapshot(document), f"export {n}")
    assert not found, found
