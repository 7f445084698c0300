"""Exports of responses and tickets as CSV or Excel, built by a background job (app.services.job_runs).

Responses: one row per submitted response that matches the filter (app.services.insight.filters),
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

The pieces: ``app.services.exports.responses`` and ``app.services.exports.tickets`` lay out the rows,
``app.services.exports.batches`` reads them, ``app.services.exports.formats`` writes CSV and Excel.

This module is the package's face: what can be exported, starting an export and the builders the
file job runs (``app.jobs.files`` lists them).
"""
from __future__ import annotations

from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.core.languages import SUPPORTED_LOCALES, pick_text
from app.extensions import db
from app.models import JobRun, QuestionnaireVersion, Role, User, VersionStatus
from app.services import job_runs
from app.services.exports.formats import CsvRows, Rows, XlsxRows
from app.services.exports.responses import ResponseTable
from app.services.exports.tickets import TicketTable
from app.services.insight.filters import InsightFilter
from app.services.job_runs import Progress


#: What can be exported, in which formats, and the run kind of each pair.
SUBJECTS = ("responses", "tickets")
FORMATS = ("csv", "xlsx")
KINDS = tuple(f"{subject}_{file_format}" for subject in SUBJECTS for file_format in FORMATS)
LANGUAGES = SUPPORTED_LOCALES
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


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
    return _build(run, out, progress, ResponseTable, CsvRows)


def build_responses_xlsx(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, ResponseTable, XlsxRows)


def build_tickets_csv(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, TicketTable, CsvRows)


def build_tickets_xlsx(run: JobRun, out: BinaryIO, progress: Progress) -> tuple[str, str]:
    return _build(run, out, progress, TicketTable, XlsxRows)


def _build(run: JobRun, out: BinaryIO, progress: Progress, table_class, rows_class) -> tuple[str, str]:
    user = db.session.get(User, run.user_id) if run.user_id else None
    if user is None or not may_export(user):
        raise PermissionError("the person who started this export may no longer export")
    params = run.params or {}
    language = params.get("language") if params.get("language") in LANGUAGES else LANGUAGES[0]
    insight_filter = InsightFilter.from_params(params.get("filter"))
    with force_locale(language):
        table = table_class(user, insight_filter, language)
        rows: Rows = rows_class(out, str(table.title))
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
