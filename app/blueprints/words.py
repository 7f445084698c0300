"""Frequent words in open answers (开放题词频) for supervisors and admins, and the answers behind each."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import labels
from app.core import routing
from app.core.ids import parse_id
from app.models import Role
from app.permissions import role_required
from app.services.dashboard import selection as dashboard_selection
from app.services.insight import open_answers

bp = Blueprint("words", __name__, url_prefix="/insight/words")


def _page_context(chosen: open_answers.WordsSelection) -> dict:
    return {
        "chosen": chosen,
        "selection": chosen.selection,
        "branches": dashboard_selection.visible_branches(current_user),
        "questions": open_answers.text_questions(),
        "limit": open_answers.ANSWER_LIMIT,
    }


@bp.get("/")
@role_required(Role.SUPERVISOR)
def index():
    chosen = open_answers.resolve(current_user, request.args)
    counts = open_answers.word_counts(chosen)
    return render_template("words/index.html", counts=counts, **_page_context(chosen))


@bp.get("/answers")
@role_required(Role.SUPERVISOR)
def answers():
    chosen = open_answers.resolve(current_user, request.args)
    theme = request.args.get("theme")
    if theme in routing.CATEGORIES:
        found = open_answers.answers_about(chosen, theme, request.args.get("page", 1, type=parse_id))
        return render_template("words/answers.html", found=found, theme=labels.CATEGORY_LABELS[theme],
                               **_page_context(chosen))
    term = open_answers.normalised_term(request.args.get("word"))
    if not term:
        return redirect(url_for("words.index", **chosen.args()), 303)
    found = open_answers.answers_with(chosen, term, request.args.get("page", 1, type=parse_id))
    return render_template("words/answers.html", found=found, **_page_context(chosen))
