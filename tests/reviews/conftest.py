import pytest

from reviews.models import Role, Workload
from reviews.services import workload_create, workload_share


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
