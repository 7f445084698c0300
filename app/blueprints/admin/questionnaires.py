"""The questionnaire builder: drafts, questions, dimensions, skip logic, preview, publish, targeting.

Plain forms with Post/Redirect/Get; moving and removing questions is htmx-enhanced (the
questions block is swapped). A published version is shown read-only, and every route that
would change one refuses with a message instead (the model's flush guard stays behind that).
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.languages import SUPPORTED_LOCALES
from app.core.questionnaire_checks import Problem
from app.extensions import db, htmx
from app.forms.admin_questionnaires import (
    ACTION_LABELS,
    OPERATOR_LABELS,
    STATUS_LABELS,
    TYPE_LABELS,
    ActionForm,
    DimensionsForm,
    MoveForm,
    NewQuestionnaireForm,
    PreviewStepForm,
    QuestionForm,
    RuleForm,
    SettingsForm,
    TargetingForm,
    VersionTextsForm,
    add_problems,
    problem_message,
)
from app.i18n import LANGUAGE_NAMES
from app.models import Branch, PublishedVersionError, Question, Questionnaire, QuestionnaireVersion, SkipRule
from app.services.questionnaires import (
    dimensions as questionnaires_dimensions,
    queries,
    questions as questionnaires_questions,
    settings as questionnaires_settings,
    skip_rules,
    versions as questionnaires_versions,
)
from app.services.questionnaires.refusals import Refused
from app.services.survey.plans import build_plan

bp = Blueprint("questionnaires", __name__, url_prefix="/questionnaires")

PUBLISHED_REFUSAL = _l("This version is published and cannot change; make a new draft from it.")
EDITOR = "admin/questionnaires/version.html"


@bp.context_processor
def builder_words() -> dict:
    return {
        "type_labels": TYPE_LABELS,
        "operator_labels": OPERATOR_LABELS,
        "action_labels": ACTION_LABELS,
        "status_labels": STATUS_LABELS,
        "language_names": LANGUAGE_NAMES,
        "locales": SUPPORTED_LOCALES,
    }


# Helpers -----------------------------------------------------------------------------------------


def _see_other(target: str):
    """Post/Redirect/Get; htmx ignores headers on a 3xx, so it gets HX-Redirect instead."""
    if htmx:
        return htmx_response("", 200, redirect=target)
    return redirect(target, 303)


def _questionnaire(qid: int) -> Questionnaire:
    questionnaire = db.session.get(Questionnaire, qid)
    if questionnaire is None:
        abort(404)
    return questionnaire


def _version(qid: int, vid: int) -> QuestionnaireVersion:
    version = queries.version_with_children(vid)
    if version is None or version.questionnaire_id != qid:
        abort(404)
    return version


def _editor_url(qid: int, vid: int, anchor: str | None = None) -> str:
    return url_for("admin.questionnaires.version", qid=qid, vid=vid, _anchor=anchor)


def edits_draft(view):
    """Load the version of the URL; refuse (flash, back to its page) when it is published.

    PublishedVersionError from anywhere inside (the flush guard) is refused the same way,
    so no route can change a published version or fail with a 500 trying.
    """

    @wraps(view)
    def wrapper(qid: int, vid: int, **kwargs):
        version = _version(qid, vid)
        if version.is_published:
            return _refuse_published(qid, vid)
        try:
            return view(version, **kwargs)
        except PublishedVersionError:
            db.session.rollback()
            return _refuse_published(qid, vid)

    return wrapper


def _refuse_published(qid: int, vid: int):
    flash(str(PUBLISHED_REFUSAL), "error")
    return _see_other(_editor_url(qid, vid))


def _child(model, child_id: int, version: QuestionnaireVersion):
    child = db.session.get(model, child_id)
    if child is None or child.version_id != version.id:
        abort(404)
    return child


def _apply(form, change, add=add_problems) -> tuple[bool, object]:
    """Run ``change`` when the form is valid and commit it; a refused change puts its problems at the fields."""
    if not form.validate():
        return False, None
    try:
        result = change()
    except Refused as refused:
        db.session.rollback()
        add(form, refused.problems)
        return False, None
    db.session.commit()
    return True, result


def _status(questionnaire: Questionnaire, now) -> str:
    if questionnaire.archived_at is not None:
        return "archived"
    if questionnaire.current_version_id is None:
        return "not_published"
    if questionnaire.starts_at is not None and now < questionnaire.starts_at:
        return "scheduled"
    if questionnaire.ends_at is not None and now >= questionnaire.ends_at:
        return "ended"
    return "live"


# Questionnaires ----------------------------------------------------------------------------------


@bp.get("/")
def index():
    archived = request.args.get("archived") == "1"
    now = utcnow()
    rows = [(q, _status(q, now), queries.open_draft(q)) for q in queries.questionnaires(archived=archived)]
    return render_template("admin/questionnaires/index.html", rows=rows, archived=archived)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewQuestionnaireForm()
    if not form.is_submitted():
        return render_template("admin/questionnaires/new.html", form=form)
    done, questionnaire = _apply(form, lambda: questionnaires_settings.create_questionnaire(
        current_user, form.code.data.strip(), form.name(), from_template=form.start.data == "template"
    ))
    if not done:
        return render_template("admin/questionnaires/new.html", form=form), 422
    flash(_("Questionnaire created. Version 1 is a draft: add questions, then publish it."))
    return redirect(_editor_url(questionnaire.id, questionnaire.versions[0].id), 303)


def _questionnaire_page(questionnaire: Questionnaire, status: int = 200, settings_form=None, targeting_form=None):
    branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
    regions = sorted(set(queries.regions_in_use()) | set(questionnaire.target_regions or []))
    if targeting_form is None:
        targeting_form = TargetingForm(formdata=None, data={
            "branch_ids": [b.id for b in questionnaire.target_branches],
            "regions": list(questionnaire.target_regions or []),
        })
    targeting_form.fill_choices(branches, regions)
    return render_template(
        "admin/questionnaires/show.html",
        questionnaire=questionnaire,
        status=_status(questionnaire, utcnow()),
        draft=queries.open_draft(questionnaire),
        settings_form=settings_form or SettingsForm.of(questionnaire),
        targeting_form=targeting_form,
        action_form=ActionForm(formdata=None),
    ), status


@bp.get("/<id:qid>")
def show(qid: int):
    return _questionnaire_page(_questionnaire(qid))


@bp.post("/<id:qid>/settings")
def settings(qid: int):
    questionnaire = _questionnaire(qid)
    form = SettingsForm()
    if not form.validate():
        return _questionnaire_page(questionnaire, 422, settings_form=form)
    questionnaires_settings.update_settings(current_user, questionnaire, form.name(), form.starts_at.data, form.ends_at.data)
    db.session.commit()
    flash(_("Settings saved."))
    return redirect(url_for(".show", qid=qid), 303)


@bp.post("/<id:qid>/targeting")
def targeting(qid: int):
    questionnaire = _questionnaire(qid)
    form = TargetingForm()
    branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
    form.fill_choices(branches, sorted(set(queries.regions_in_use()) | set(questionnaire.target_regions or [])))
    if not form.validate():
        return _questionnaire_page(questionnaire, 422, targeting_form=form)
    chosen = [b for b in branches if b.id in set(form.branch_ids.data or [])]
    questionnaires_settings.set_targeting(current_user, questionnaire, chosen, form.regions.data or [])
    db.session.commit()
    flash(_("Targeting saved: offered at every branch.") if not chosen and not form.regions.data else _("Targeting saved."))
    return redirect(url_for(".show", qid=qid), 303)


@bp.post("/<id:qid>/archive", endpoint="archive", defaults={"archived": True})
@bp.post("/<id:qid>/restore", endpoint="restore", defaults={"archived": False})
def set_archived(qid: int, archived: bool):
    questionnaire = _questionnaire(qid)
    if ActionForm().validate():
        questionnaires_settings.set_archived(current_user, questionnaire, archived)
        db.session.commit()
        flash(_("Archived: customers are no longer offered this questionnaire.") if archived else _("Restored."))
    return redirect(url_for(".show", qid=qid), 303)


# Versions ----------------------------------------------------------------------------------------


@bp.post("/<id:qid>/versions/<id:vid>/new-draft")
def new_draft(qid: int, vid: int):
    version = _version(qid, vid)
    if not ActionForm().validate():
        return redirect(_editor_url(qid, vid), 303)
    draft, made = questionnaires_versions.new_draft_from(current_user, version)
    db.session.commit()
    if made:
        flash(_("Version %(new)d is a new draft, copied from version %(old)d.", new=draft.number, old=version.number))
    else:
        flash(_("Version %(n)d is already a draft: edit it, or publish it first.", n=draft.number))
    return redirect(_editor_url(qid, draft.id), 303)


def _messages(problems: list[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem_message(problem))
    return grouped


def _editor_context(version: QuestionnaireVersion, texts_form=None, dimensions_form=None, rule_form=None,
                    problems: list[Problem] | None = None, notice: str | None = None, notice_error: bool = False) -> dict:
    questions = queries.ordered_questions(version)
    messages = _messages(problems or [])
    by_id = {q.id: q for q in questions}
    return {
        "version": version,
        "frozen": version.is_published,
        "questionnaire": version.questionnaire,
        "questions": questions,
        "questions_by_id": by_id,
        "rules": version.rules,
        "rules_by_target": {q.id: [r for r in version.rules if r.target_question_id == q.id] for q in questions},
        "draft": queries.open_draft(version.questionnaire),
        "texts_form": texts_form or VersionTextsForm.of(version),
        "dimensions_form": dimensions_form or DimensionsForm.of(version),
        "rule_form": rule_form or RuleForm.of(questions),
        "action_form": ActionForm(formdata=None),
        "problems": messages,
        "problem_count": len(problems or []),
        "question_problems": {
            q.id: [m for field, ms in messages.items() if field.startswith(f"question-{q.id}-") for m in ms]
            for q in questions
        },
        "weight_total": sum(d.weight for d in version.dimensions),
        "notice": notice,
        "notice_error": notice_error,
    }


def _editor_page(version: QuestionnaireVersion, status: int = 200, **context):
    return render_template(EDITOR, **_editor_context(version, **context)), status


@bp.get("/<id:qid>/versions/<id:vid>")
def version(qid: int, vid: int):
    return _editor_page(_version(qid, vid))


@bp.post("/<id:qid>/versions/<id:vid>/texts")
@edits_draft
def texts(version: QuestionnaireVersion):
    form = VersionTextsForm()
    if not form.validate():
        return _editor_page(version, 422, texts_form=form)
    questionnaires_versions.update_texts(current_user, version, form.chosen_languages(), form.texts("title"),
                         form.texts("intro"), form.texts("thanks"))
    db.session.commit()
    flash(_("Texts saved."))
    return redirect(_editor_url(version.questionnaire_id, version.id, "texts"), 303)


@bp.post("/<id:qid>/versions/<id:vid>/dimensions")
@edits_draft
def dimensions(version: QuestionnaireVersion):
    form = DimensionsForm()
    done, _result = _apply(form, lambda: questionnaires_dimensions.save_dimensions(current_user, version, form.rows()),
                           add=DimensionsForm.add_problems)
    if not done:
        return _editor_page(queries.version_with_children(version.id), 422, dimensions_form=form)
    flash(_("Dimensions saved."))
    return redirect(_editor_url(version.questionnaire_id, version.id, "dimensions"), 303)


@bp.post("/<id:qid>/versions/<id:vid>/publish")
@edits_draft
def publish(version: QuestionnaireVersion):
    if not ActionForm().validate():
        return redirect(_editor_url(version.questionnaire_id, version.id), 303)
    problems = questionnaires_versions.publish(current_user, version)
    if problems:
        db.session.rollback()
        version = queries.version_with_children(version.id)
        return _editor_page(version, 422, problems=problems)
    db.session.commit()
    flash(_("Version %(n)d is published: customers get it from now on, and it can no longer change.", n=version.number))
    return redirect(url_for(".show", qid=version.questionnaire_id), 303)


@bp.get("/<id:qid>/versions/<id:vid>/preview")
def preview(qid: int, vid: int):
    version = _version(qid, vid)
    languages = [lang for lang in version.languages or [] if lang in SUPPORTED_LOCALES] or list(SUPPORTED_LOCALES)
    language = request.args.get("language") if request.args.get("language") in languages else languages[0]
    plan = build_plan(version)
    steps = sorted({q.step for q in plan.questions})
    keys = {q.id: q.key for q in version.questions}
    conditions = {
        q.key: [(keys[r.source_question_id], r.operator, r.value, str(r.action)) for r in version.rules
                if r.target_question_id == q.id]
        for q in plan.questions
    }
    with force_locale(language):
        phone = render_template(
            "admin/questionnaires/_phone.html", plan=plan, steps=steps, conditions=conditions,
            form=PreviewStepForm(), entry={"is_kiosk": False, "branch_name": _("Your branch")}, tap_to_answer=False,
        )
    return render_template(
        "admin/questionnaires/preview.html", version=version, questionnaire=version.questionnaire,
        languages=languages, language=language, phone=Markup(phone),
    )


# Questions ---------------------------------------------------------------------------------------


def _question_page(version: QuestionnaireVersion, form: QuestionForm, question: Question | None, status: int = 200):
    return render_template(
        "admin/questionnaires/question.html", version=version, questionnaire=version.questionnaire,
        form=form, question=question,
    ), status


@bp.route("/<id:qid>/versions/<id:vid>/questions/new", methods=["GET", "POST"])
@edits_draft
def add_question(version: QuestionnaireVersion):
    if request.method == "GET":
        return _question_page(version, QuestionForm.of(version), None)
    form = QuestionForm()
    form.fill_choices(version)
    done, question = _apply(form, lambda: questionnaires_questions.add_question(current_user, version, form.question_input()))
    if not done:
        form.add_blank_options()
        return _question_page(version, form, None, 422)
    flash(_("Question “%(key)s” added.", key=question.key))
    return redirect(_editor_url(version.questionnaire_id, version.id, f"question-{question.id}"), 303)


@bp.route("/<id:qid>/versions/<id:vid>/questions/<id:question_id>", methods=["GET", "POST"])
@edits_draft
def edit_question(version: QuestionnaireVersion, question_id: int):
    question = _child(Question, question_id, version)
    if request.method == "GET":
        return _question_page(version, QuestionForm.of(version, question), question)
    form = QuestionForm()
    form.fill_choices(version, question)
    done, _result = _apply(form, lambda: questionnaires_questions.update_question(current_user, question, form.question_input()))
    if not done:
        form.add_blank_options()
        return _question_page(version, form, question, 422)
    flash(_("Question “%(key)s” saved.", key=question.key))
    return redirect(_editor_url(version.questionnaire_id, version.id, f"question-{question.id}"), 303)


def _questions_changed(version: QuestionnaireVersion, notice: str, error: bool = False):
    """htmx: the questions block again, with the notice in it; otherwise back to the editor."""
    if htmx:
        version = queries.version_with_children(version.id)
        html = render_block(EDITOR, "questions", **_editor_context(version, notice=notice, notice_error=error))
        response = htmx_response(html, 200)
        response.vary.add("HX-Request")
        return response
    flash(notice, "error" if error else "message")
    return redirect(_editor_url(version.questionnaire_id, version.id, "questions"), 303)


@bp.post("/<id:qid>/versions/<id:vid>/questions/<id:question_id>/move")
@edits_draft
def move_question(version: QuestionnaireVersion, question_id: int):
    question = _child(Question, question_id, version)
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


@bp.post("/<id:qid>/versions/<id:vid>/questions/<id:question_id>/delete")
@edits_draft
def delete_question(version: QuestionnaireVersion, question_id: int):
    question = _child(Question, question_id, version)
    if not ActionForm().validate():
        abort(400)
    key = question.key
    rules = questionnaires_questions.delete_question(current_user, question)
    db.session.commit()
    notice = _("Removed “%(key)s”.", key=key)
    if rules:
        notice += " " + _("%(n)d skip rule(s) that used it were removed too.", n=rules)
    return _questions_changed(version, notice)


# Skip rules --------------------------------------------------------------------------------------


@bp.post("/<id:qid>/versions/<id:vid>/rules")
@edits_draft
def add_rule(version: QuestionnaireVersion):
    form = RuleForm()
    form.fill_choices(queries.ordered_questions(version))
    done, _result = _apply(form, lambda: skip_rules.add_rule(current_user, version, form.rule_input()))
    if not done:
        return _editor_page(queries.version_with_children(version.id), 422, rule_form=form)
    flash(_("Skip rule added."))
    return redirect(_editor_url(version.questionnaire_id, version.id, "rules"), 303)


@bp.route("/<id:qid>/versions/<id:vid>/rules/<id:rule_id>", methods=["GET", "POST"])
@edits_draft
def edit_rule(version: QuestionnaireVersion, rule_id: int):
    rule = _child(SkipRule, rule_id, version)
    questions = queries.ordered_questions(version)
    if request.method == "GET":
        form = RuleForm.of(questions, rule)
    else:
        form = RuleForm()
        form.fill_choices(questions)
        done, _result = _apply(form, lambda: skip_rules.update_rule(current_user, rule, form.rule_input()))
        if done:
            flash(_("Skip rule saved."))
            return redirect(_editor_url(version.questionnaire_id, version.id, "rules"), 303)
    return render_template(
        "admin/questionnaires/rule.html", version=version, questionnaire=version.questionnaire, form=form, rule=rule,
    ), 422 if form.errors else 200


@bp.post("/<id:qid>/versions/<id:vid>/rules/<id:rule_id>/delete")
@edits_draft
def delete_rule(version: QuestionnaireVersion, rule_id: int):
    rule = _child(SkipRule, rule_id, version)
    if ActionForm().validate():
        skip_rules.delete_rule(current_user, rule)
        db.session.commit()
        flash(_("Skip rule removed."))
    return redirect(_editor_url(version.questionnaire_id, version.id, "rules"), 303)
