"""Calling the API as its clients do.

`wa` gives boto3 clients against Archlens served on a loopback port (the live server), which
is how scripts use it. `signed` sends requests signed by botocore's own SigV4 signer through
Django's test client, in-process: for query counts and for requests that boto3 would refuse
to send (tampered bodies, MaxResults over the limit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from api.keys import IssuedKey, api_key_create

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """Scripts in tests run faster than any person; tests of the limit set their own rate."""
    settings.API_RATE_PER_SECOND = 0


@pytest.fixture
def key_for(db) -> Callable[[Any], IssuedKey]:
    return lambda user: api_key_create(user=user)


@pytest.fixture
def wa(live_server, key_for) -> Callable[..., Any]:
    """wa(user) is a boto3 wellarchitected client acting as `user` (no retries)."""

    made = []

    def client(user, *, retries: int = 1, issued: IssuedKey | None = None):
        issued = issued or key_for(user)
        made.append(
            boto3.client(
                "wellarchitected",
                endpoint_url=f"{live_server.url}/aws",
                region_name="us-east-1",
                aws_access_key_id=issued.key.access_key_id,
                aws_secret_access_key=issued.secret,
                config=Config(retries={"max_attempts": retries, "mode": "standard"}),
            )
        )
        return made[-1]

    yield client
    # A kept-alive connection would hold a server thread past the test, and with in-memory
    # SQLite that thread then closes a database connection that is not its own.
    for made_client in made:
        made_client.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def error_type(self) -> str:
        return self.headers.get("x-amzn-ErrorType", "")


def sign(
    method: str,
    url: str,
    body: bytes | None,
    issued: IssuedKey,
    *,
    region: str = "us-east-1",
    service: str = "wellarchitected",
) -> dict[str, str]:
    """The headers botocore's SigV4 signer adds to this request."""
    headers = {"Content-Type": "application/x-amz-json-1.1"} if body else {}
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(issued.key.access_key_id, issued.secret)
    SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers.items())


@pytest.fixture
def signed(client, key_for) -> Callable[..., Answer]:
    """signed(user, "GET", ["workloads", id], query={...}, body={...}) through the test client.

    Path segments are encoded as the AWS SDKs encode labels. `tamper` changes the body after
    signing; `headers` are added after signing too.
    """
    keys: dict[int, IssuedKey] = {}

    def call(
        user,
        method: str,
        segments: list[str],
        *,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        tamper: Callable[[bytes], bytes] | None = None,
        issued: IssuedKey | None = None,
        headers: dict[str, str] | None = None,
        sign_as: dict[str, str] | None = None,
    ) -> Answer:
        issued = issued or keys.get(user.pk) or keys.setdefault(user.pk, key_for(user))
        path = "/aws/" + "/".join(quote(segment, safe="-_.~") for segment in segments)
        if query:
            path += "?" + urlencode(query, quote_via=quote)
        data = json.dumps(body).encode() if body is not None else None
        signed_headers = sign(method, f"http://testserver{path}", data, issued, **(sign_as or {}))
        signed_headers.update(headers or {})
        if tamper is not None and data is not None:
            data = tamper(data)
        response = client.generic(
            method,
            path,
            data=data or b"",
            content_type=signed_headers.pop("Content-Type", ""),
            headers=signed_headers,
        )
        text = response.content.decode()
        return Answer(response.status_code, dict(response.headers), json.loads(text or "{}"))

    return call
