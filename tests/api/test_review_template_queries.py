"""Query counts of the review-template operations, pinned, in-process through the signed test
client (a live server's thread and these counts do not mix on SQLite)."""

import pytest

from lenses.models import Lens
from review_templates.services import template_create


@pytest.mark.django_db
def test_list_review_templates_costs_the_same_queries_for_more_templates(
    signed, builtin_lens, alice, django_assert_max_num_queries
):
    lens = Lens.objects.get(alias="wellarchitected")
    template_create(owner=alice, name="First one", lenses=[lens])
    signed(alice, "GET", ["reviewTemplates"])  # the key's first use
    with django_assert_max_num_queries(8) as few:
        assert len(signed(alice, "GET", ["reviewTemplates"]).body["ReviewTemplates"]) == 1
    for n in range(5):
        template_create(owner=alice, name=f"Template {n}", lenses=[lens])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(signed(alice, "GET", ["reviewTemplates"]).body["ReviewTemplates"]) == 6
