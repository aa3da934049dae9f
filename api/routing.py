"""From an HTTP request under /aws/ to an operation and its path labels.

Clients percent-encode path labels whole, so a lens ARN arrives as one segment
(`arn%3Aaws%3A...%3Alens%2Fabc`), and the signature covers that encoded path. gunicorn passes
the path as sent (RAW_URI); Django's runserver and test server give only the decoded path, in
which the ARN's "/" splits it in two. Routing works on decoded segments either way, and for
the signature the path as sent is rebuilt from them: encoding each segment as the AWS SDKs
do gives back exactly what they sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from django.http import HttpRequest

PREFIX = "/aws"
# A segment that is an ARN cut off before its resource id: "arn:aws:wellarchitected:r:a:lens".
_ARN_HEAD = re.compile(r"^arn:[^:/]*:[^:/]*:[^:/]*:[^:/]*:[a-z-]+$")


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    segments: tuple[str, ...]  # literal segments, and "{Label}" for labels
    handler: Callable[[Any], dict[str, Any]]
    idempotent: bool  # takes a ClientRequestToken

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if method != self.method or len(segments) != len(self.segments):
            return None
        labels = {}
        for pattern, segment in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                if not segment:
                    return None
                labels[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return labels


OPERATIONS: list[Operation] = []


def operation(name: str, method: str, uri: str, *, idempotent: bool = False):
    """Register the decorated function as the handler of the AWS operation `name`."""

    def register(handler: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        segments = tuple(uri.strip("/").split("/"))
        OPERATIONS.append(Operation(name, method, segments, handler, idempotent))
        return handler

    return register


@dataclass(frozen=True)
class Target:
    segments: list[str]  # decoded, after /aws
    raw_path: str  # the whole path as the client sent and signed it


def target_of(request: HttpRequest) -> Target:
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if raw:
        raw_path = raw.split("?", 1)[0]
        start = raw_path.find(PREFIX + "/")
        encoded = raw_path[start + len(PREFIX) :].strip("/").split("/") if start >= 0 else []
        return Target([unquote(segment) for segment in encoded], raw_path)
    decoded = request.path.split(PREFIX + "/", 1)[-1].strip("/").split("/")
    segments: list[str] = []
    for segment in decoded:
        if segments and _ARN_HEAD.match(segments[-1]):
            segments[-1] += "/" + segment
        else:
            segments.append(segment)
    head = request.path[: request.path.find(PREFIX + "/")] + PREFIX
    raw_path = head + "".join("/" + quote(segment, safe="-_.~") for segment in segments)
    return Target(segments, raw_path)


def resolve(method: str, segments: list[str]) -> tuple[Operation, dict[str, str]] | None:
    for candidate in OPERATIONS:
        labels = candidate.match(method, segments)
        if labels is not None:
            return candidate, labels
    return None
