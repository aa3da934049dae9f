from django.urls import path

from people.views import account

app_name = "account"

urlpatterns = [
    path("", account.account, name="account"),
    path("password/", account.password, name="password"),
    path("sessions/end/", account.sessions_end, name="sessions_end"),
]
