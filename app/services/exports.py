"""Exports of responses and tickets as CSV or Excel, built by a background job (app.services.job_runs).

Responses: one row per submitted response that matches the filter (app.services.insight_filters),
oldest first. Fixed columns first (see ``RESPONSE_COLUMNS``), then one column per question of the
versions the rows answered, headed by the question's prompt in the chosen language and its key
("How satisfied are you with our service? [service]"). Ratings are numbers; chosen options are
their labels in the chosen language, several joined with "; "; contact questions have no column
(the contact details the customer left are for the call back, not for spreadsheets). When the
rows span several versions, the columns are the union of the question keys: versions in order of
questionnaire, newest version first, each version's questions in their order, a key placed (and
headed) where it first appears, so the current wording and order lead and keys only older
versions asked follow. One key is one column, also across questionnaires.

Tickets: one row per ticket that matches the filter, oldest first (see ``TICKET_COLUMNS``). "SLA
breached" is yes when a clock ran out: still breached now, or answered or resolved after its due time.

Times are in the branch's time zone (the "Time zone" column says which), as spreadsheet dates in
Excel and "YYYY-MM-DD hh:mm:ss" in CSV. Headers, labels and flags are in the chosen language.

Memory stays flat whatever the size: rows are read in batches by key (id > last, LIMIT
``BATCH_SIZE``) with their answers, written at once, and dropped; CSV goes straight to the
file, Excel through openpyxl's write-only workbook (rows go to a temporary file, strings inline).

Text in a cell that a spreadsheet would run as a formula (customers type the answers) is
neutralised: in CSV text starting with = + - @, tab or carriage return gets a leading apostrophe;
in Excel text is always written as a text cell, never a formula.

Scope: the rows are those the run's owner may see now (their role is checked again when the
job runs), whatever the run's parameters say.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app import labels
from app.core.languages import SUPPORTED_LOCALES, pick_text
from app.core.scoring import weighted_index
from app.extensions import db
from app.i18n import flag_label
from app.models import (
    Answer,
    Branch,
    Department,
    JobRun,
    QuestionnaireVersion,
    QuestionType,
    Response,
    Role,
    Ticket,
    User,
    VersionStatus,
)
from app.services import job_runs
from app.services.insight_filters import InsightFilter
from app.services.job_runs import Progress

#: Rows read (and answers fetched) per query.
BATCH_SIZE = 2000
#: What can be exported, in which formats, and the run kind of each pair.
SUBJECTS = ("responses", "tickets")
FORMATS = ("csv", "xlsx")
KINDS = tuple(f"{subject}_{file_format}" for subject in SUBJECTS for file_format in FORMATS)
LANGUAGES = SUPPORTED_LOCALES
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Excel keeps at most this many characters in a cell.
XLSX_MAX_TEXT = 32767
#: Text a spreadsheet may read as a formula or a command when it starts with one of these (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

RESPONSE_COLUMNS = (
    _l("Response ID"),
    _l("Reference code"),
    _l("Submitted at (branch time)"),
    _l("Time zone"),
    _l("Branch code"),
    _l("Branch"),
    _l("Region"),
    _l("Questionnaire"),
    _l("Version"),
    _l("Language"),
    _l("Duration (seconds)"),
    _l("CSAT (mean, 1–5)"),
    _l("NPS (0–10)"),
    _l("Satisfaction index (1–5)"),
    _l("Quality flags"),
    _l("Quality review"),
)
TICKET_COLUMNS = (
    _l("Reference code"),
    _l("Created at (branch time)"),
    _l("Time zone"),
    _l("Branch code"),
    _l("Branch"),
    _l("Department"),
    _l("Category"),
    _l("Priority"),
    _l("Status"),
    _l("Assignee"),
    _l("First response due"),
    _l("First response at"),
    _l("Resolution due"),
    _l("Resolved at"),
    _l("SLA breached"),
    _l("Source"),
    _l("Subject"),
)
REVIEW_LABELS = {"confirmed": _l("flags confirmed"), "cleared": _l("flags cleared")}
SOURCE_LABELS = {"survey": _l("Survey"), "phone": _l("Phone call"), "walk_in": _l("Walk-in")}


# --- Starting and listing ----------------------------------------------------------------------


def may_export(user: User) -> bool:
    return user.active and user.role in (Role.ADMIN, Role.SUPERVISOR)


def start_export(user: User, subject: str, file_format: str, language: str, insight_filter: InsightFilter) -> JobRun:
    """Store the run and hand it to the job queue; its page (/jobs/<id>) shows progress and the file."""
    kind = f"{subject}_{file_format}"
    if kind not in KINDS or language not in LANGUAGES:
        raise ValueError(f"cannot export {kind!r} in {language!r}")
    return job_runs.start(kind, user, {"filter": insight_filter.to_params(), "language": language})


def version_choices(language: str) -> list[tuple[int, str]]:
    """Published questionnaire versions (only those have responses) as (id, "Name · v2"), newest first."""
    versions = db.session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.status == VersionStatus.PUBLISHED)
        .options(selectinload(QuestionnaireVersion.questionnaire))
        .order_by(QuestionnaireVersion.questionnaire_id, QuestionnaireVersion.number.desc())
    )
    return [
        (v.id, f"{pick_text(v.questionnaire.name, language) or v.questionnaire.code} · v{v.number}") for v in versions
    ]


def recent_runs(user: User, limit: int = 10) -> list[JobRun]:
    """The user's own latest exports, newest first."""
    query = (
        select(JobRun)
        .where(JobRun.user_id == user.id, JobRun.kind.in_(KINDS))
        .order_by(JobRun.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- The builders job_runs calls ---------------------------------------------------------------


def build_responses_csv(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, _ResponseTable, _CsvRows)


def build_responses_xlsx(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, _ResponseTable, _XlsxRows)


def build_tickets_csv(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, _TicketTable, _CsvRows)


def build_tickets_xlsx(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, _TicketTable, _XlsxRows)


def _build(run: JobRun, out: BinaryIO, progress: Progress, table_class, rows_class) -> tuple[str, str]:
    user = db.session.get(User, run.user_id) if run.user_id else None
    if user is None or not may_export(user):
        raise PermissionError("the person who started this export may no longer export")
    params = run.params or {}
    language = params.get("language") if params.get("language") in LANGUAGES else LANGUAGES[0]
    insight_filter = InsightFilter.from_params(params.get("filter"))
    with force_locale(language):
        table = table_class(user, insight_filter, language)
        rows: _Rows = rows_class(out, str(table.title))
        rows.write(table.headers())
        done = 0
        progress(done, table.total)
        for batch in table.batches():
            for row in batch:
                rows.write(row)
            done += len(batch)
            progress(done, max(done, table.total))
        rows.close()
    home = ZoneInfo(current_app.config["LOOPDESK_HOME_TIMEZONE"])
    day = (run.created_at or datetime.now(home)).astimezone(home).date().isoformat()
    return f"loopdesk-{table.name}-{day}.{rows_class.extension}", MIMETYPES[rows_class.extension]


# --- What goes in the cells --------------------------------------------------------------------


def csv_safe(text: str) -> str:
    """Text a spreadsheet opens as text, never as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A UTC moment as the wall-clock time of ``zone``, without zone (spreadsheets have none)."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _keyset_batches(query: Select, id_column, last_id: int | None) -> Iterator[list]:
    """The query's rows up to ``last_id`` (the newest when the export started), BATCH_SIZE at a time, by id.

    Each batch is its own query (id > the last one seen), so nothing holds a cursor open while
    the job commits its progress, and the database never builds the whole result.
    """
    last = 0
    while last_id is not None:
        rows = db.session.execute(
            query.where(id_column > last, id_column <= last_id).order_by(id_column).limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def _late(done_at: datetime | None, due_at: datetime | None) -> bool:
    return done_at is not None and due_at is not None and done_at > due_at


class _Rows(Protocol):
    extension: str

    def write(self, row: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


class _CsvRows:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly; Excel's dialect."""

    extension = "csv"

    def __init__(self, out: BinaryIO, title: str) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)

    def write(self, row: Sequence[Any]) -> None:
        self._writer.writerow([self._cell(value) for value in row])

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the job closes the file it opened

    @staticmethod
    def _cell(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, str):
            return csv_safe(value)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value


_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class _XlsxRows:
    """openpyxl's write-only workbook: rows are streamed to a temporary file, saved into ``out`` at the end."""

    extension = "xlsx"

    def __init__(self, out: BinaryIO, title: str) -> None:
        self._out = out
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_SHEET_TITLE_FORBIDDEN.sub(" ", title)[:31] or "Sheet1")

    def write(self, row: Sequence[Any]) -> None:
        self._sheet.append([self._cell(value) for value in row])

    def close(self) -> None:
        self._book.save(self._out)

    def _cell(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_TEXT]
        if value.startswith("="):
            # openpyxl stores text starting with "=" as a formula; make it a text cell instead.
            cell = WriteOnlyCell(self._sheet, value)
            cell.data_type = "s"
            return cell
        return value


# --- Responses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BranchFacts:
    code: str
    name: str
    region: str
    timezone: str
    zone: ZoneInfo


def _branch_facts() -> dict[int, _BranchFacts]:
    """Every branch, as plain values (commits for progress must not make them reload)."""
    return {
        b.id: _BranchFacts(b.code, b.name, b.region, b.timezone, ZoneInfo(b.timezone))
        for b in db.session.scalars(select(Branch))
    }


@dataclass(frozen=True)
class _VersionFacts:
    questionnaire: str
    number: int
    #: Dimension key → weight, for the satisfaction index.
    weights: dict[str, int]


@dataclass(frozen=True)
class _QuestionColumn:
    index: int
    type: QuestionType
    dimension: str | None
    #: Option value → its label in the export's language.
    labels: dict[str, str]


class _ResponseTable:
    name = "responses"
    title = _l("Responses")

    def __init__(self, user: User, insight_filter: InsightFilter, language: str) -> None:
        self.language = language
        self.query = insight_filter.apply_to_responses(
            select(
                Response.id,
                Response.reference_code,
                Response.submitted_at,
                Response.branch_id,
                Response.version_id,
                Response.language,
                Response.duration_seconds,
                Response.quality_flags,
                Response.quality_review,
            ),
            user,
        )
        counted = insight_filter.apply_to_responses(select(func.count(Response.id), func.max(Response.id)), user)
        self.total, self.last_id = db.session.execute(counted).one()
        if insight_filter.version_id:
            version_ids = [insight_filter.version_id]
        else:
            answered = insight_filter.apply_to_responses(select(Response.version_id).distinct(), user)
            version_ids = list(db.session.scalars(answered))
        self.branches = _branch_facts()
        self.versions: dict[int, _VersionFacts] = {}
        self.questions: dict[int, _QuestionColumn] = {}
        self.question_headers: list[str] = []
        self._lay_out_questions(version_ids)

    def _lay_out_questions(self, version_ids: list[int]) -> None:
        versions = db.session.scalars(
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.id.in_(version_ids))
            .options(
                selectinload(QuestionnaireVersion.questions),
                selectinload(QuestionnaireVersion.dimensions),
                selectinload(QuestionnaireVersion.questionnaire),
            )
        ).all()
        versions = sorted(versions, key=lambda v: (v.questionnaire_id, -v.number))
        column_of_key: dict[str, int] = {}
        for version in versions:
            self.versions[version.id] = _VersionFacts(
                questionnaire=pick_text(version.questionnaire.name, self.language) or version.questionnaire.code,
                number=version.number,
                weights={d.key: d.weight for d in version.dimensions},
            )
            dimension_keys = {d.id: d.key for d in version.dimensions}
            for question in version.questions:
                if question.type == QuestionType.CONTACT:
                    continue
                if question.key not in column_of_key:
                    column_of_key[question.key] = len(self.question_headers)
                    prompt = pick_text(question.prompt, self.language)
                    self.question_headers.append(f"{prompt} [{question.key}]" if prompt else question.key)
                self.questions[question.id] = _QuestionColumn(
                    index=column_of_key[question.key],
                    type=QuestionType(question.type),
                    dimension=dimension_keys.get(question.dimension_id),
                    labels={
                        str(o.get("value")): pick_text(o.get("label"), self.language) or str(o.get("value"))
                        for o in question.options or []
                    },
                )

    def headers(self) -> list[str]:
        return [str(header) for header in RESPONSE_COLUMNS] + self.question_headers

    def batches(self) -> Iterator[list[list[Any]]]:
        for rows in _keyset_batches(self.query, Response.id, self.last_id):
            answers: dict[int, list] = defaultdict(list)
            for answer in db.session.execute(
                select(Answer.response_id, Answer.question_id, Answer.value_int, Answer.value_text, Answer.value_choices)
                .where(Answer.response_id.in_([row.id for row in rows]))
            ):
                answers[answer.response_id].append(answer)
            yield [self._row(row, answers.get(row.id, ())) for row in rows]

    def _row(self, response, answers: Sequence) -> list[Any]:
        cells: list[Any] = [None] * len(self.question_headers)
        ratings: list[int] = []
        by_dimension: dict[str, list[int]] = defaultdict(list)
        nps = None
        for answer in answers:
            question = self.questions.get(answer.question_id)
            if question is None:
                continue
            if question.type in (QuestionType.CSAT, QuestionType.NPS):
                if answer.value_int is None:
                    continue
                cells[question.index] = answer.value_int
                if question.type == QuestionType.NPS:
                    nps = answer.value_int if nps is None else nps
                else:
                    ratings.append(answer.value_int)
                    if question.dimension:
                        by_dimension[question.dimension].append(answer.value_int)
            elif answer.value_choices is not None:
                cells[question.index] = "; ".join(question.labels.get(str(v), str(v)) for v in answer.value_choices)
            else:
                cells[question.index] = answer.value_text
        branch = self.branches.get(response.branch_id)
        version = self.versions.get(response.version_id)
        flags = response.quality_flags or []
        return [
            response.id,
            response.reference_code,
            _local(response.submitted_at, branch.zone) if branch else response.submitted_at.replace(tzinfo=None),
            branch.timezone if branch else "UTC",
            branch.code if branch else None,
            branch.name if branch else None,
            branch.region if branch else None,
            version.questionnaire if version else None,
            version.number if version else None,
            response.language,
            response.duration_seconds,
            round(sum(ratings) / len(ratings), 2) if ratings else None,
            nps,
            _index(by_dimension, version.weights if version else {}),
            "; ".join(flag_label(flag) for flag in flags),
            str(REVIEW_LABELS[response.quality_review]) if response.quality_review in REVIEW_LABELS else None,
        ] + cells


def _index(by_dimension: dict[str, list[int]], weights: dict[str, int]) -> float | None:
    """The response's weighted satisfaction index (app.core.scoring), None without rated dimensions."""
    means = {key: sum(values) / len(values) for key, values in by_dimension.items() if key in weights}
    try:
        index = weighted_index(means, weights) if means else None
    except ValueError:  # a stored rating outside 1–5: no index rather than no export
        return None
    return round(index, 2) if index is not None else None


# --- Tickets -----------------------------------------------------------------------------------


class _TicketTable:
    name = "tickets"
    title = _l("Tickets")

    def __init__(self, user: User, insight_filter: InsightFilter, language: str) -> None:
        self.query: Select = insight_filter.apply_to_tickets(
            select(
                Ticket.id,
                Ticket.reference_code,
                Ticket.created_at,
                Ticket.branch_id,
                Ticket.department_id,
                Ticket.category,
                Ticket.priority,
                Ticket.status,
                Ticket.source,
                Ticket.subject,
                Ticket.first_response_due_at,
                Ticket.first_response_at,
                Ticket.resolution_due_at,
                Ticket.resolved_at,
                Ticket.sla_state,
                User.display_name,
                User.username,
            ).outerjoin(User, Ticket.assignee_id == User.id),
            user,
        )
        counted = insight_filter.apply_to_tickets(select(func.count(Ticket.id), func.max(Ticket.id)), user)
        self.total, self.last_id = db.session.execute(counted).one()
        self.branches = _branch_facts()
        self.departments = {d.id: d.name for d in db.session.scalars(select(Department))}
        self.yes, self.no = _("Yes"), _("No")

    def headers(self) -> list[str]:
        return [str(header) for header in TICKET_COLUMNS]

    def batches(self) -> Iterator[list[list[Any]]]:
        for rows in _keyset_batches(self.query, Ticket.id, self.last_id):
            yield [self._row(row) for row in rows]

    def _row(self, ticket) -> list[Any]:
        branch = self.branches.get(ticket.branch_id)
        zone = branch.zone if branch else ZoneInfo("UTC")
        breached = (
            ticket.sla_state == "breached"
            or _late(ticket.first_response_at, ticket.first_response_due_at)
            or _late(ticket.resolved_at, ticket.resolution_due_at)
        )
        return [
            ticket.reference_code,
            _local(ticket.created_at, zone),
            branch.timezone if branch else "UTC",
            branch.code if branch else None,
            branch.name if branch else None,
            self.departments.get(ticket.department_id),
            _label(labels.CATEGORY_LABELS, ticket.category),
            _label(labels.PRIORITY_LABELS, ticket.priority),
            _label(labels.STATUS_LABELS, ticket.status),
            ticket.display_name or ticket.username,
            _local(ticket.first_response_due_at, zone),
            _local(ticket.first_response_at, zone),
            _local(ticket.resolution_due_at, zone),
            _local(ticket.resolved_at, zone),
            self.yes if breached else self.no,
            _label(SOURCE_LABELS, ticket.source),
            ticket.subject,
        ]


def _label(words: dict, value: Any) -> str | None:
    if value is None:
        return None
    return str(words.get(str(value), value))
