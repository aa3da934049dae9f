"""Running the scripts of tests/js with the AWS SDK for JavaScript v3 against the live server.

The SDK is a test-only npm dependency (tests/js/package.json, lock file committed). `npm ci`
installs it when tests/js/node_modules is missing or older than the lock file (about 10 s
here, 19 MB), and the installed copy is reused after that: a CI run pays for it once. Where
Node.js or npm is missing, or the install fails (no registry), the tests that need it are
skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.keys import IssuedKey

JS_DIR = Path(__file__).resolve().parents[1] / "js"
INSTALL_TIMEOUT = 300  # seconds; a first install downloads about 20 MB
RUN_TIMEOUT = 180


def _installed(project: Path) -> bool:
    marker = project / "node_modules" / ".package-lock.json"  # written by every npm install
    lock = project / "package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime


def sdk_installed(project: Path = JS_DIR) -> None:
    """Install the SDK unless it is installed already, or skip the test."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed: the JavaScript SDK tests need them")
    if _installed(project):
        return
    try:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm ci in {project} took over {INSTALL_TIMEOUT} s (no registry?)")
    if result.returncode != 0:
        pytest.skip(f"npm ci in {project} failed (no registry?): {result.stderr.strip()[-500:]}")


def run_script(
    script: str, *, endpoint: str, issued: IssuedKey, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run tests/js/`script` with Node.js as a user's automation would, and parse the JSON it
    prints. The SDK finds everything in the environment (endpoint, region, keys); no AWS
    configuration file of this machine is read."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(JS_DIR)),
        "AWS_ENDPOINT_URL_WELLARCHITECTED": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": issued.key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": issued.secret,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **(env or {}),
    }
    result = subprocess.run(
        ["node", script],
        cwd=JS_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert result.returncode == 0, f"node {script} failed:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)
