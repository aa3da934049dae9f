"""workload_update and workload_delete: the edit form's checks, for any caller."""

import pytest

from reviews.errors import CONFLICT, INVALID, NOT_FOUND
from reviews.models import Answer, Workload
from reviews.services import (
    ReviewError,
    builtin_pillar_ids,
    workload_create,
    workload_delete,
    workload_transfer,
    workload_update,
)


def saved(workload: Workload) -> dict:
    return Workload.objects.filter(pk=workload.pk).values().get()


def refused(workload, user, **fields) -> ReviewError:
    before = saved(workload)
    with pytest.raises(ReviewError) as caught:
        workload_update(workload=workload, user=user, **fields)
    assert saved(workload) == before
    return caught.value


def test_an_update_saves_the_properties_given_and_no_others(workload, bob):
    order = list(reversed(builtin_pillar_ids()))

    edited = workload_update(
        workload=workload, user=bob, description="Card payments.", pillar_priorities=order
    )

    row = saved(workload)
    assert (row["description"], row["pillar_priorities"]) == ("Card payments.", order)
    assert row["name"] == "Payments API"
    assert edited.description == "Card payments."
    assert workload.description == "Takes card payments for the web shop."


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": " a b "}, "name", "at least 3 characters besides spaces"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"description": ""}, "description", "cannot be blank"),
        ({"environment": "MOON"}, "environment", "not a valid choice"),
        ({"architectural_design_url": "not a url"}, "architectural_design_url", "valid URL"),
        ({"notes": "x" * 2085}, "notes", "at most 2,084 characters"),
        ({"industry": "Retail\x00"}, "industry", "NUL character"),
        ({"tags": {"team": "pay\x00"}}, "tags", "NUL character"),
        ({"pillar_priorities": ["security"]}, "pillar_priorities", "each pillar once"),
        ({"pillar_priorities": "security"}, "pillar_priorities", "each pillar once"),
        ({"owner_id": 1}, "owner_id", "no property"),
    ],
)
def test_an_invalid_value_is_refused_naming_its_field_and_changes_nothing(
    workload, alice, fields, field, message
):
    error = refused(workload, alice, **fields)

    assert (error.kind, error.field) == (INVALID, field)
    assert message in error.message


def test_a_name_another_workload_has_is_a_conflict_whatever_the_case_and_spaces(workload, alice):
    workload_create(
        owner=alice,
        name="Checkout",
        description="Baskets.",
        environment="PREPRODUCTION",
        review_owner="Alice",
    )

    error = refused(workload, alice, name=" check OUT", description="Still valid.")

    assert (error.kind, error.field) == (CONFLICT, "name")


def test_a_workload_may_keep_its_own_name_written_differently(workload, alice):
    workload_update(workload=workload, user=alice, name="payments  API")

    assert saved(workload)["name"] == "payments  API"


def test_an_update_leaves_a_hand_over_made_meanwhile_alone(workload, alice, bob):
    stale = Workload.objects.get(pk=workload.pk)
    workload_transfer(workload=workload, new_owner=bob)

    workload_update(workload=stale, user=alice, industry="Retail banking")

    assert saved(workload)["owner_id"] == bob.pk


def test_a_workload_deleted_goes_with_its_answers(workload, alice):
    workload_delete(workload=workload, user=alice)

    assert not Workload.objects.filter(pk=workload.pk).exists()
    assert not Answer.objects.filter(lens_review__workload_id=workload.pk).exists()


def test_deleting_a_workload_deleted_meanwhile_is_not_found(workload, alice):
    Workload.objects.filter(pk=workload.pk).delete()

    with pytest.raises(ReviewError) as caught:
        workload_delete(workload=workload, user=alice)

    assert caught.value.kind == NOT_FOUND
