"""The consolidated report: every workload a user can see, side by side.

Per workload the questions answered, the high and medium risks and the score per lens and
pillar, the totals, and the questions most often at risk across workloads. Six queries
whatever the number of workloads: the workloads, one aggregate of answers per workload and
pillar, one per question, and for the scores the active lens reviews, their choices and their
answers with choice rows.
Filters (environment, tag, owner, question) are the dashboard's, stored in Report.filters.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Max, Min, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from reviews import workbooks
from reviews.dashboard import lens_order
from reviews.errors import NOT_FOUND
from reviews.models import Answer, AnswerRisk, LensReview, Report, Workload
from reviews.reports.services import ReportError
from reviews.score_selectors import lens_score, review_practices
from reviews.scores import mean_score

TOP_RISKS = 10
# As on the dashboard: tag is "key" or "key=value", owner a username, question
# "lens-alias:question-id" (only workloads where that question is high or medium risk).
FILTER_KEYS = ("environment", "tag", "owner", "question", "team")
_RISK_COUNTS = {
    "questions": Count("pk"),
    "unanswered": Count("pk", filter=Q(risk=AnswerRisk.UNANSWERED)),
    "high": Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
    "medium": Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
    "none": Count("pk", filter=Q(risk=AnswerRisk.NONE)),
    "not_applicable": Count("pk", filter=Q(risk=AnswerRisk.NOT_APPLICABLE)),
}
COUNT_KEYS = ("questions", "answered", "high", "medium", "none", "not_applicable", "unanswered")


def clean_filters(filters: dict[str, Any]) -> dict[str, str]:
    """The filters that are set, as stripped strings (unknown keys dropped)."""
    return {key: str(filters[key]).strip() for key in FILTER_KEYS if filters.get(key)}


def filtered_workloads(user: Any, filters: dict[str, Any]) -> QuerySet[Workload]:
    """The workloads the user can see, narrowed like the dashboard narrows them."""
    workloads = Workload.objects.for_user(user)
    filters = clean_filters(filters)
    if environment := filters.get("environment"):
        workloads = workloads.filter(environment=environment)
    if owner := filters.get("owner"):
        workloads = workloads.filter(owner__username=owner)
    if team := filters.get("team"):
        workloads = workloads.of_team(team)
    if tag := filters.get("tag"):
        key, equals, value = tag.partition("=")
        key = key.strip()
        if not equals:
            workloads = workloads.filter(tags__has_key=key)
        else:
            # As on the workload list: the key is quoted into the JSON path, the value compared
            # as plain text.
            tag_value = Cast(KeyTextTransform(key, "tags"), output_field=TextField())
            workloads = workloads.alias(tag_value=tag_value).filter(tag_value=value.strip())
    if question := filters.get("question"):
        alias, _, question_id = question.partition(":")
        risky = Answer.objects.filter(
            lens_review__is_active=True,
            lens_review__lens__alias=alias,
            question__question_id=question_id,
            risk__in=[AnswerRisk.HIGH, AnswerRisk.MEDIUM],
        ).values("lens_review__workload_id")
        workloads = workloads.filter(pk__in=risky)
    return workloads


def _counts(row: dict[str, Any]) -> dict[str, int]:
    counts = {key: row.get(key, 0) for key in COUNT_KEYS if key != "answered"}
    counts["answered"] = counts["questions"] - counts["unanswered"]
    return counts


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key in COUNT_KEYS:
        total[key] = total.get(key, 0) + more.get(key, 0)


def requester(report: Report) -> Any:
    """Whose workloads a consolidated report covers: the person who asked for it."""
    if report.requested_by is None:
        raise ReportError("The account that asked for this report no longer exists.", NOT_FOUND)
    return report.requested_by


def consolidated_data(*, user: Any, filters: dict[str, Any]) -> dict[str, Any]:
    """The consolidated numbers as plain data (the JSON report is exactly this)."""
    workloads = filtered_workloads(user, filters)
    rows = list(
        workloads.order_by("name_key").values(
            "pk",
            "public_id",
            "name",
            "environment",
            "review_owner",
            "tags",
            "owner__username",
            "updated_at",
        )
    )
    answers = Answer.objects.filter(
        lens_review__workload__in=workloads.values("pk"), lens_review__is_active=True
    )
    active_reviews = LensReview.objects.filter(workload__in=workloads.values("pk"), is_active=True)
    per_pillar = (
        answers.values(
            "lens_review__workload_id",
            "lens_review__lens__alias",
            "lens_review__lens__is_builtin",
            "question__pillar__pillar_id",
        )
        .annotate(
            lens_name=Max("lens_review__lens__name"),
            pillar_name=Max("question__pillar__name"),
            pillar_order=Min("question__pillar__order"),
            **_RISK_COUNTS,
        )
        .order_by()
    )
    # Pillars belong to their lens: a "security" pillar of another lens is not the built-in
    # lens's Security, so everything is keyed by (lens alias, pillar id) and grouped by lens.
    lenses: dict[str, dict[str, Any]] = {}
    pillars: dict[tuple[str, str], dict[str, Any]] = {}
    by_workload: dict[int, dict[tuple[str, str], dict[str, int]]] = {}
    for row in per_pillar:
        alias = row["lens_review__lens__alias"]
        key = (alias, row["question__pillar__pillar_id"])
        lenses.setdefault(
            alias,
            {
                "alias": alias,
                "name": row["lens_name"],
                "is_builtin": row["lens_review__lens__is_builtin"],
            },
        )
        pillar = pillars.setdefault(
            key, {"id": key[1], "name": row["pillar_name"], "order": row["pillar_order"]}
        )
        pillar["order"] = min(pillar["order"], row["pillar_order"])
        by_workload.setdefault(row["lens_review__workload_id"], {})[key] = _counts(row)
    # The built-in lens first, then the others by name; pillars in lens order.
    ordered = sorted(
        lenses.values(),
        key=lambda lens: lens_order(lens["is_builtin"], lens["name"], lens["alias"]),
    )
    keys_of = {
        lens["alias"]: sorted(
            (key for key in pillars if key[0] == lens["alias"]),
            key=lambda key: (pillars[key]["order"], key[1]),
        )
        for lens in ordered
    }

    # Scores: per workload, of each (lens alias, pillar id) and of each lens; a portfolio's are
    # the means of its workloads' (reviews.scores).
    owner_of = {
        pk: (workload_id, alias)
        for pk, workload_id, alias in active_reviews.values_list("pk", "workload_id", "lens__alias")
    }
    pillar_scores: dict[int, dict[tuple[str, str], float | None]] = {}
    lens_scores: dict[int, dict[str, float | None]] = {}
    for review_id, practices in review_practices(active_reviews).items():
        workload_id, alias = owner_of[review_id]
        for pillar_id, pillar in practices.items():
            pillar_scores.setdefault(workload_id, {})[alias, pillar_id] = pillar.score
        lens_scores.setdefault(workload_id, {})[alias] = lens_score(practices)

    def lens_groups(
        counts: dict[tuple[str, str], dict[str, int]],
        scores: dict[tuple[str, str], float | None],
        whole_lens: dict[str, float | None],
    ) -> list[dict[str, Any]]:
        """The lenses of `counts` in order, each with its totals, score and its pillars' counts
        and scores."""
        groups = []
        for lens in ordered:
            keys = [key for key in keys_of[lens["alias"]] if key in counts]
            if not keys:
                continue
            totals = dict.fromkeys(COUNT_KEYS, 0)
            for key in keys:
                _add(totals, counts[key])
            groups.append(
                {
                    **lens,
                    **totals,
                    "score": whole_lens.get(lens["alias"]),
                    "pillars": [
                        {
                            "id": key[1],
                            "name": pillars[key]["name"],
                            **counts[key],
                            "score": scores.get(key),
                        }
                        for key in keys
                    ],
                }
            )
        return groups

    grand: dict[str, int] = dict.fromkeys(COUNT_KEYS, 0)
    workload_data = []
    portfolio: dict[tuple[str, str], dict[str, int]] = {}
    reviewing: dict[str, int] = dict.fromkeys(lenses, 0)
    for row in rows:
        counts = by_workload.get(row["pk"], {})
        totals = dict.fromkeys(COUNT_KEYS, 0)
        for key, value in counts.items():
            _add(totals, value)
            _add(portfolio.setdefault(key, {}), value)
        for alias in {key[0] for key in counts}:
            reviewing[alias] += 1
        _add(grand, totals)
        scores_here = lens_scores.get(row["pk"], {})
        workload_data.append(
            {
                "id": row["public_id"],
                "name": row["name"],
                "environment": row["environment"],
                "owner": row["owner__username"],
                "review_owner": row["review_owner"],
                "tags": row["tags"] or {},
                "updated_at": row["updated_at"],
                **totals,
                "score": mean_score(scores_here.values()),
                "lenses": lens_groups(counts, pillar_scores.get(row["pk"], {}), scores_here),
            }
        )
    shown = [row["pk"] for row in rows]
    portfolio_pillars = {
        key: mean_score(pillar_scores.get(pk, {}).get(key) for pk in shown) for key in pillars
    }
    portfolio_lenses = {
        alias: mean_score(lens_scores.get(pk, {}).get(alias) for pk in shown) for alias in lenses
    }
    lens_data = [
        {**group, "workloads": reviewing[group["alias"]]}
        for group in lens_groups(portfolio, portfolio_pillars, portfolio_lenses)
    ]
    common = (
        answers.filter(risk__in=[AnswerRisk.HIGH, AnswerRisk.MEDIUM])
        .values("lens_review__lens__alias", "question__question_id")
        .annotate(
            title=Max("question__title"),
            pillar=Max("question__pillar__name"),
            lens_name=Max("lens_review__lens__name"),
            # One active review per lens and workload, one answer per question: one per workload.
            workloads=Count("pk"),
            high=Count("pk", filter=Q(risk=AnswerRisk.HIGH)),
            medium=Count("pk", filter=Q(risk=AnswerRisk.MEDIUM)),
        )
        .order_by("-workloads", "-high", "lens_review__lens__alias", "question__question_id")[
            :TOP_RISKS
        ]
    )
    return {
        "filters": clean_filters(filters),
        "totals": {
            "workloads": len(workload_data),
            **grand,
            "score": mean_score(workload["score"] for workload in workload_data),
        },
        "lenses": lens_data,
        "workloads": workload_data,
        "common_risks": [
            {
                "lens": row["lens_review__lens__alias"],
                "lens_name": row["lens_name"],
                "question_id": row["question__question_id"],
                "title": row["title"],
                "pillar": row["pillar"],
                "workloads": row["workloads"],
                "high": row["high"],
                "medium": row["medium"],
            }
            for row in common
        ],
    }


def consolidated_json(report: Report) -> bytes:
    data = consolidated_data(user=requester(report), filters=report.filters)
    document = {
        "report": {
            "kind": "consolidated",
            "id": report.pk,
            "generated_at": timezone.now(),
            "requested_by": report.requested_by.get_username(),
        },
        **data,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()


def consolidated_xlsx(report: Report) -> bytes:
    data = consolidated_data(user=requester(report), filters=report.filters)
    return workbooks.consolidated_workbook(data, generated_at=timezone.now())
