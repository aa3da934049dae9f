from pathlib import Path

import pytest
from django.contrib.auth.models import User

from lenses.services import builtin_lens_load
from reviews.models import Role, Workload
from reviews.services import workload_create, workload_share

SHARED_LENSES = Path(__file__).resolve().parents[2] / "shared" / "lenses"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str, **extra) -> User:
    return User.objects.create_user(username, f"{username}@example.com", "pw-for-tests-9", **extra)


@pytest.fixture
def admin_user(db) -> User:
    return _user("sam", is_staff=True, is_superuser=True)


@pytest.fixture
def alice(db) -> User:
    return _user("alice")


@pytest.fixture
def bob(db) -> User:
    return _user("bob")


@pytest.fixture
def carol(db) -> User:
    return _user("carol")


@pytest.fixture
def mallory(db) -> User:
    return _user("mallory")


@pytest.fixture
def builtin_lens(db):
    version, _ = builtin_lens_load()
    return version


@pytest.fixture
def shared_lens_files() -> list[Path]:
    files = sorted(SHARED_LENSES.glob("*.json"))
    if not files:
        pytest.skip(f"no shared lens files in {SHARED_LENSES}")
    return files


@pytest.fixture
def workload(builtin_lens, alice, bob, carol, mallory) -> Workload:
    """Alice owns it, Bob contributes, Carol reads; Mallory has no access."""
    workload = workload_create(
        owner=alice,
        name="Payments API",
        description="Takes card payments for the web shop.",
        environment=Workload.Environment.PRODUCTION,
        review_owner="Alice Archer",
    )
    workload_share(workload=workload, user=bob, role=Role.CONTRIBUTOR)
    workload_share(workload=workload, user=carol, role=Role.READONLY)
    return workload
