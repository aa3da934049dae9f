from django.urls import path, re_path

from api import key_views, views

app_name = "api"

urlpatterns = [
    path("account/api-keys/", key_views.account_keys, name="account_keys"),
    re_path(r"^aws/(?P<rest>.*)$", views.dispatch, name="dispatch"),
]
