from django.urls import path

from profiles import views
from reviews.urls import KeyConverter  # noqa: F401 (registers the "key" converter)

app_name = "profiles"

urlpatterns = [
    path("profiles/", views.profile_list, name="list"),
    path("profiles/new/", views.profile_create, name="create"),
    path("profiles/import/", views.profile_upload, name="import"),
    path("profiles/<int:profile_id>/", views.profile_detail, name="detail"),
    path("profiles/<int:profile_id>/edit/", views.profile_edit, name="edit"),
    path("profiles/<int:profile_id>/delete/", views.profile_remove, name="delete"),
    path("profiles/<int:profile_id>/export/", views.profile_export, name="export"),
    path("workloads/<key:public_id>/profile/", views.workload_profile, name="workload_profile"),
]
