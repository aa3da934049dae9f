"""A real OpenID provider for the single sign-on tests: tests/oidc/provider.mjs under Node.js.

The provider starts once per test session on a free loopback port, after `npm ci` in
tests/oidc when its packages are missing. Without Node.js and npm, or when the install fails
(no registry, say), the tests that need it are skipped and say why.
"""

import json
import os
import selectors
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from sso import discovery

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_SECRET = "archlens-test-secret"
PROVIDER_NAME = "Example ID"
START_SECONDS = 20
ADA = {
    "email": "ada@example.com",
    "email_verified": True,
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "preferred_username": "ada",
    "groups": ["Platform", "Payments", "Nobody has this team"],
}


class OpenIDProvider:
    def __init__(self, issuer: str, accounts_file: Path, process: subprocess.Popen) -> None:
        self.issuer = issuer
        self.accounts_file = accounts_file
        self.process = process

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """The provider's people: login name -> claims (read again at every look-up)."""
        self.accounts_file.write_text(json.dumps(accounts))


def _install() -> None:
    npm = shutil.which("npm")
    if not shutil.which("node") or not npm:
        pytest.skip("the single sign-on tests need Node.js and npm (the OpenID provider)")
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PROVIDER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("npm ci in tests/oidc took over 5 minutes (offline?)")
    if result.returncode != 0:
        tail = " ".join(result.stderr.split()[-30:])
        pytest.skip(f"npm ci in tests/oidc failed (offline?): {tail}")


def _first_line(process: subprocess.Popen, seconds: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=seconds):
        raise RuntimeError(f"the OpenID provider said nothing within {seconds} s")
    return process.stdout.readline()


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory):
    _install()
    folder = tmp_path_factory.mktemp("oidc")
    accounts_file = folder / "accounts.json"
    accounts_file.write_text("{}")
    log = (folder / "provider.log").open("w")
    callback = f"{live_server.url}/oidc/callback/"
    environment = {
        **os.environ,
        "ACCOUNTS_FILE": str(accounts_file),
        "REDIRECT_URIS": callback,
        "CLIENT_SECRET": CLIENT_SECRET,
    }
    process = subprocess.Popen(
        [shutil.which("node"), "provider.mjs"],
        cwd=PROVIDER_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        issuer = json.loads(_first_line(process, START_SECONDS))["issuer"]
        _wait_for_discovery(issuer)
        yield OpenIDProvider(issuer, accounts_file, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_discovery(issuer: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).raise_for_status()
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def sso_settings(settings, issuer: str, client_id: str = "archlens") -> None:
    """Archlens configured for single sign-on at `issuer`, as the environment would set it."""
    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = client_id
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "sso.oidc.OIDCBackend"]
    discovery._documents.clear()


@pytest.fixture
def sso(settings, oidc_provider) -> OpenIDProvider:
    """Single sign-on set up against the test provider, which knows Ada."""
    sso_settings(settings, oidc_provider.issuer)
    oidc_provider.set_accounts({"ada": ADA})
    return oidc_provider


def callback_address(context, live_url: str, login: str) -> str:
    """Start a sign-in and go through the provider up to its redirect back, without following it.

    The requests go with the cookies of the browser `context` (Playwright shares them both
    ways), so the address returned is the one this browser would have been sent to.
    """
    url = f"{live_url}/oidc/authenticate/"
    for _hop in range(10):
        response = context.request.get(url, max_redirects=0)
        if response.status in (302, 303):
            url = urljoin(url, response.headers["location"])
            if url.startswith(f"{live_url}/oidc/callback/"):
                return url
            continue
        if response.status == 200 and "/interaction/" in url:  # the provider's login form
            form = {"prompt": "login", "login": login, "password": "any"}
            response = context.request.post(url, form=form, max_redirects=0)
            url = urljoin(url, response.headers["location"])
            continue
        raise AssertionError(f"unexpected {response.status} from {url}")
    raise AssertionError("no way back to Archlens after ten redirects")
