"""The portfolio's stamps (reviews.dashboard.slice_stamps) while changes and folds run at once,
each in its own connection: no change is lost or counted twice."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from reviews import dashboard
from reviews.models import LensReview, PortfolioChange
from tests.reviews.test_concurrency import run_together

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)


def review_changes(workload) -> int:
    """The changes of the workload's slice's lens reviews, as the stamps count them."""
    return dashboard.slice_stamps()[workload.pk // dashboard.SLICE][2]


@pytest.mark.django_db(transaction=True)
def test_changes_written_while_others_fold_are_each_counted_once(workload):
    review = workload.lens_reviews.get()
    before = review_changes(workload)

    def change():
        for _ in range(25):
            LensReview.objects.filter(pk=review.pk).update(version=F("version") + 1)

    def fold():
        for _ in range(25):
            dashboard._fold()

    run_together(change, change, fold, fold)

    assert review_changes(workload) == before + 50
    dashboard._fold()
    assert PortfolioChange.objects.count() == 0
    assert review_changes(workload) == before + 50


@pytest.mark.django_db(transaction=True)
def test_a_change_not_yet_committed_during_a_fold_counts_once_it_commits(workload):
    review = workload.lens_reviews.get()
    before = review_changes(workload)
    written, folded = threading.Event(), threading.Event()

    def change():
        try:
            with transaction.atomic():
                LensReview.objects.filter(pk=review.pk).update(version=F("version") + 1)
                written.set()
                assert folded.wait(timeout=10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=change)
    thread.start()
    assert written.wait(timeout=10)
    dashboard._fold()  # cannot see the change yet: it stays to be folded later
    assert review_changes(workload) == before
    folded.set()
    thread.join(timeout=10)

    assert review_changes(workload) == before + 1
