"""A draft's questions: adding and changing them on their own page, moving and removing them (htmx-enhanced)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from jinja2_fragments.flask import render_block

from app.blueprints.admin.questionnaires.editor import editor_context
from app.blueprints.admin.questionnaires.shared import EDITOR, apply, child_or_404, editor_url, edits_draft
from app.extensions import db, htmx
from app.forms.admin_questionnaires import ActionForm, MoveForm
from app.forms.admin_questionnaires.texts import editor_locales
from app.forms.admin_questionnaires.version import QuestionForm
from app.forms.admin_questionnaires.words import problem_message
from app.models import Question, QuestionnaireVersion
from app.services.questionnaires import queries, questions as questionnaires_questions
from app.services.questionnaires.refusals import Refused


def _question_page(version: QuestionnaireVersion, form: QuestionForm, question: Question | None, status: int = 200):
    return render_template(
        "admin/questionnaires/question.html", version=version, questionnaire=version.questionnaire,
        form=form, question=question,
        text_locales=editor_locales(version.languages, version.title, *([question.prompt, question.help] if question else [])),
    ), status


@edits_draft
def add_question(version: QuestionnaireVersion):
    if request.method == "GET":
        return _question_page(version, QuestionForm.of(version), None)
    form = QuestionForm()
    form.fill_choices(version)
    done, question = apply(form, lambda: questionnaires_questions.add_question(current_user, version, form.question_input()))
    if not done:
        form.add_blank_options()
        return _question_page(version, form, None, 422)
    flash(_("Question “%(key)s” added.", key=question.key))
    return redirect(editor_url(version.questionnaire_id, version.id, f"question-{question.id}"), 303)


@edits_draft
def edit_question(version: QuestionnaireVersion, question_id: int):
    question = child_or_404(Question, question_id, version)
    if request.method == "GET":
        return _question_page(version, QuestionForm.of(version, question), question)
    form = QuestionForm()
    form.fill_choices(version, question)
    done, _result = apply(form, lambda: questionnaires_questions.update_question(current_user, question, form.question_input()))
    if not done:
        form.add_blank_options()
        return _question_page(version, form, question, 422)
    flash(_("Question “%(key)s” saved.", key=question.key))
    return redirect(editor_url(version.questionnaire_id, version.id, f"question-{question.id}"), 303)


def _questions_changed(version: QuestionnaireVersion, notice: str, error: bool = False):
    """htmx: the questions block again, with the notice in it; otherwise back to the editor."""
    if htmx:
        version = queries.version_with_children(version.id)
        html = render_block(EDITOR, "questions", **editor_context(version, notice=notice, notice_error=error))
        response = htmx_response(html, 200)
        response.vary.add("HX-Request")
        return response
    flash(notice, "error" if error else "message")
    return redirect(editor_url(version.questionnaire_id, version.id, "questions"), 303)


@edits_draft
def move_question(version: QuestionnaireVersion, question_id: int):
    question = child_or_404(Question, question_id, version)
    form = MoveForm()
    if not form.validate():
        abort(400)
    try:
        moved = questionnaires_questions.move_question(current_user, question, form.direction.data)
    except Refused as refused:
        db.session.rollback()
        return _questions_changed(version, problem_message(refused.problems[0]), error=True)
    db.session.commit()
    notice = _("Moved “%(key)s”.", key=question.key) if moved else _("“%(key)s” is already there.", key=question.key)
    return _questions_changed(version, notice)


@edits_draft
def delete_question(version: QuestionnaireVersion, question_id: int):
    question = child_or_404(Question, question_id, version)
    if not ActionForm().validate():
        abort(400)
    key = question.key
    rules = questionnaires_questions.delete_question(current_user, question)
    db.session.commit()
    notice = _("Removed “%(key)s”.", key=key)
    if rules:
        notice += " " + _("%(n)d skip rule(s) that used it were removed too.", n=rules)
    return _questions_changed(version, notice)
