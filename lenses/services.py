"""Lens workflows: import a lens file, publish and deprecate versions, export a version."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from lenses import conditions
from lenses.lens_format import RISK_NAMES, RISKS, Document, read_lens_file
from lenses.models import Choice, Lens, LensVersion, Pillar, Question, RiskRule
from reviews.errors import CONFLICT, NOT_FOUND, DomainError  # imports nothing: no cycle, no models

BUILTIN_ALIAS = "wellarchitected"
BUILTIN_PATH = Path(__file__).resolve().parent / "builtin" / "wellarchitected.json"
VERSION_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")
ALIAS = re.compile(r"[a-z0-9][a-z0-9_-]{0,127}")
MAJOR_MINOR = re.compile(r"\d{1,6}\.\d{1,6}")


class LensError(DomainError):
    """A lens action that cannot be done, with a message for the person who asked."""


@transaction.atomic
def lens_import(
    *,
    raw: bytes,
    user: AbstractBaseUser | None = None,
    alias: str | None = None,
    refuse_identical: bool = True,
    tags: dict[str, str] | None = None,
) -> LensVersion:
    """Import a lens file as the draft version of its lens (raises LensFileError, LensError).

    An explicit `alias` names the lens, whatever the file's name says: two different lenses
    can share a name. Without one, a lens with the alias made from the name, or else with the
    same name, gets the draft. A file identical to the lens's latest version is refused unless
    `refuse_identical` is off (a restore that brings a version under another name). `tags` are
    added to the lens's tags.
    """
    if alias is not None and not ALIAS.fullmatch(alias):
        raise LensError(
            f"“{alias}” is not a usable alias: use 1 to 128 lowercase letters, digits and dashes."
        )
    document = read_lens_file(raw)
    lens = lens_for_document(document, alias=alias, lock=True)
    if refuse_identical and lens is not None:
        latest = lens.versions.order_by("-created_at", "-pk").first()
        if latest is not None and latest.digest == document.digest:
            raise LensError(
                f"This file is identical to {lens.name} {latest.label} (alias '{lens.alias}'); "
                "nothing was imported.",
                CONFLICT,
            )
    version = _store_draft(
        document=document,
        user=user,
        alias=alias or default_alias(document.data["name"]),
        is_builtin=False,
        lens=lens,
    )
    if tags:
        version.lens.tags = {**version.lens.tags, **tags}
        version.lens.save(update_fields=["tags"])
    return version


# Version numbers and dates in a lens's name ("Games Lens v1.0.0 (2023-05)") would make its
# alias change with every release; they are left out of the alias made from the name.
VERSION_OR_DATE = re.compile(
    r"\b(v?\d+(\.\d+)+|v\d+|\d{4}-\d{2}(-\d{2})?|(19|20)\d{2}|version)\b", re.IGNORECASE
)


def default_alias(name: str) -> str:
    """A short, readable alias made from a lens name."""
    readable = slugify(VERSION_OR_DATE.sub(" ", name))[:128].strip("-")
    # A name without Latin letters or digits makes no slug; its hash keeps such lenses apart.
    return readable or slugify(name)[:128] or f"lens-{hashlib.sha1(name.encode()).hexdigest()[:10]}"


def lens_for_document(document: Document, *, alias: str | None, lock: bool = False) -> Lens | None:
    """The lens an import of `document` adds a draft to, or None for a new lens."""
    lenses = Lens.objects.select_for_update() if lock else Lens.objects.all()
    if alias is not None:
        return lenses.filter(alias=alias).first()
    name = document.data["name"]
    return (
        lenses.filter(alias=default_alias(name)).first() or lenses.filter(name__iexact=name).first()
    )


def free_alias(base: str) -> str:
    """`base`, or `base-2`, `base-3`… whichever no lens has yet."""
    taken = set(Lens.objects.filter(alias__startswith=base).values_list("alias", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base[:120]}-{number}" in taken:
        number += 1
    return f"{base[:120]}-{number}"


def _store_draft(
    *,
    document: Document,
    user: AbstractBaseUser | None,
    alias: str,
    is_builtin: bool,
    lens: Lens | None,
) -> LensVersion:
    name = document.data["name"]
    if lens is None:
        lens = Lens.objects.create(
            alias=alias,
            name=name,
            description=document.data.get("description", ""),
            owner=user,
            is_builtin=is_builtin,
        )
    # A lens has at most one draft: a new import replaces it, published versions stay as they are.
    lens.versions.filter(status=LensVersion.Status.DRAFT).delete()
    version = LensVersion.objects.create(
        lens=lens,
        name=name,
        description=document.data.get("description", ""),
        schema_version=document.data["schemaVersion"],
        source=document.text,
        digest=document.digest,
        warnings=document.warnings,
        created_by=user,
    )
    _create_content(version, document.data)
    lens.save(update_fields=["updated_at"])
    return version


def _create_content(version: LensVersion, data: dict[str, Any]) -> None:
    """Create pillars, questions, choices and rules with one bulk insert per table."""
    pillars = Pillar.objects.bulk_create(
        Pillar(
            lens_version=version,
            pillar_id=p["id"],
            name=p["name"],
            description=p.get("description", ""),
            order=i,
        )
        for i, p in enumerate(data["pillars"])
    )
    questions = []
    question_data = []
    for pillar, p in zip(pillars, data["pillars"], strict=True):
        for i, q in enumerate(p["questions"]):
            helpful = q.get("helpfulResource", {})
            questions.append(
                Question(
                    lens_version=version,
                    pillar=pillar,
                    question_id=q["id"],
                    title=q["title"],
                    description=q.get("description", ""),
                    helpful_resource_text=helpful.get("displayText", ""),
                    helpful_resource_url=helpful.get("url", ""),
                    additional_resources=q.get("additionalResources", []),
                    order=i,
                )
            )
            question_data.append(q)
    questions = Question.objects.bulk_create(questions)
    choices = []
    rules = []
    for question, q in zip(questions, question_data, strict=True):
        for i, c in enumerate(q["choices"]):
            helpful = c.get("helpfulResource", {})
            plan = c.get("improvementPlan", {})
            choices.append(
                Choice(
                    question=question,
                    choice_id=c["id"],
                    title=c["title"],
                    description=c.get("description", ""),
                    helpful_resource_text=helpful.get("displayText", ""),
                    helpful_resource_url=helpful.get("url", ""),
                    improvement_plan_text=plan.get("displayText", ""),
                    improvement_plan_url=plan.get("url", ""),
                    additional_resources=c.get("additionalResources", []),
                    order=i,
                    is_none=c["id"].endswith("_no"),
                )
            )
        for i, r in enumerate(q["riskRules"]):
            rules.append(
                RiskRule(
                    question=question,
                    condition=r["condition"],
                    expression=conditions.parse(r["condition"]),
                    risk=RISKS[r["risk"]],
                    order=i,
                )
            )
    Choice.objects.bulk_create(choices)
    RiskRule.objects.bulk_create(rules)


def suggest_version_name(lens: Lens) -> str:
    """The next version name: 1.0 first, then the newest MAJOR.MINOR with MINOR plus one."""
    names = lens.versions.exclude(version="").values_list("version", flat=True)
    numbered = [tuple(map(int, name.split("."))) for name in names if MAJOR_MINOR.fullmatch(name)]
    if not numbered:
        return "1.0"
    major, minor = max(numbered)
    return f"{major}.{minor + 1}"


@transaction.atomic
def lens_version_publish(*, lens_version: LensVersion, version: str) -> LensVersion:
    lens_version = LensVersion.objects.select_for_update().get(pk=lens_version.pk)
    version = version.strip()
    if not lens_version.is_draft:
        raise LensError(f"Version {lens_version.label} is already published.", CONFLICT)
    if not VERSION_NAME.fullmatch(version):
        raise LensError(
            "A version name is 1 to 32 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit (for example 1.0).",
            field="version",
        )
    if lens_version.lens.versions.filter(version=version).exists():
        raise LensError(
            f"Version {version} of this lens exists already.", CONFLICT, field="version"
        )
    lens_version.version = version
    lens_version.status = LensVersion.Status.PUBLISHED
    lens_version.published_at = timezone.now()
    lens_version.save(update_fields=["version", "status", "published_at"])
    # The catalogue shows the name and description of the newest published version.
    lens = lens_version.lens
    lens.name = lens_version.name
    lens.description = lens_version.description
    lens.save(update_fields=["name", "description", "updated_at"])
    return lens_version


@transaction.atomic
def lens_version_deprecate(*, lens_version: LensVersion) -> LensVersion:
    lens_version = LensVersion.objects.select_for_update().get(pk=lens_version.pk)
    if lens_version.status != LensVersion.Status.PUBLISHED:
        raise LensError("Only a published version can be deprecated.")
    lens_version.status = LensVersion.Status.DEPRECATED
    lens_version.save(update_fields=["status"])
    return lens_version


@transaction.atomic
def builtin_lens_load() -> tuple[LensVersion, bool]:
    """Load and publish the built-in lens unless this exact content is there already.

    Returns the version and whether it was created.
    """
    document = read_lens_file(BUILTIN_PATH.read_bytes())
    existing = (
        LensVersion.objects.filter(lens__alias=BUILTIN_ALIAS, digest=document.digest)
        .exclude(status=LensVersion.Status.DRAFT)
        .first()
    )
    if existing:
        return existing, False
    lens = lens_for_document(document, alias=BUILTIN_ALIAS, lock=True)
    draft = _store_draft(
        document=document, user=None, alias=BUILTIN_ALIAS, is_builtin=True, lens=lens
    )
    published = lens_version_publish(lens_version=draft, version=suggest_version_name(draft.lens))
    return published, True


def lens_used_by(lens: Lens) -> list[str]:
    """The names of the workloads whose reviews or milestones use the lens."""
    from reviews.models import LensReview  # reviews builds on lenses, not the other way round

    return sorted(
        set(LensReview.objects.filter(lens=lens).values_list("workload__name", flat=True))
    )


@transaction.atomic
def lens_delete(*, lens: Lens) -> None:
    """Delete a lens with all its versions, unless a review (or a milestone) uses it.

    A workload that stopped reviewing the lens keeps its review hidden, and its milestones may
    hold the lens's answers, so a lens once used in a workload stays until that workload goes.
    """
    if lens.is_builtin:
        raise LensError("The built-in lens cannot be deleted.")
    lens = Lens.objects.select_for_update().get(pk=lens.pk)
    used_by = lens_used_by(lens)
    if used_by:
        shown = ", ".join(f"“{name}”" for name in used_by[:5])
        more = f" and {len(used_by) - 5} more" if len(used_by) > 5 else ""
        raise LensError(
            f"“{lens.name}” is used by {len(used_by)} workload{'s' if len(used_by) != 1 else ''} "
            f"({shown}{more}), in reviews or milestones; it cannot be deleted.",
            CONFLICT,
        )
    lens.delete()


@transaction.atomic
def lens_draft_delete(*, lens: Lens) -> None:
    """Delete the lens's draft; a lens that was never published goes with it (nothing uses a
    draft: reviews are on published versions)."""
    lens = Lens.objects.select_for_update().get(pk=lens.pk)
    deleted, _ = lens.versions.filter(status=LensVersion.Status.DRAFT).delete()
    if not deleted:
        raise LensError(f"“{lens.name}” has no draft.", NOT_FOUND)
    if not lens.versions.exists():
        lens.delete()


def lens_version_content(lens_version: LensVersion) -> list[Pillar]:
    """Pillars with their questions, choices and rules, fetched in four queries."""
    return list(
        lens_version.pillars.prefetch_related(
            Prefetch(
                "questions",
                Question.objects.order_by("order").prefetch_related("choices", "risk_rules"),
            )
        )
    )


def lens_version_document(lens_version: LensVersion) -> dict[str, Any]:
    """The version as a custom-lens document, in the shape `read_lens_file` produces."""
    data: dict[str, Any] = {"schemaVersion": lens_version.schema_version, "name": lens_version.name}
    if lens_version.description:
        data["description"] = lens_version.description
    data["pillars"] = [_pillar_document(p) for p in lens_version_content(lens_version)]
    return data


def _pillar_document(pillar: Pillar) -> dict[str, Any]:
    data: dict[str, Any] = {"id": pillar.pillar_id, "name": pillar.name}
    if pillar.description:
        data["description"] = pillar.description
    data["questions"] = [_question_document(q) for q in pillar.questions.all()]
    return data


def _question_document(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {"id": question.question_id, "title": question.title}
    if question.description:
        data["description"] = question.description
    _put_content(
        data, "helpfulResource", question.helpful_resource_text, question.helpful_resource_url
    )
    if question.additional_resources:
        data["additionalResources"] = question.additional_resources
    data["choices"] = [_choice_document(c) for c in question.choices.all()]
    data["riskRules"] = [
        {"condition": rule.condition, "risk": RISK_NAMES[rule.risk]}
        for rule in question.risk_rules.all()
    ]
    return data


def _choice_document(choice: Choice) -> dict[str, Any]:
    data: dict[str, Any] = {"id": choice.choice_id, "title": choice.title}
    if choice.description:
        data["description"] = choice.description
    _put_content(data, "helpfulResource", choice.helpful_resource_text, choice.helpful_resource_url)
    _put_content(data, "improvementPlan", choice.improvement_plan_text, choice.improvement_plan_url)
    if choice.additional_resources:
        data["additionalResources"] = choice.additional_resources
    return data


def _put_content(data: dict[str, Any], key: str, text: str, url: str) -> None:
    content = {}
    if text:
        content["displayText"] = text
    if url:
        content["url"] = url
    if content:
        data[key] = content
