from django.contrib import admin
from django.urls import include, path

from config import views
from people.views.public import invitation_accept

handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.login, name="login"),
    path("accounts/", include("people.auth_urls")),
    path("account/", include("people.account_urls")),
    path("people/", include("people.urls")),
    path("invitations/<str:token>/", invitation_accept, name="invitation_accept"),
    path("setup/", views.first_run, name="first_run"),
    path("oidc/", include("sso.urls")),
    path("lenses/", include("lenses.urls")),
    path("", include("api.urls")),
    path("", include("profiles.urls")),
    path("", include("reviews.urls")),
    path("", include("review_templates.urls")),
    path("admin/", admin.site.urls),
]
