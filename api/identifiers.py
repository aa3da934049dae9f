"""How Archlens things are named in the API: account ids and ARNs.

Each user is an "account": scripts written for the AWS tool put account ids in ARNs and in
SharedWith, and botocore refuses a SharedWith shorter than 12 characters. The id is the user's
primary key above a fixed offset, so it is stable, 12 digits long and needs no column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

ACCOUNT_ID_OFFSET = 100_000_000_000
ARN = re.compile(
    r"^arn:aws:wellarchitected:(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws):"
    r"(?P<resource>[a-z-]+)/(?P<id>[A-Za-z0-9_.-]+)$"
)


def account_id(user_id: int) -> str:
    return str(ACCOUNT_ID_OFFSET + user_id)


def user_id_of(account: str) -> int | None:
    """The user id behind a 12-digit account id, or None if it cannot name a user."""
    if not re.fullmatch(r"\d{12}", account) or int(account) <= ACCOUNT_ID_OFFSET:
        return None
    return int(account) - ACCOUNT_ID_OFFSET


def arn(resource: str, resource_id: str, owner_id: int | None) -> str:
    """An ARN in Archlens's region; with no owner, as AWS names its own lenses (no region,
    account "aws")."""
    if owner_id is None:
        return f"arn:aws:wellarchitected::aws:{resource}/{resource_id}"
    account = account_id(owner_id)
    return f"arn:aws:wellarchitected:{settings.API_REGION}:{account}:{resource}/{resource_id}"


@dataclass(frozen=True)
class ParsedArn:
    resource: str
    resource_id: str
    account: str


def parse_arn(value: str) -> ParsedArn | None:
    match = ARN.match(value)
    if match is None:
        return None
    return ParsedArn(match["resource"], match["id"], match["account"])


def workload_arn(public_id: str, owner_id: int) -> str:
    return arn("workload", public_id, owner_id)


def lens_arn(alias: str, owner_id: int | None) -> str:
    return arn("lens", alias, owner_id)
