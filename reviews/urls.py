from django.urls import path, register_converter
from django.urls.converters import StringConverter

from reviews.views import (
    activity,
    answers,
    branding,
    dashboard,
    exports,
    improvements,
    milestones,
    reports,
    review,
    sharing,
    upgrades,
    workbooks,
    workloads,
)

app_name = "reviews"


class KeyConverter(StringConverter):
    """An id in a path: any text but "/" and NUL.

    No id holds a NUL, and PostgreSQL refuses one in a query ("%00" in a path gave a 500):
    refused here, such a path is a 404 before any view runs.
    """

    regex = r"[^/\x00]+"


register_converter(KeyConverter, "key")

workload = "workloads/<key:public_id>/"
lens_review = workload + "lenses/<slug:alias>/"
question = lens_review + "questions/<key:question_id>/"
milestone = workload + "milestones/<int:number>/lenses/<slug:alias>/"

urlpatterns = [
    # First: the workshop screen's polls and ticks are most requests, and Django tries the
    # patterns in order (no other pattern matches these paths).
    path(question, answers.question_detail, name="question"),
    path(question + "poll/", answers.question_poll, name="question_poll"),
    path(question + "choices/<key:choice_id>/", answers.choice_update, name="choice_update"),
    path(question + "applicability/", answers.applicability_update, name="applicability"),
    path(question + "notes/", answers.notes_update, name="question_notes"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/workloads.xlsx", workbooks.dashboard_xlsx, name="dashboard_xlsx"),
    path("workloads/", workloads.workload_list, name="workload_list"),
    path("workloads/new/", workloads.workload_create, name="workload_create"),
    path(workload, workloads.workload_detail, name="workload_detail"),
    path(workload + "edit/", workloads.workload_edit, name="workload_edit"),
    path(workload + "delete/", workloads.workload_delete, name="workload_delete"),
    path(workload + "lenses/", workloads.workload_lenses, name="workload_lenses"),
    path(workload + "sharing/", sharing.sharing, name="sharing"),
    path(workload + "sharing/<int:user_id>/", sharing.member_update, name="member_update"),
    path(workload + "sharing/transfer/", sharing.transfer, name="transfer"),
    path(workload + "sharing/teams/", sharing.team_share, name="team_share"),
    path(
        workload + "sharing/teams/<int:team_id>/",
        sharing.team_share_update,
        name="team_share_update",
    ),
    path(workload + "activity/", activity.activity, name="activity"),
    path(workload + "answers.xlsx", workbooks.answers_xlsx, name="answers_xlsx"),
    path(workload + "milestones/", milestones.milestones, name="milestones"),
    path(workload + "compare/", milestones.compare, name="compare"),
    path(milestone, milestones.milestone_overview, name="milestone_overview"),
    path(
        milestone + "pillars/<key:pillar_id>/",
        milestones.milestone_pillar,
        name="milestone_pillar",
    ),
    path(
        milestone + "questions/<key:question_id>/",
        milestones.milestone_question,
        name="milestone_question",
    ),
    path(
        milestone + "improvements/",
        milestones.milestone_improvements,
        name="milestone_improvements",
    ),
    path(lens_review, review.overview, name="overview"),
    path(lens_review + "poll/", review.overview_poll, name="overview_poll"),
    path(lens_review + "notes/", review.lens_notes, name="lens_notes"),
    path(lens_review + "upgrade/", upgrades.lens_review_upgrade_view, name="upgrade"),
    path(lens_review + "pillars/<key:pillar_id>/", review.pillar_detail, name="pillar"),
    path(lens_review + "pillars/<key:pillar_id>/notes/", review.pillar_notes, name="pillar_notes"),
    path(lens_review + "improvements/", improvements.improvement_plan, name="improvement_plan"),
    path(
        lens_review + "improvements/<int:item_id>/",
        improvements.improvement_update,
        name="improvement_update",
    ),
    path(
        lens_review + "improvements/<int:item_id>/row/",
        improvements.improvement_row,
        name="improvement_row",
    ),
    path(
        lens_review + "improvements/bulk/", improvements.improvement_bulk, name="improvement_bulk"
    ),
    path(lens_review + "improvements.csv", exports.improvement_csv, name="improvement_csv"),
    path(lens_review + "answers.csv", exports.answers_csv, name="answers_csv"),
    path(lens_review + "improvements.xlsx", workbooks.improvement_xlsx, name="improvement_xlsx"),
    # reports (reviews.views.reports) and their branding
    path(workload + "reports/", reports.workload_reports, name="reports"),
    path(workload + "reports/<int:report_id>/", reports.report, name="report"),
    path(
        workload + "reports/<int:report_id>/download/",
        reports.report_download,
        name="report_download",
    ),
    path(
        workload + "reports/<int:report_id>/retry/",
        reports.report_retry_view,
        name="report_retry",
    ),
    path("reports/", reports.consolidated_reports, name="consolidated_reports"),
    path("reports/<int:report_id>/", reports.consolidated_report, name="consolidated_report"),
    path(
        "reports/<int:report_id>/download/",
        reports.consolidated_download,
        name="consolidated_download",
    ),
    path(
        "reports/<int:report_id>/retry/",
        reports.consolidated_retry,
        name="consolidated_retry",
    ),
    path("settings/branding/", branding.branding, name="branding"),
]
