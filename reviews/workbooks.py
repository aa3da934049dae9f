"""Excel workbooks: a workload's answers, a lens review's improvement plan, the dashboard's
workload table and the consolidated report.

The builders take data already selected (snapshots, plan entries, the dashboard's Portfolio, the
consolidated report's data) and return the bytes of an .xlsx file; they run no query.

Every sheet has a bold header row that stays in view (frozen), a filter over its data, column
widths that fit their content and wrapped long text. Text is what people typed and lens files
brought, so every text cell goes through `safe_text`:
- characters that XML 1.0 cannot hold (control characters but tab and line ends) are dropped:
  openpyxl refuses to write them, and they carry nothing a reader could see;
- text that a spreadsheet would run as a formula gets the CSV exports' leading apostrophe
  (`safe_cell`), and is written as a string, never as a formula;
- text longer than a cell holds (32,767 characters) is cut, saying so at its end.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from lenses.templatetags.links import http_url
from reviews.improvements import person_label
from reviews.models import AnswerRisk, ChoiceAnswer, ImprovementStatus, Reason, Workload
from reviews.scores import question_practices

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Spreadsheets run a cell starting with one of these as a formula (a tab or carriage return
# first hides what follows); the CSV and Excel exports put an apostrophe before them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CELL_LIMIT = 32_767  # characters in one Excel cell
CUT = "… [cut: longer than an Excel cell holds]"
# What XML 1.0 refuses: C0 control characters but tab, line feed and carriage return.
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SHEET_NAME_LIMIT = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
URL_LIMIT = 2_000  # longer links are kept as text only: Excel drops longer hyperlinks
LINES = "\n"
WIDTH_MIN, WIDTH_MAX = 8, 60
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"
NOT_COUNTED = "(not counted: the question does not apply)"

HEADER_FONT = Font(bold=True)
LINK_FONT = Font(color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def safe_cell(value: Any) -> str:
    """A value as spreadsheet text, with an apostrophe before what would run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def safe_text(value: Any) -> str:
    """Text for an Excel cell: without illegal characters, defused, and at most a cell long."""
    text = safe_cell(ILLEGAL.sub("", "" if value is None else str(value)))
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - len(CUT)] + CUT
    return text


@dataclass(frozen=True)
class Link:
    """A cell that shows `text` and opens `url` (only http and https links become links)."""

    text: str
    url: str


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 0  # 0: fit the content
    number_format: str = ""
    wrap: bool = False


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, not starting or
    ending with an apostrophe, and unique in the workbook ignoring case ("Name (2)" …)."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", ILLEGAL.sub("", name))
    base = " ".join(base.split()).strip("'").strip() or "Sheet"
    title, number = base[:SHEET_NAME_LIMIT].strip(), 1
    while title.casefold() in taken or title.casefold() == "history":  # reserved by Excel
        number += 1
        suffix = f" ({number})"
        title = base[: SHEET_NAME_LIMIT - len(suffix)].strip() + suffix
    taken.add(title.casefold())
    return title


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for sheet in sheets:
        _write(book.create_sheet(sheet_title(sheet.title, taken)), sheet)
    if not book.worksheets:  # a workbook needs a sheet
        book.create_sheet("Empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write(worksheet: Worksheet, sheet: Sheet) -> None:
    columns = list(sheet.columns)
    widths = [len(column.title) for column in columns]
    for index, column in enumerate(columns, start=1):
        cell = worksheet.cell(row=1, column=index, value=safe_text(column.title))
        cell.data_type = "s"
        cell.font = HEADER_FONT
        cell.alignment = WRAP
    # Setting a style through openpyxl's attributes looks it up in the workbook's style tables,
    # which took most of the time of a large sheet; each (column, kind) is styled once and its
    # cells then take a copy of that style, as openpyxl's own worksheet copy does.
    styles: dict[tuple[int, str], Any] = {}
    row_number = 1
    for row_number, row in enumerate(sheet.rows, start=2):
        for index, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = worksheet.cell(row=row_number, column=index)
            kind, shown = _set(cell, value)
            if not kind:
                continue
            if kind == "number" and column.number_format == PERCENT_FORMAT:
                shown = "100%"
            style = styles.get((index, kind))
            if style is None:
                _style(cell, kind, column)
                styles[index, kind] = copy(cell._style)
            else:
                cell._style = copy(style)
            longest = max(len(line) for line in shown.split("\n"))
            widths[index - 1] = max(widths[index - 1], longest)
    for index, column in enumerate(columns, start=1):
        width = column.width or min(max(widths[index - 1] + 2, WIDTH_MIN), WIDTH_MAX)
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = "A2"
    if columns:
        worksheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{row_number}"


def _set(cell: Any, value: Any) -> tuple[str, str]:
    """Write one value; returns its kind (how it is styled, "" for an empty cell) and the text
    it shows, to size the column."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, bool):
        value = "Yes" if value else "No"
    if isinstance(value, Link):
        text = safe_text(value.text or value.url)
        cell.value = text
        cell.data_type = "s"
        url = ILLEGAL.sub("", http_url(value.url))
        if url and len(url) <= URL_LIMIT:
            cell.hyperlink = url
            return "link", text
        return "text", text
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: the time as shown on the site.
        cell.value = timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
        return "datetime", "0000-00-00 00:00"
    if isinstance(value, datetime.date):
        cell.value = value
        return "date", "0000-00-00"
    if isinstance(value, int | float):
        cell.value = value
        return "number", str(value)
    text = safe_text(value)
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever openpyxl would guess
    return "text", text


def _style(cell: Any, kind: str, column: Column) -> None:
    cell.alignment = WRAP if column.wrap and kind in ("text", "link") else TOP
    if kind == "link":
        cell.font = LINK_FONT
    elif kind == "datetime":
        cell.number_format = column.number_format or DATETIME_FORMAT
    elif kind == "date":
        cell.number_format = column.number_format or DATE_FORMAT
    elif kind == "number" and column.number_format:
        cell.number_format = column.number_format


def _label(choices: type, value: str) -> str:
    return choices(value).label if value in choices.values else value


def _reason(value: str) -> str:
    return "" if not value or value == Reason.NONE else _label(Reason, value)


# -- answers -------------------------------------------------------------------------------------

ANSWER_COLUMNS = (
    Column("Pillar", wrap=True),
    Column("Question ID"),
    Column("Question", width=50, wrap=True),
    Column("Risk"),
    Column("Prioritised"),
    Column("Score", number_format=PERCENT_FORMAT),
    Column("Ticked choices", width=50, wrap=True),
    Column("Not applicable choices", width=50, wrap=True),
    Column("Question applies"),
    Column("Reason the question does not apply", width=24, wrap=True),
    Column("Notes", width=60, wrap=True),
)


def _answer_row(
    pillar: dict[str, Any], question: dict[str, Any], prioritised: set[str]
) -> list[Any]:
    choices = question["choices"]
    practices = question_practices(
        ((choice["is_none"], choice["status"]) for choice in choices),
        is_applicable=question["is_applicable"],
    )
    ticked = [c["title"] for c in choices if c["status"] == ChoiceAnswer.Status.SELECTED]
    if ticked and not question["is_applicable"]:
        ticked.append(NOT_COUNTED)
    ruled_out = []
    for choice in choices:
        if choice["status"] != ChoiceAnswer.Status.NOT_APPLICABLE:
            continue
        why = " – ".join(part for part in (_reason(choice["reason"]), choice["notes"]) if part)
        ruled_out.append(f"{choice['title']}: {why}" if why else choice["title"])
    return [
        pillar["name"],
        question["id"],
        question["title"],
        _label(AnswerRisk, question["risk"]),
        question["id"] in prioritised,
        None if practices.score is None else practices.score / 100,
        LINES.join(ticked),
        LINES.join(ruled_out),
        question["is_applicable"],
        "" if question["is_applicable"] else _reason(question["reason"]),
        question["notes"],
    ]


def answers_workbook(
    snapshots: Iterable[dict[str, Any]], prioritised: set[tuple[str, str]] = frozenset()
) -> bytes:
    """One sheet per lens review (reviews.snapshots), a row per question in lens order.

    `prioritised` holds (lens alias, question id) of the questions the workload's profile
    prioritises (profiles.selectors.prioritised_questions).
    """
    return workbook_bytes(
        Sheet(
            snapshot["lens"]["name"],
            ANSWER_COLUMNS,
            (
                _answer_row(
                    pillar,
                    question,
                    {q for alias, q in prioritised if alias == snapshot["lens"]["alias"]},
                )
                for pillar in snapshot["pillars"]
                for question in pillar["questions"]
            ),
        )
        for snapshot in snapshots
    )


# -- improvement plan ----------------------------------------------------------------------------

PLAN_COLUMNS = (
    Column("Pillar", wrap=True),
    Column("Question ID"),
    Column("Question", width=50, wrap=True),
    Column("Risk"),
    Column("Status"),
    Column("Assignee", wrap=True),
    Column("Due date"),
    Column("Overdue"),
    Column("Missing best practices", width=50, wrap=True),
    Column("Improvement plan", width=40, wrap=True),
    Column("Comment", width=50, wrap=True),
)
LINK_COLUMNS = (
    Column("Pillar", wrap=True),
    Column("Question ID"),
    Column("Question", width=50, wrap=True),
    Column("Best practice", width=50, wrap=True),
    Column("Improvement plan", width=50, wrap=True),
)


def _plan_link(missing: list[dict[str, Any]]) -> Link | str:
    """The question's improvement link; when its practices have several, the first, and the
    Improvement links sheet lists them all."""
    links = {}
    for choice in missing:
        plan = choice["improvement_plan"]
        if http_url(plan["url"]):
            links.setdefault(http_url(plan["url"]), plan["text"])
    if not links:
        return ""
    url, text = next(iter(links.items()))
    more = f" (and {len(links) - 1} more on the Improvement links sheet)" if len(links) > 1 else ""
    return Link(f"{text or url}{more}", url)


def plan_workbook(entries: Iterable[dict[str, Any]]) -> bytes:
    """The plan's entries (reviews.selectors.plan_of, filtered as on the page): a row per risky
    question, and a sheet with a row per missing best practice and its improvement link."""
    entries = list(entries)
    rows, link_rows = [], []
    for entry in entries:
        pillar, question, item = entry["pillar"], entry["question"], entry["item"]
        rows.append(
            [
                pillar["name"],
                question["id"],
                question["title"],
                _label(AnswerRisk, question["risk"]),
                _label(ImprovementStatus, item.status) if item else "",
                person_label(item.assignee) if item and item.assignee else "",
                item.due_date if item and item.due_date else None,
                entry["overdue"],
                LINES.join(choice["title"] for choice in entry["missing"]),
                _plan_link(entry["missing"]),
                item.comment if item else "",
            ]
        )
        for choice in entry["missing"]:
            plan = choice["improvement_plan"]
            url = http_url(plan["url"])
            link = Link(plan["text"] or url, url) if url else plan["text"]
            link_rows.append(
                [pillar["name"], question["id"], question["title"], choice["title"], link]
            )
    return workbook_bytes(
        [
            Sheet("Improvement plan", PLAN_COLUMNS, rows),
            Sheet("Improvement links", LINK_COLUMNS, link_rows),
        ]
    )


# -- the dashboard's workload table --------------------------------------------------------------


def _environment(value: str) -> str:
    return _label(Workload.Environment, value)


def _improvement(value: str) -> str:
    return "None" if value == "NONE" else _label(ImprovementStatus, value)


def dashboard_workbook(data: Any, filters: dict[str, str]) -> bytes:
    """The dashboard's workload table (reviews.dashboard.Portfolio), riskiest first, every page
    of it: a row per workload with its high and medium risks per pillar of the main lens; and
    the filters it was narrowed by."""
    pillars = data.main_pillars
    columns = [
        Column("Workload", width=30, wrap=True),
        Column("Environment"),
        Column("Owner"),
        Column("Questions answered"),
        Column("Questions"),
        Column("High risks"),
        Column("Medium risks"),
    ]
    for pillar in pillars:
        columns += [Column(f"{pillar.name}: high"), Column(f"{pillar.name}: medium")]
    if data.has_other_pillars:
        columns += [Column("Other lenses: high"), Column("Other lenses: medium")]
    columns += [
        Column("Worst pillar", wrap=True),
        Column("Improvement status"),
        Column("Lenses", width=30, wrap=True),
        Column("Deprecated lens versions", wrap=True),
        Column("Last updated"),
    ]
    question = filters.get("question", "")
    if question:
        columns.append(Column(f"Risk of {question}"))
    rows = []
    for workload in data.rows:
        row = [
            workload.name,
            _environment(workload.environment),
            workload.owner,
            workload.answered,
            workload.total,
            workload.high,
            workload.medium,
        ]
        for cell in workload.cells:
            row += [cell.high, cell.medium] if cell else [0, 0]
        if data.has_other_pillars:
            row += [workload.other_high, workload.other_medium]
        worst = workload.worst
        row += [
            f"{worst.name} ({worst.lens_name})" if worst else "",
            _improvement(workload.improvement),
            LINES.join(workload.lenses),
            LINES.join(workload.deprecated),
            workload.last_updated,
        ]
        if question:
            row.append(_label(AnswerRisk, workload.question_risk))
        rows.append(row)
    return workbook_bytes(
        [Sheet("Workloads", columns, rows), _filters_sheet(filters, data.main_lens)]
    )


FILTER_LABELS = {
    "environment": "Environment",
    "tag": "Tag",
    "owner": "Owner",
    "team": "Team",
    "lens": "Lens",
    "question": "Question at high or medium risk",
}


def _filter_rows(filters: dict[str, str], lens_name: str = "") -> list[list[str]]:
    """A row per filter: its label and value ("Any" when not set)."""
    rows = []
    for key, label in FILTER_LABELS.items():
        value = filters.get(key, "")
        if key == "environment" and value:
            value = _environment(value)
        if key == "lens" and value and lens_name:
            value = lens_name
        rows.append([label, value or "Any"])
    return rows


def _filters_sheet(filters: dict[str, str], main_lens: Any = None) -> Sheet:
    rows = _filter_rows(filters, main_lens.name if main_lens else "")
    return Sheet("Filters", (Column("Filter"), Column("Value", width=40, wrap=True)), rows)


# -- the consolidated report ---------------------------------------------------------------------

COUNT_COLUMNS = (
    ("questions", "Questions"),
    ("answered", "Answered"),
    ("high", "High risks"),
    ("medium", "Medium risks"),
    ("none", "No risk"),
    ("not_applicable", "Not applicable"),
    ("unanswered", "Unanswered"),
)


def _counts(counts: dict[str, int]) -> list[int]:
    return [counts.get(key, 0) for key, _ in COUNT_COLUMNS]


def _count_columns() -> list[Column]:
    return [Column(title) for _, title in COUNT_COLUMNS]


def consolidated_workbook(data: dict[str, Any], *, generated_at: datetime.datetime) -> bytes:
    """The consolidated report's numbers (reviews.reports.consolidated.consolidated_data): the
    totals, every workload, their risks per lens and pillar, the portfolio's per lens and
    pillar, and the most common risks."""
    totals = data["totals"]
    summary = [
        ["Workloads", totals["workloads"]],
        *([title, totals.get(key, 0)] for key, title in COUNT_COLUMNS),
        ["Generated", generated_at],
        # The consolidated report has no lens filter.
        *(row for row in _filter_rows(data["filters"]) if row[0] != FILTER_LABELS["lens"]),
    ]
    workloads = [
        [
            workload["name"],
            _environment(workload["environment"]),
            workload["owner"],
            workload["review_owner"],
            LINES.join(f"{key}={value}" for key, value in workload["tags"].items()),
            workload["updated_at"],
            *_counts(workload),
        ]
        for workload in data["workloads"]
    ]
    pillars = [
        [workload["name"], lens["name"], pillar["name"], *_counts(pillar)]
        for workload in data["workloads"]
        for lens in workload["lenses"]
        for pillar in lens["pillars"]
    ]
    lenses = [
        [lens["name"], pillar["name"], lens["workloads"], *_counts(pillar)]
        for lens in data["lenses"]
        for pillar in lens["pillars"]
    ]
    common = [
        [
            risk["lens_name"],
            risk["pillar"],
            risk["question_id"],
            risk["title"],
            risk["workloads"],
            risk["high"],
            risk["medium"],
        ]
        for risk in data["common_risks"]
    ]
    return workbook_bytes(
        [
            Sheet("Summary", (Column("Measure"), Column("Value", width=30, wrap=True)), summary),
            Sheet(
                "Workloads",
                [
                    Column("Workload", width=30, wrap=True),
                    Column("Environment"),
                    Column("Owner"),
                    Column("Review owner", wrap=True),
                    Column("Tags", width=30, wrap=True),
                    Column("Updated"),
                    *_count_columns(),
                ],
                workloads,
            ),
            Sheet(
                "Pillars per workload",
                [
                    Column("Workload", width=30, wrap=True),
                    Column("Lens", wrap=True),
                    Column("Pillar", wrap=True),
                    *_count_columns(),
                ],
                pillars,
            ),
            Sheet(
                "Pillars",
                [
                    Column("Lens", wrap=True),
                    Column("Pillar", wrap=True),
                    Column("Workloads"),
                    *_count_columns(),
                ],
                lenses,
            ),
            Sheet(
                "Most common risks",
                [
                    Column("Lens", wrap=True),
                    Column("Pillar", wrap=True),
                    Column("Question ID"),
                    Column("Question", width=50, wrap=True),
                    Column("Workloads"),
                    Column("High"),
                    Column("Medium"),
                ],
                common,
            ),
        ]
    )
