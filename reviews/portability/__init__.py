"""Backup and restore: one workload with everything it owns as a JSON document.

`workload_export` writes the document, `workload_import` restores it on this or another
Archlens instance (the `export_workload` and `import_workload` commands call them):

    {"format": "archlens-workload", "version": 1,
     "lenses": [{"alias", "version", "status", "published_at", "document"}],
     "workload": {"public_id", "name", "description", "environment", "regions", "review_owner",
                  "architectural_design_url", "industry_type", "industry", "pillar_priorities",
                  "notes", "tags", "created_at", "updated_at"},
     "members": [{"username", "email", "role"}],       # exactly one OWNER: the workload's owner
     "team_shares": [{"team", "role"}],                # optional: files before teams lack it
     "lens_reviews": [{"lens", "lens_version", "is_active", "notes", "notes_version", "version",
                       "created_at", "updated_at",
                       "pillar_notes": [{"pillar", "notes", "notes_version"}],
                       "answers": [{"question", "is_applicable", "reason", "notes",
                                    "notes_version", "notes_updated_by" (optional), "risk",
                                    "version", "updated_by", "updated_at",
                                    "choices": [{"choice", "status", "reason", "notes"}],
                                    "events": [{"user", "at", "changes"}],
                                    "improvement": null | {"status", "assignee", "due_date",
                                        "comment", "is_open", "created_at", "updated_at",
                                        "events": [{"user", "at", "text"}]}}]}],
     "milestones": [{"number", "name", "recorded_at", "recorded_by", "high_count",
                     "medium_count", "answered_count", "question_count", "data"}]}

People are named by username and matched by username on import, members whose username is
not known by their email address; teams by name (case and spaces aside); lens content by alias and
version name, with the custom-lens document of every version used, so a missing version is
imported first. Reports are left out: they are built again from the data. The document is
deterministic (sorted keys, lists in lens order, by number or by time), so export → import →
export gives the same text. An import checks the whole file first, names the place of every
problem (`lens_reviews[0].answers[3].question: unknown question 'sec99'`) and, when there is
one, changes nothing.
"""

from reviews.portability.checks import PortabilityError, read_workload_file
from reviews.portability.export import FORMAT, FORMAT_VERSION, dumps, workload_export
from reviews.portability.restore import ImportResult, workload_import

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ImportResult",
    "PortabilityError",
    "dumps",
    "read_workload_file",
    "workload_export",
    "workload_import",
]
