from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("authenticate/", views.SignInView.as_view(), name="sign_in"),
    path("callback/", views.CallbackView.as_view(), name="callback"),
]
