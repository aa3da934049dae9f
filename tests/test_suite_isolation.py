"""The suite does not depend on its order: what one test does to Celery ends with it.

The two tests below run in this order (pytest keeps a module's order). The first points Celery
at another broker the way that used to leak; the second must still see the configured one.
"""

import pytest
from django.conf import settings

from config.celery import app as celery_app

GONE = "redis://127.0.0.1:1/0"


def test_a_test_may_point_celery_at_another_broker(monkeypatch):
    # As a test used to: Celery reads the environment first, and monkeypatch does not undo the
    # setting in Celery's pending configuration (nor the producer pool built below).
    monkeypatch.setenv("CELERY_BROKER_URL", GONE)
    monkeypatch.setattr(celery_app.conf, "broker_url", GONE)
    with celery_app.producer_or_acquire():
        pass  # builds the producer pool for that broker, as sending a task would

    assert celery_app.conf.broker_url == GONE


def test_the_next_test_gets_the_configured_broker_back():
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    with celery_app.producer_or_acquire() as producer, celery_app.connection_for_write() as fresh:
        assert producer.connection.as_uri() == fresh.as_uri()


def test_tasks_that_tests_send_never_reach_the_var_folder():
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("another broker: nothing is written to var/")
    folder = celery_app.conf.broker_transport_options["data_folder_in"]

    assert not folder.startswith(str(settings.BASE_DIR / "var"))
