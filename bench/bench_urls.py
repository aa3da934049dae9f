"""The app's URLs plus one trivial authenticated view, for benchmarks only.

`/bench/trivial/` does what every logged-in request does (the session and the user) and
nothing else, so a benchmark can say how many times that a request of the app costs. The
benchmarks and `make load` use this module as ROOT_URLCONF (bench/bench_settings.py); the app
itself never does.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


@login_required
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench_trivial"), *app_urlpatterns]
