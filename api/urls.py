from django.urls import re_path

from api import views

app_name = "api"

urlpatterns = [
    re_path(r"^aws/(?P<rest>.*)$", views.dispatch, name="dispatch"),
]
