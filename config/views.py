import math
import sys
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import Resolver404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from config.forms import FirstAdminForm
from people.mail import mail_configured

# /healthz answers within about two seconds even when the broker is unreachable.
BROKER_TIMEOUT = 1.5


def login(request: HttpRequest) -> HttpResponse:
    # A login form is useless before anyone has an account: send the visitor to set-up.
    if not User.objects.exists():
        return redirect("first_run")
    return auth_views.LoginView.as_view(extra_context=_login_choices(request))(request)


def _login_choices(request: HttpRequest) -> dict:
    """Which ways of logging in the login page offers.

    With single sign-on, PASSWORD_LOGIN=0 hides the password form; `?password=1` shows it again
    for the administrator's emergency login (a provider that is down, a broken configuration).
    Password reset needs mail: without it the link would lead to a 404.
    """
    sso = bool(settings.OIDC_ISSUER)
    wanted = request.GET.get("password") == "1" or request.method == "POST"
    return {
        "sso_provider_name": settings.OIDC_PROVIDER_NAME if sso else None,
        "password_login": not sso or settings.PASSWORD_LOGIN or wanted,
        "password_reset": mail_configured(),
    }


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The login page again, saying why and for how long (django-axes' AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get(REDIRECT_FIELD_NAME, ""),
        "locked_out_minutes": minutes,
        **_login_choices(request),
    }
    return render(request, "registration/login.html", context, status=429)


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
        messages.success(
            request,
            f"Welcome, {user.username}. You are the administrator: invite everyone else here.",
        )
        return redirect("people:people")
    return render(request, "registration/first_run.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("reviews:workload_list")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 while the database answers, 503 otherwise.

    The broker is reported but does not fail the check: pages work without it, only
    background work (reports) waits.
    """
    database = _database_status()
    body = {"database": database, "broker": _broker_status()}
    return JsonResponse(body, status=200 if database == "ok" else 503)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "error"
    return "ok"


def _broker_status() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured"
    # A thread bounds the wait even where the transport ignores connect_timeout.
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        future = executor.submit(_broker_ping)
        return "ok" if future.result(timeout=BROKER_TIMEOUT) else "error"
    except FutureTimeout:
        return "error"
    finally:
        executor.shutdown(wait=False)


def _broker_ping() -> bool:
    try:
        # socket_timeout ends a thread left waiting on a broker that accepts but never answers.
        options = {"socket_timeout": 1, "socket_connect_timeout": 1}
        with celery_app.connection_for_write(connect_timeout=1, transport_options=options) as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
    except Exception:  # each transport raises its own errors (OSError, redis, kombu)
        return False
    return True


def server_error(request: HttpRequest) -> HttpResponse:
    """The error page: 503 with Retry-After while the database is unreachable, else 500.

    A database restart passes by itself, so people (and htmx, see static/js/review.js) are told
    to try again shortly. Rendered without the request: context processors could touch the
    database that just failed.
    """
    problem = sys.exc_info()[1]
    unavailable = isinstance(problem, OperationalError | InterfaceError)
    html = render_to_string("server_error.html", {"unavailable": unavailable})
    response = HttpResponse(html, status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = "5"
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 in the site's own layout, saying why (our PermissionDenied messages are for people)."""
    context = {"message": _message_of(exception)}
    return render(request, "403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 in the site's own layout. An unknown address says nothing of the URL patterns tried."""
    message = None if isinstance(exception, Resolver404) else _message_of(exception)
    return render(request, "404.html", {"message": message}, status=404)


def _message_of(exception: Exception) -> str | None:
    given = exception.args[0] if exception.args else None
    return given if isinstance(given, str) and given else None
