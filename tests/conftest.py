from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache

from config.celery import app as celery_app
from lenses.services import builtin_lens_load
from people.models import Team, TeamMember
from people.services import invitation_create
from reviews import dashboard
from reviews.models import Role, Workload
from reviews.services import workload_create, workload_share

SHARED_LENSES = Path(__file__).resolve().parents[2] / "shared" / "lenses"


def folder_broker_options(root: Path) -> dict[str, object]:
    """Transport options of a folder broker whose queue is in `root` and nowhere else."""
    (root / "queue").mkdir()
    return {
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "processed_folder": str(root / "processed"),
        "control_folder": str(root / "control"),
        "store_processed": False,
    }


@pytest.fixture(scope="session", autouse=True)
def test_queue_folder(tmp_path_factory):
    """With the default folder broker, tests queue into a folder of their own.

    Otherwise the tasks that tests enqueue land in var/, where the worker of `make run` would
    pick them up later.
    """
    if not django_settings.CELERY_BROKER_URL.startswith("filesystem://"):
        yield
        return
    saved = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    options = {**saved, **folder_broker_options(tmp_path_factory.mktemp("celery"))}
    django_settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    celery_app.conf["broker_transport_options"] = options
    yield
    django_settings.CELERY_BROKER_TRANSPORT_OPTIONS = saved
    celery_app.conf["broker_transport_options"] = saved


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch):
    """Each test starts with an empty cache, as a new server does: the dashboard's keys are
    counts of changes (reviews.dashboard.slice_stamps), which start again from the same values
    when a test's database is rolled back, so an entry of an earlier test could match.

    The changes are not folded into the stamps but where a test asks for it: on SQLite, the
    flush after a test that commits deletes rows one by one, whose changes stay behind, and a
    fold in the middle of a test would add to the queries it counts."""
    cache.clear()
    monkeypatch.setattr(dashboard, "FOLD_AT", 10**9)


@pytest.fixture(autouse=True)
def sessions_in_the_database(settings):
    """Sessions in the database, also where CACHE_URL makes them cached ones: the query counts
    that tests pin are then the same with Redis and without. tests/test_sessions.py tests the
    cached sessions."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture(autouse=True)
def celery_broker_as_configured():
    """Each test starts and ends with the broker the settings name.

    Celery keeps its configuration, connection pool and producer pool for the whole process, so
    a test that points Celery elsewhere and is not undone properly sends every later test's
    tasks to a broker that is gone: the suite then depended on its order. Checked before the
    test too, since other fixtures (monkeypatch) may be undone after this one.
    """
    expected = {
        "broker_url": django_settings.CELERY_BROKER_URL,
        "broker_transport_options": django_settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    }
    _restore_celery(expected)
    yield
    _restore_celery(expected)


def _restore_celery(expected: dict) -> None:
    changed = [key for key, value in expected.items() if celery_app.conf.get(key) != value]
    for key in changed:
        celery_app.conf[key] = expected[key]
    if changed:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


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
def people_targets(admin_user) -> dict[str, object]:
    """What the people URLs act on: Tess (in the team Walkers) and a pending invitation."""
    tess = _user("tess")
    team = Team.objects.create(name="Walkers")
    TeamMember.objects.create(team=team, user=tess)
    invitation, token = invitation_create(email="walker@example.com", invited_by=admin_user)
    return {
        "person_id": tess.pk,
        "team_id": team.pk,
        "invitation_id": invitation.pk,
        "token": token,
    }


@pytest.fixture
def stan(db):
    return _user("stan", is_staff=True)


@pytest.fixture
def dora(db):
    """A deactivated account: signed in before, treated as signed out on every page."""
    return _user("dora", is_active=False)


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
