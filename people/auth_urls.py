"""Sign-out and password pages under /accounts/, with the names Django's own URLs use.

Password change lives on the account page; its old address leads there. Password reset works
only where mail is configured (people.views.public).
"""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from people.views import public

to_account = RedirectView.as_view(pattern_name="account:account")

urlpatterns = [
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", to_account, name="password_change"),
    path("password_change/done/", to_account, name="password_change_done"),
    path("password_reset/", public.password_reset, name="password_reset"),
    path("password_reset/done/", public.password_reset_done, name="password_reset_done"),
    path("reset/<uidb64>/<token>/", public.password_reset_confirm, name="password_reset_confirm"),
    path("reset/done/", public.password_reset_complete, name="password_reset_complete"),
]
