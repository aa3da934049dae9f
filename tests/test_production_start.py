"""Starting Archlens with DEBUG=0 outside Docker: `make serve`, and what refuses a half set-up."""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """Nothing configured but what production needs, with its data in `var_dir` (SQLite)."""
    keep = ("PATH", "HOME", "LANG")
    env = {key: value for key, value in os.environ.items() if key in keep}
    return env | {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # no TLS proxy in front of this test
        "SECURE_COOKIES": "0",
        "ARCHLENS_VAR_DIR": str(var_dir),
        **extra,
    }


def poll_seconds() -> float:
    """How long a question page waits between two polls."""
    template = (BASE_DIR / "templates/reviews/question.html").read_text()
    return float(re.search(r'hx-trigger="every (\d+)s', template).group(1))


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def test_commands_refuse_debug_off_before_static_files_are_collected(tmp_path):
    result = run([sys.executable, "manage.py", "check"], production_env(tmp_path))

    assert result.returncode != 0
    assert "archlens.E001" in result.stderr
    assert "collectstatic" in result.stderr


def test_the_web_server_refuses_to_start_before_static_files_are_collected(tmp_path):
    result = run([sys.executable, "-c", "import config.wsgi"], production_env(tmp_path))

    assert result.returncode != 0
    assert "Static files are not collected" in result.stderr


@pytest.mark.skipif(not (BASE_DIR / ".venv/bin/gunicorn").exists(), reason="needs make install")
def test_make_serve_starts_a_complete_production_site(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"PORT={port}"],
        cwd=BASE_DIR,
        env=production_env(tmp_path / "var"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its worker and beat are stopped with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "make serve did not answer within 120 s"
            time.sleep(0.5)

        status, _, page = get(f"{base}/accounts/login/")
        assert status == 200
        stylesheet = re.search(rb'href="(/static/css/archlens\.[0-9a-f]+\.css)"', page)
        assert stylesheet, "the page links no hashed stylesheet"
        status, content_type, css = get(base + stylesheet.group(1).decode())
        assert (status, content_type.split(";")[0]) == (200, "text/css")
        assert b"{" in css
        script = re.search(rb'src="(/static/js/archlens\.[0-9a-f]+\.js)"', page)
        assert script and get(base + script.group(1).decode())[0] == 200

        # A question page's next poll comes on the connection of its last one.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            assert connection.getresponse().read()
            time.sleep(poll_seconds() + 0.5)
            connection.request("GET", "/healthz")  # RemoteDisconnected if it was closed
            assert connection.getresponse().status == 200
        finally:
            connection.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_make_serve_asks_for_a_secret_key_first(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    result = run(["make", "--no-print-directory", "serve"], env)

    assert result.returncode != 0
    assert "make serve needs SECRET_KEY" in result.stdout + result.stderr
