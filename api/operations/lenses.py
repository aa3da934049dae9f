"""ListLenses, GetLens, ImportLens, CreateLensVersion, ExportLens, DeleteLens,
GetLensVersionDifference, AssociateLenses, DisassociateLenses and UpgradeLensReview.

Access is the browser's: every user reads the lenses that have a published version, staff also
see drafts and are the only ones who import, publish and delete lenses. As in the AWS tool, an
import brings a draft and CreateLensVersion publishes it. A draft has no version name yet; where
a LensVersion names a version, "draft" names the draft (for staff), as `export_lens --version`
does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from api.calls import Call, domain_errors
from api.errors import ApiError, access_denied, conflict, from_domain, not_found
from api.identifiers import account_id
from api.operations.common import (
    arn_of_lens,
    check_tags,
    lens_review_for,
    lenses_named,
    workload_of,
)
from api.pagination import next_token, page_size, page_start
from api.routing import operation
from lenses.differences import LensDifference, lens_version_difference
from lenses.lens_format import LensFileError, dumps, read_lens_file
from lenses.models import Lens, LensVersion
from lenses.services import (
    default_alias,
    free_alias,
    lens_delete,
    lens_draft_delete,
    lens_import,
    lens_version_document,
    lens_version_publish,
)
from reviews.errors import DomainError
from reviews.milestones import MilestoneError
from reviews.models import MAX_EXTRA_LENSES
from reviews.services import workload_add_lens, workload_remove_lens
from reviews.upgrades import lens_review_upgrade, newer_versions

DRAFT_LABEL = "draft"
LENS_TYPES = ("AWS_OFFICIAL", "CUSTOM_SHARED", "CUSTOM_SELF")
LENS_STATUS_FILTERS = ("ALL", "DRAFT", "PUBLISHED")
# The summary's LensStatus for the version it describes; a draft has none in the AWS model.
SUMMARY_STATUS = {
    LensVersion.Status.PUBLISHED: "CURRENT",
    LensVersion.Status.DEPRECATED: "DEPRECATED",
}
ALIAS_MAX = 2048  # an alias is at most 128 characters, but the member also carries ARNs
JSON_MAX = 500_000
# The version columns a page of lenses reads: the lens file itself can be half a megabyte.
VERSION_COLUMNS = ("lens_id", "version", "status", "published_at", "created_at")


def lens_name(lens: Lens) -> str:
    """The LensAlias the AWS tool gives a lens: the alias of its own lens, the ARN of others."""
    return lens.alias if lens.is_builtin else arn_of_lens(lens)


def _require_staff(call: Call) -> None:
    if not call.user.is_staff:
        raise access_denied("Only staff manage lenses.")


def _lens(call: Call, *, manage: bool = False) -> Lens:
    """The lens named by LensAlias (an alias or an ARN), if the caller sees it (and, with
    `manage`, may manage it)."""
    value = call.input.string("LensAlias", required=True, min_length=1, max_length=ALIAS_MAX)
    call.input.check()
    if manage:
        _require_staff(call)
    return lenses_named(call, [value])[0]


def _newest(versions: list[LensVersion]) -> LensVersion | None:
    """The version a lens is shown at: its newest past draft, or its draft when that is all."""
    released = [v for v in versions if not v.is_draft]
    if released:
        return max(released, key=lambda v: (v.published_at or v.created_at, v.pk))
    return versions[0] if versions else None


def _version(call: Call, lens: Lens, member: str = "LensVersion") -> LensVersion:
    """The version `member` names ("draft" for the draft), else the one the lens is shown at."""
    name = call.input.string(member, min_length=1, max_length=32)
    call.input.check()
    versions = lens.versions.visible_to(call.user).defer("source", "warnings")
    if name is None:
        found = _newest(list(versions))
    elif name == DRAFT_LABEL:
        found = versions.filter(status=LensVersion.Status.DRAFT).first()
    else:
        found = versions.filter(version=name).first()
    if found is None:
        which = f"version {name} of " if name else "version of "
        raise not_found(
            f"There is no {which}lens {lens.alias!r}.",
            resource_id=name or lens.alias,
            resource_type="LENS_VERSION",
        )
    found.lens = lens
    return found


def _summary(lens: Lens, version: LensVersion | None, user: Any) -> dict[str, Any]:
    if lens.is_builtin:
        lens_type = "AWS_OFFICIAL"
    elif lens.owner_id == user.pk:
        lens_type = "CUSTOM_SELF"
    else:
        lens_type = "CUSTOM_SHARED"
    summary: dict[str, Any] = {
        "LensArn": arn_of_lens(lens),
        "LensAlias": lens_name(lens),
        "LensName": lens.name,
        "LensType": lens_type,
        "Description": lens.description,
        "CreatedAt": lens.created_at,
        "UpdatedAt": lens.updated_at,
    }
    if lens.owner_id is not None:
        summary["Owner"] = account_id(lens.owner_id)
    if version is not None and not version.is_draft:
        summary["LensVersion"] = version.version
        summary["LensStatus"] = SUMMARY_STATUS[version.status]
    return summary


@operation("ListLenses", "GET", "/lenses")
def list_lenses(call: Call) -> dict[str, Any]:
    lens_type = call.input.string("LensType", choices=LENS_TYPES)
    status = call.input.string("LensStatus", choices=LENS_STATUS_FILTERS, default="ALL")
    name = call.input.string("LensName", min_length=1, max_length=128)
    size = page_size(call, maximum=50)
    filters = {"type": lens_type, "status": status, "name": name}
    after = page_start(call, filters)
    visible = LensVersion.objects.visible_to(call.user)
    lenses = Lens.objects.visible_to(call.user)
    if lens_type == "AWS_OFFICIAL":
        lenses = lenses.filter(is_builtin=True)
    elif lens_type == "CUSTOM_SELF":
        lenses = lenses.filter(is_builtin=False, owner=call.user)
    elif lens_type == "CUSTOM_SHARED":
        lenses = lenses.filter(is_builtin=False).exclude(owner=call.user)
    wanted = {"DRAFT": [LensVersion.Status.DRAFT], "PUBLISHED": [LensVersion.Status.PUBLISHED]}
    if status in wanted:
        lenses = lenses.filter(pk__in=visible.filter(status__in=wanted[status]).values("lens"))
    if name is not None:
        lenses = lenses.filter(name__iexact=name)
    if after is not None:
        lenses = lenses.filter(pk__gt=after)
    page = list(lenses.order_by("pk")[: size + 1])
    more = len(page) > size
    page = page[:size]
    versions: dict[int, list[LensVersion]] = {}
    for version in visible.filter(lens__in=page).only(*VERSION_COLUMNS).order_by("pk"):
        versions.setdefault(version.lens_id, []).append(version)
    summaries = []
    for lens in page:
        own = versions.get(lens.pk, [])
        drafts = [v for v in own if v.is_draft]
        shown = (drafts or [None])[0] if status == "DRAFT" else _newest(own)
        summaries.append(_summary(lens, shown, call.user))
    result: dict[str, Any] = {"LensSummaries": summaries}
    if more:
        result["NextToken"] = next_token(call, filters, page[-1].pk)
    return result


@operation("GetLens", "GET", "/lenses/{LensAlias}")
def get_lens(call: Call) -> dict[str, Any]:
    lens = _lens(call)
    version = _version(call, lens)
    shape: dict[str, Any] = {
        "LensArn": arn_of_lens(lens),
        "Name": version.name,
        "Description": version.description,
        "Owner": account_id(lens.owner_id) if lens.owner_id is not None else "aws",
        "Tags": lens.tags,
    }
    if not version.is_draft:
        shape["LensVersion"] = version.version
    return {"Lens": shape}


def _file_error(error: LensFileError) -> ApiError:
    """The lens file's problems, each naming its place in the file, as `import_lens` lists them."""
    more = f" (and {error.more_errors} more, not listed)" if error.more_errors else ""
    shown = "; ".join(error.errors[:5])
    return ApiError(
        "ValidationException",
        400,
        f"JSONString: the lens was not imported, {error.error_count} problem(s) in the lens "
        f"file{more}: {shown}",
        Reason="FIELD_VALIDATION_FAILED",
        Fields=[{"Name": "JSONString", "Message": problem} for problem in error.errors],
    )


@operation("ImportLens", "PUT", "/importLens", idempotent=True)
def import_lens(call: Call) -> dict[str, Any]:
    """A draft of a new lens, or with LensAlias a new draft of that lens."""
    text = call.input.string("JSONString", required=True, min_length=2, max_length=JSON_MAX)
    alias_given = call.input.string("LensAlias", min_length=1, max_length=ALIAS_MAX)
    tags = call.input.mapping("Tags")
    call.input.check()
    _require_staff(call)
    if tags is not None:
        check_tags(tags)
    raw = text.encode()
    try:
        if alias_given is not None:
            alias = lenses_named(call, [alias_given])[0].alias
        else:
            # As in the AWS tool, an import without LensAlias is a lens of its own, even when
            # another lens has the same name.
            alias = free_alias(default_alias(read_lens_file(raw).data["name"]))
        with domain_errors(fields={"alias": "LensAlias"}, resource_type="LENS"):
            version = lens_import(raw=raw, user=call.user, alias=alias, tags=tags)
    except LensFileError as error:
        raise _file_error(error) from None
    return {"LensArn": arn_of_lens(version.lens), "Status": "COMPLETE"}


@operation("CreateLensVersion", "POST", "/lenses/{LensAlias}/versions", idempotent=True)
def create_lens_version(call: Call) -> dict[str, Any]:
    """Publish the lens's draft under the name LensVersion.

    Archlens offers every newer version as an upgrade, so IsMajorVersion changes nothing.
    """
    lens = _lens(call, manage=True)
    name = call.input.string("LensVersion", required=True, min_length=1, max_length=32)
    call.input.boolean("IsMajorVersion")
    call.input.check()
    draft = lens.versions.filter(status=LensVersion.Status.DRAFT).first()
    if draft is None:
        raise conflict(
            f"“{lens.name}” has no draft to publish: import one with ImportLens first.",
            resource_id=lens.alias,
            resource_type="LENS",
        )
    with domain_errors(fields={"version": "LensVersion"}, resource_type="LENS_VERSION"):
        published = lens_version_publish(lens_version=draft, version=name)
    return {"LensArn": arn_of_lens(lens), "LensVersion": published.version}


@operation("ExportLens", "GET", "/lenses/{LensAlias}/export")
def export_lens(call: Call) -> dict[str, Any]:
    version = _version(call, _lens(call))
    return {"LensJSON": dumps(lens_version_document(version))}


@operation("DeleteLens", "DELETE", "/lenses/{LensAlias}", idempotent=True)
def delete_lens(call: Call) -> dict[str, Any]:
    """LensStatus DRAFT deletes the draft only; ALL and PUBLISHED delete the lens with every
    version, as the browser does, unless a workload uses it."""
    status = call.input.string("LensStatus", required=True, choices=LENS_STATUS_FILTERS)
    lens = _lens(call, manage=True)
    with domain_errors(resource_type="LENS", resource_id=lens.alias):
        if status == "DRAFT":
            lens_draft_delete(lens=lens)
        else:
            lens_delete(lens=lens)
    return {}


@operation("GetLensVersionDifference", "GET", "/lenses/{LensAlias}/versionDifference")
def get_lens_version_difference(call: Call) -> dict[str, Any]:
    """From BaseLensVersion (by default the version published before the target) to
    TargetLensVersion (by default the version the lens is shown at)."""
    lens = _lens(call)
    target = _version(call, lens, "TargetLensVersion")
    released = list(lens.versions.exclude(status=LensVersion.Status.DRAFT).defer("source"))
    if call.input.has("BaseLensVersion"):
        base = _version(call, lens, "BaseLensVersion")
    else:
        since = target.published_at or target.created_at
        older = [v for v in released if v.pk != target.pk and v.published_at < since]
        base = max(older, key=lambda v: v.published_at, default=None)
    if base is None:  # the lens's first version: nothing to compare with
        difference = LensDifference("", target.label, [])
    else:
        difference = lens_version_difference(base=base, target=target)
    published = [v for v in released if v.status == LensVersion.Status.PUBLISHED]
    latest = max(published, key=lambda v: v.published_at, default=None)
    return difference.as_aws(
        lens_alias=lens_name(lens),
        lens_arn=arn_of_lens(lens),
        latest_label=latest.version if latest else "",
    )


@contextmanager
def _lens_errors(value: str) -> Iterator[None]:
    """A domain error about one of the LensAliases, naming that member."""
    try:
        yield
    except DomainError as error:
        raise from_domain(
            error.kind, error.message, field="LensAliases", resource_id=value, resource_type="LENS"
        ) from None


def _lens_aliases(call: Call) -> list[str]:
    values = call.input.strings(
        "LensAliases",
        required=True,
        max_items=MAX_EXTRA_LENSES + 1,
        min_length=1,
        max_length=ALIAS_MAX,
    )
    call.input.check()
    if not values:
        call.input.problems.append(("LensAliases", "LensAliases must name at least one lens."))
        call.input.check()
    return values


@operation("AssociateLenses", "PATCH", "/workloads/{WorkloadId}/associateLenses")
def associate_lenses(call: Call) -> dict[str, Any]:
    """Review the lenses in the workload (owner, contributor); all of them or none."""
    workload = workload_of(call, write=True)
    values = _lens_aliases(call)
    lenses = lenses_named(call, values)
    with transaction.atomic():
        for value, lens in zip(values, lenses, strict=True):
            with _lens_errors(value):
                workload_add_lens(workload=workload, lens=lens)
    return {}


@operation("DisassociateLenses", "PATCH", "/workloads/{WorkloadId}/disassociateLenses")
def disassociate_lenses(call: Call) -> dict[str, Any]:
    """Stop reviewing the lenses (the owner, as in the browser); their answers are kept."""
    workload = workload_of(call, owner=True)
    values = _lens_aliases(call)
    lenses = lenses_named(call, values)
    with transaction.atomic():
        for value, lens in zip(values, lenses, strict=True):
            with _lens_errors(value):
                workload_remove_lens(workload=workload, lens=lens)
    return {}


@operation(
    "UpgradeLensReview",
    "PUT",
    "/workloads/{WorkloadId}/lensReviews/{LensAlias}/upgrade",
    idempotent=True,
)
def upgrade_lens_review(call: Call) -> dict[str, Any]:
    """Move the review to the newest published version of its lens, saving the milestone
    MilestoneName first."""
    review = lens_review_for(call, write=True)
    milestone_name = call.input.string("MilestoneName", required=True, min_length=3, max_length=100)
    call.input.check()
    versions = newer_versions(review)
    if not versions:
        raise conflict(
            f"This review is on {review.lens.name} {review.lens_version.label}, its newest "
            "version, already.",
            resource_id=review.lens.alias,
            resource_type="LENS",
        )
    with domain_errors(resource_type="LENS", resource_id=review.lens.alias):
        try:
            lens_review_upgrade(
                lens_review=review,
                target=versions[0],
                milestone_name=milestone_name,
                user=call.user,
            )
        except MilestoneError as error:  # a taken or unusable name: the member at fault
            raise from_domain(
                error.kind, error.message, field="MilestoneName", resource_type="MILESTONE"
            ) from None
    return {}
