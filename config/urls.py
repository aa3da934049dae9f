from django.contrib import admin
from django.urls import include, path

from config import views

handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("setup/", views.first_run, name="first_run"),
    path("oidc/", include("sso.urls")),
    path("lenses/", include("lenses.urls")),
    path("", include("reviews.urls")),
    path("admin/", admin.site.urls),
]
