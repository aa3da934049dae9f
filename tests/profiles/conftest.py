import pytest

from profiles.models import Profile
from profiles.services import builtin_profiles_load, profile_save, workload_profile_set
from reviews.models import Answer
from reviews.services import answer_choice_update

# A profile of two questions: "regulated" prioritises sec2 and rel6 and puts security and
# reliability first; "public" prioritises perf4. Its second question takes several choices.
QUESTIONS = [
    {
        "id": "data",
        "title": "Which data does it hold?",
        "description": "",
        "selectionType": "SINGLE",
        "choices": [
            {
                "id": "regulated",
                "title": "Regulated data",
                "description": "",
                "prioritises": [
                    {"lens": "wellarchitected", "question": "sec2"},
                    {"lens": "wellarchitected", "question": "rel6"},
                ],
                "pillarOrder": ["security", "reliability"],
            },
            {
                "id": "public",
                "title": "Public data only",
                "description": "",
                "prioritises": [{"lens": "wellarchitected", "question": "perf4"}],
                "pillarOrder": [],
            },
        ],
    },
    {
        "id": "users",
        "title": "Who uses it?",
        "description": "Tick every group.",
        "selectionType": "MULTIPLE",
        "choices": [
            {
                "id": "staff",
                "title": "Staff",
                "description": "",
                "prioritises": [{"lens": "wellarchitected", "question": "ops1"}],
                "pillarOrder": [],
            },
            {
                "id": "customers",
                "title": "Customers",
                "description": "",
                "prioritises": [{"lens": "wellarchitected", "question": "sec2"}],
                "pillarOrder": [],
            },
        ],
    },
]


def document(**changes) -> dict:
    return {
        "schemaVersion": "1.0",
        "name": "Clinic systems",
        "description": "For the clinic's own systems.",
        "questions": QUESTIONS,
        **changes,
    }


@pytest.fixture
def profile(builtin_lens, admin_user) -> Profile:
    return profile_save(document=document(), user=admin_user)


@pytest.fixture
def builtin_profiles(builtin_lens) -> list[Profile]:
    return [profile for profile, _ in builtin_profiles_load()]


def use(workload, profile, user, **answers):
    return workload_profile_set(workload=workload, profile=profile, answers=answers, user=user)


def make_high(workload, user, *question_ids) -> None:
    """Answer each question "none of these": high risk."""
    for question_id in question_ids:
        answer = Answer.objects.select_related("question", "lens_review").get(
            lens_review__workload=workload, question__question_id=question_id
        )
        answer_choice_update(
            answer=answer, choice_id=f"{question_id}_no", status="SELECTED", user=user
        )
