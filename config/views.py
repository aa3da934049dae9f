from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from config.forms import FirstAdminForm


def login(request: HttpRequest) -> HttpResponse:
    # A login form is useless before anyone has an account: send the visitor to set-up.
    if not User.objects.exists():
        return redirect("first_run")
    return auth_views.LoginView.as_view()(request)


def first_run(request: HttpRequest) -> HttpResponse:
    if User.objects.exists():
        return redirect("login")
    form = FirstAdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if User.objects.exists():  # someone finished set-up while this form was open
                return redirect("login")
            user = form.save()
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. You are the administrator.")
        return redirect("home")
    return render(request, "registration/first_run.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("reviews:workload_list")
