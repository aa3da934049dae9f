"""The lens versions a workload file needs: found here by alias and version, or imported."""

from __future__ import annotations

import datetime
import json
from typing import Any

from lenses.lens_format import LensFileError, read_lens_file
from lenses.models import Lens, LensVersion
from lenses.services import (
    BUILTIN_ALIAS,
    LensError,
    lens_import,
    lens_version_deprecate,
    lens_version_publish,
)
from reviews.portability.checks import PortabilityError


def lens_version_restore(
    *,
    path: str,
    alias: str,
    version: str,
    status: str,
    published_at: datetime.datetime | None,
    document: dict[str, Any],
) -> tuple[LensVersion, bool]:
    """The version `version` of lens `alias`, and whether it had to be imported from `document`.

    A version found here must have the same content; a missing one is imported and published
    under its name, with its publication time and status. Raises PortabilityError, its errors
    placed under `path`.
    """
    raw = json.dumps(document, ensure_ascii=False).encode()
    try:
        checked = read_lens_file(raw)
    except LensFileError as exc:
        raise PortabilityError([f"{path}.document.{error}" for error in exc.errors]) from exc
    existing = (
        LensVersion.objects.filter(lens__alias=alias, version=version)
        .select_related("lens")
        .first()
    )
    if existing is not None:
        if existing.digest != checked.digest:
            raise _refuse(
                path,
                f"lens '{alias}' version '{version}' exists here with different content; "
                "the answers could not mean the same thing in both",
            )
        return existing, False
    lens = Lens.objects.filter(alias=alias).first()
    if lens is None and alias == BUILTIN_ALIAS:
        raise _refuse(path, "the built-in lens is not loaded here; run manage.py load_builtin_lens")
    if lens is not None and lens.versions.filter(status=LensVersion.Status.DRAFT).exists():
        # Importing would replace the draft (a lens has one), and someone may be working on it.
        raise _refuse(
            path,
            f"lens '{alias}' has no version '{version}' here and has an unpublished draft; "
            "publish or delete the draft first, then import again",
        )
    try:
        # The version may hold what another version of the lens holds under another name.
        draft = lens_import(raw=raw, alias=alias, refuse_identical=False)
        imported = lens_version_publish(lens_version=draft, version=version)
    except (LensFileError, LensError) as exc:
        raise _refuse(path, f"cannot import lens '{alias}' version '{version}': {exc}") from exc
    # The original publication time keeps an older version from becoming the newest one.
    if published_at is not None:
        LensVersion.objects.filter(pk=imported.pk).update(published_at=published_at)
    if status == LensVersion.Status.DEPRECATED:
        lens_version_deprecate(lens_version=imported)
    # Publishing shows the version's name in the catalogue; that belongs to the newest one.
    newest = (
        LensVersion.objects.filter(lens=imported.lens_id, status=LensVersion.Status.PUBLISHED)
        .order_by("-published_at")
        .first()
    )
    if newest is not None and newest.pk != imported.pk:
        Lens.objects.filter(pk=imported.lens_id).update(
            name=newest.name, description=newest.description
        )
    return LensVersion.objects.select_related("lens").get(pk=imported.pk), True


def _refuse(path: str, message: str) -> PortabilityError:
    return PortabilityError([f"{path}: {message}"])
