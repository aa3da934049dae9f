from django.urls import path

import reviews.urls  # noqa: F401  (registers the "key" path converter)
from review_templates import views

app_name = "review_templates"

template = "templates/<key:template_id>/"

urlpatterns = [
    path("templates/", views.template_list, name="list"),
    path(template, views.template_detail, name="detail"),
    path(template + "edit/", views.template_edit, name="edit"),
    path(template + "delete/", views.template_delete, name="delete"),
    path(template + "sharing/", views.template_share, name="share"),
    path(template + "apply/", views.template_apply, name="apply"),
    path(template + "propagate/", views.template_propagate, name="propagate"),
    path(template + "propagation/", views.template_progress, name="progress"),
    path(
        template + "lenses/<slug:alias>/questions/<key:question_id>/",
        views.template_question,
        name="question",
    ),
    path(
        "workloads/<key:public_id>/save-as-template/",
        views.template_from_workload,
        name="from_workload",
    ),
]
