"""Celery tasks of review templates: each takes ids and calls a service."""

from __future__ import annotations

from celery import shared_task

from review_templates.services import propagation_run


@shared_task(name="review_templates.propagation_run", acks_late=True)
def propagation_run_task(propagation_id: int) -> None:
    propagation_run(propagation_id=propagation_id)
