"""Request ids and one log line per request; /healthz for probes; logins for htmx requests;
the client's address."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.functional import SimpleLazyObject, empty
from django_htmx.http import HttpResponseClientRedirect

logger = logging.getLogger("archlens.requests")

# An id from a proxy or another service is kept if it looks like one; anything else (too long,
# spaces, quotes) could forge log lines, so it is replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Give every request an id (or keep the caller's X-Request-ID), return it and log it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started, cpu_started = time.monotonic(), time.thread_time()
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]

        response = self.get_response(request)

        response["X-Request-ID"] = request_id
        duration_ms = round((time.monotonic() - started) * 1000)
        # This thread's CPU time: what the request cost the server, whatever else ran meanwhile.
        cpu_ms = round((time.thread_time() - cpu_started) * 1000, 1)
        user_id = _user_id_of(request)
        path = request.get_full_path()  # escaped: a %0A in the URL cannot start a new log line
        # How a view that shares its renders answered ("shared" or "rendered"), so that a load
        # test can tell how many requests the shared renders saved.
        served = getattr(request, "served", "")
        logger.log(
            logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %s duration_ms=%d cpu_ms=%.1f user_id=%s request_id=%s%s",
            request.method,
            path,
            response.status_code,
            duration_ms,
            cpu_ms,
            user_id,
            request_id,
            f" served={served}" if served else "",
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "cpu_ms": cpu_ms,
                "user_id": user_id,
                "request_id": request_id,
                "served": served,
            },
        )
        return response


def _user_id_of(request: HttpRequest) -> int | str:
    """The signed-in user's id for the log line, or "-".

    Only when the request already found out who it is: for a request that never asked (a
    probe, a static file, an API call signed with a key) finding out would cost a session and
    a user lookup for the log line alone.
    """
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return "-"
    return user.pk if user.is_authenticated else "-"


class HealthCheckMiddleware:
    """Answer /healthz before the host check and the HTTPS redirect.

    Container and load-balancer probes call it by IP address over plain HTTP, which
    ALLOWED_HOSTS and SECURE_SSL_REDIRECT would refuse. Its answer names no host and carries
    no secret, so skipping those checks is safe.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            from config.views import healthz  # views import much that middleware need not

            return healthz(request)
        return self.get_response(request)


class HtmxLoginMiddleware:
    """Send an htmx request whose session has ended to the login page, as a whole page.

    htmx follows redirects itself and would put the login form inside the region it updates
    (a poll every 2 s would fill the question page with it). The page the person was on
    becomes the place to return to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 302 or "HX-Request" not in request.headers:
            return response
        login_url = resolve_url(settings.LOGIN_URL)
        if urlsplit(response["Location"]).path != login_url:
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "") or "/"
        return HttpResponseClientRedirect(f"{login_url}?{urlencode({'next': back})}")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for login throttling.

    With TRUSTED_PROXY_COUNT proxies in front, each appends the address it saw to
    X-Forwarded-For: the entry that many places from the end was added by our outermost proxy,
    so the client cannot forge it (entries further left can be anything).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")
