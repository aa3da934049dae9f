"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Each person in a test gets a browser context of their own (own cookies, own tabs), logged in
through the real login page. Console errors and uncaught page errors of every context are
collected in `workshop.errors`; each test ends by asserting there were none.
"""

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import connection

# The sync Playwright API runs an event loop in the test thread, and Django refuses ORM calls
# from a thread with a running loop. The loop only drives the browser, so the calls are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-tests-pw-9"
LAPTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Skip before any fixture runs: no test database or live server for nothing.
    if CHROMIUM.exists():
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"browser tests need Chromium at {CHROMIUM}")
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    # Module scope, not session: the event loop stops once the browser tests are done.
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# htmx logs these two as errors when the page aborts a request on purpose: a tick cancels the
# poll in flight (hx-sync "replace" in question.html). A failed request also logs
# htmx:sendError, htmx:timeout or htmx:responseError, which do count.
ABORTED = ("htmx:sendAbort,", "htmx:afterRequest,")


class Workshop:
    """The people at a review workshop, each in a browser context of their own."""

    def __init__(self, browser, base_url: str, server_lock: AbstractContextManager) -> None:
        self.browser = browser
        self.base_url = base_url
        self.server_lock = server_lock
        self.contexts: list = []
        self.errors: list[str] = []

    def _console(self, name: str, message) -> None:
        if message.type == "error" and not message.text.startswith(ABORTED):
            self.errors.append(f"{name}: console error: {message.text} {message.location}")

    def join(self, user: User, path: str = "/"):
        """A page logged in as `user` through the login form, then at `path`."""
        with self.server_lock:  # others' pages may be polling
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        context = self.browser.new_context(base_url=self.base_url, viewport=LAPTOP)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        name = user.get_username()
        page.on("pageerror", lambda error: self.errors.append(f"{name}: page error: {error}"))
        page.on("console", lambda message: self._console(name, message))
        page.goto(f"/accounts/login/?{urlencode({'next': path})}")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        # The top bar has a "Log out" submit button too: take the login form's own.
        page.locator("main button[type=submit]").click()
        page.get_by_role("button", name="Log out").wait_for()
        # The page's deferred scripts (keys, htmx) have run by then: a key pressed before them
        # would be lost (seen once in CI, on a busy machine).
        page.wait_for_load_state("domcontentloaded")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


class OneRequestAtATime:
    """A WSGI app that serves its requests one after the other."""

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        with self.lock:
            response = self.app(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                if hasattr(response, "close"):
                    response.close()  # sends request_finished
        return [body]


def one_request_at_a_time(live_server) -> AbstractContextManager:
    """Serve one request at a time if the test database is in-memory SQLite.

    Each server thread then has its own connection to one shared-cache in-memory database,
    where a second writer fails at once with "database table is locked" instead of waiting
    for the lock like it does with a database file. Serving one request at a time gives the
    order a file's lock would. Returns the lock, for the test's own writes; PostgreSQL keeps
    real concurrency and gets no lock.
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return nullcontext()
    httpd = live_server.thread.httpd
    if not isinstance(httpd.get_app(), OneRequestAtATime):
        httpd.set_app(OneRequestAtATime(httpd.get_app()))
    return httpd.get_app().lock


@pytest.fixture
def workshop(browser, live_server) -> Iterator[Workshop]:
    workshop = Workshop(browser, live_server.url, one_request_at_a_time(live_server))
    yield workshop
    # Closed before the database is flushed, so no poll reaches an emptied database.
    workshop.close()
