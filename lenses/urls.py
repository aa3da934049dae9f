from django.urls import path

from lenses import views

app_name = "lenses"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("import/", views.upload, name="import"),
    path("<slug:alias>/", views.lens_detail, name="lens"),
    path("<slug:alias>/delete/", views.lens_delete_view, name="delete"),
    path("<slug:alias>/versions/<int:pk>/", views.version_detail, name="version"),
    path("<slug:alias>/versions/<int:pk>/publish/", views.publish, name="publish"),
    path("<slug:alias>/versions/<int:pk>/deprecate/", views.deprecate, name="deprecate"),
    path("<slug:alias>/versions/<int:pk>/export/", views.export, name="export"),
    path("<slug:alias>/versions/<int:pk>/difference/", views.difference, name="difference"),
    path(
        "<slug:alias>/versions/<int:pk>/upgrade-reviews/",
        views.upgrade_reviews,
        name="upgrade_reviews",
    ),
    path(
        "<slug:alias>/versions/<int:pk>/difference.json",
        views.difference_json,
        name="difference_json",
    ),
]
