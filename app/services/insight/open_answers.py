"""Open answers (开放题): their frequent words and phrases, and the answers behind a word.

Computed on request from the raw text answers of the selection, newest first and at most
``ANSWER_LIMIT`` of them (the page says when the limit cut the oldest off). The click-through
reads the very same answers and keeps those the counts counted, so its total is the count
that was clicked.

The selection follows the dashboard's rules (``dashboard_selection.resolve``): the user's branches, the
last 30 days by default, each response dated by its branch's local day, flagged responses
left out unless asked for. On top: the language the customer answered in, and the question
(by its key, the same across questionnaire versions).

Written key issues: the open answers of the responses that opened a ticket, read by routing's
complaint detection (``routing.written_problem``), counted per category as customers (responses).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from app.core import insight, routing, words
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db
from app.models import Answer, Branch, Question, QuestionType, Response, Ticket, User
from app.models.types import Texts
from app.permissions import scope_responses
from app.services import dashboard
from app.services.dashboard import selection as dashboard_selection
from app.services.insight import rollups
from app.services.insight.filters import counted_in_scores, InsightFilter

#: The newest answers read per request: enough for a month of a large chain, fast enough for a page.
ANSWER_LIMIT = 20_000
TOP_WORDS, TOP_PHRASES = 50, 30
PAGE_SIZE = 50
TERM_MAX_LENGTH = 100


@dataclass(frozen=True)
class WordsSelection:
    """The dashboard's selection with the open-answer filters: language and question key."""

    selection: dashboard_selection.Selection
    language: str | None = None
    question_key: str | None = None

    def args(self, **extra: Any) -> dict[str, Any]:
        """As query-string arguments (for the words' links and the pages)."""
        args = dashboard.filter_args(self.selection, **extra)
        if self.language:
            args["language"] = self.language
        if self.question_key:
            args["question"] = self.question_key
        return args


def resolve(user: User, args: Mapping[str, Any]) -> WordsSelection:
    """Read the filters from a query string (forgiving: a value that does not fit is dropped)."""
    selection = dashboard_selection.resolve(user, InsightFilter.from_args(args), dashboard.home_today())
    language = args.get("language")
    question = (args.get("question") or "").strip()[:40]
    return WordsSelection(
        selection,
        language=language if language in SUPPORTED_LOCALES else None,
        question_key=question or None,
    )


def text_questions() -> list[tuple[str, Texts]]:
    """Every open question's key with its prompt in the newest version that has it."""
    rows = db.session.execute(
        select(Question.key, Question.prompt).where(Question.type == QuestionType.TEXT).order_by(Question.version_id)
    )
    newest: dict[str, Texts] = {}
    for key, prompt in rows:
        newest[key] = dict(prompt or {})
    return sorted(newest.items())


@dataclass(frozen=True)
class OpenAnswer:
    answer_id: int
    response_id: int
    text: str
    submitted_at: datetime
    language: str
    branch_name: str
    timezone: str


def _answers_query(chosen: WordsSelection) -> Select:
    selection = chosen.selection
    query = (
        select(
            Answer.id, Answer.response_id, Answer.value_text, Response.submitted_at, Response.language,
            Branch.name, Branch.timezone,
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Question, Question.id == Answer.question_id)
        .join(Branch, Branch.id == Response.branch_id)
        .where(
            Question.type == QuestionType.TEXT,
            Answer.value_text.is_not(None),
            Answer.value_text != "",
            Response.submitted_at.is_not(None),
            rollups.local_days_condition(
                Response.submitted_at, Response.branch_id, selection.first, selection.last,
                [(b.id, b.timezone) for b in selection.branches],
            ),
        )
    )
    if selection.filter.version_id:
        query = query.where(Response.version_id == selection.filter.version_id)
    if selection.filter.channel:
        query = query.where(Response.channel == selection.filter.channel)
    if not selection.filter.include_flagged:
        query = query.where(counted_in_scores())
    if chosen.language:
        query = query.where(Response.language == chosen.language)
    if chosen.question_key:
        query = query.where(Question.key == chosen.question_key)
    query = scope_responses(query, selection.user)
    return query.order_by(Response.submitted_at.desc(), Answer.id.desc())


def open_answers(chosen: WordsSelection) -> tuple[list[OpenAnswer], bool]:
    """The selection's open answers, newest first, and whether ``ANSWER_LIMIT`` cut older ones off."""
    rows = db.session.execute(_answers_query(chosen).limit(ANSWER_LIMIT + 1)).all()
    return [OpenAnswer(*row) for row in rows[:ANSWER_LIMIT]], len(rows) > ANSWER_LIMIT


@dataclass(frozen=True)
class TermRow:
    term: str
    answers: int
    #: Share of the answers read (0–100).
    share: float


@dataclass(frozen=True)
class WordCounts:
    answers: int
    limited: bool
    words: list[TermRow]
    phrases: list[TermRow]


def word_counts(chosen: WordsSelection) -> WordCounts:
    found, limited = open_answers(chosen)
    counts = words.frequencies(answer.text for answer in found)

    def rows(ranked: list[tuple[str, int]]) -> list[TermRow]:
        return [TermRow(term, n, 100 * n / counts.answers) for term, n in ranked]

    return WordCounts(
        answers=counts.answers,
        limited=limited,
        words=rows(counts.top_words(TOP_WORDS)),
        phrases=rows(counts.top_phrases(TOP_PHRASES)),
    )


def normalised_term(raw: str | None) -> str:
    """A word as typed or linked, in the form the counts use ('' when there is none)."""
    return " ".join((raw or "").split()).lower().replace("’", "'")[:TERM_MAX_LENGTH]


@dataclass(frozen=True)
class AnswerPage:
    term: str
    answers: list[OpenAnswer]
    total: int
    page: int
    pages: int
    limited: bool


def answers_with(chosen: WordsSelection, term: str, page: int = 1) -> AnswerPage:
    """The answers the counts counted for ``term``, newest first, a page at a time."""
    found, limited = open_answers(chosen)
    matching = [answer for answer in found if words.contains(answer.text, term)] if term else []
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    return AnswerPage(term, matching[start:start + PAGE_SIZE], len(matching), page, pages, limited)


@dataclass(frozen=True)
class WrittenIssue:
    """A key issue from open text: written complaints of one routing category."""

    category: str
    customers: int
    #: Share of the selection's responses (0–100).
    share: float
    level: insight.IssueLevel


def _written_answers(chosen: WordsSelection) -> list[OpenAnswer]:
    """The open answers of responses that opened a ticket (a written complaint always does)."""
    query = _answers_query(chosen).where(select(Ticket.id).where(Ticket.response_id == Response.id).exists())
    rows = db.session.execute(query.limit(ANSWER_LIMIT)).all()
    return [OpenAnswer(*row) for row in rows]


def written_customers(chosen: WordsSelection) -> dict[str, set[int]]:
    """Per category, the responses whose open answers complain of it."""
    found: dict[str, set[int]] = {}
    for answer in _written_answers(chosen):
        category = routing.written_problem(answer.text)
        if category:
            found.setdefault(category, set()).add(answer.response_id)
    return found


def written_key_issues(selection: dashboard_selection.Selection, responses: int) -> list[WrittenIssue]:
    """Problems customers wrote about (≥ 3 customers; first-level at ≥ 30 % of the responses)."""
    customers = {category: len(ids) for category, ids in written_customers(WordsSelection(selection)).items()}
    return [
        WrittenIssue(issue.problem, issue.customers, 100 * issue.share, issue.level)
        for issue in insight.key_issues(customers, responses)
    ]


def answers_about(chosen: WordsSelection, category: str, page: int = 1) -> AnswerPage:
    """The open answers behind a written key issue, newest first, a page at a time."""
    matching = [a for a in _written_answers(chosen) if routing.written_problem(a.text) == category]
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PAGE_SIZE
    return AnswerPage(category, matching[start:start + PAGE_SIZE], len(matching), page, pages, False)
