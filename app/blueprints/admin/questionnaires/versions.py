"""A questionnaire's versions: a new draft, the editor, texts, dimensions, publishing, the phone preview."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from flask_htmx import make_response as htmx_response
from flask_login import current_user
from markupsafe import Markup

from app.blueprints.admin.questionnaires.editor import editor_page
from app.blueprints.admin.questionnaires.shared import (
    apply,
    confirmation,
    editor_url,
    edits_draft,
    needs_confirmation,
    see_other,
    version_or_404,
)
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db, htmx
from app.forms.admin_questionnaires import ActionForm
from app.forms.admin_questionnaires.version import DimensionsForm, PreviewStepForm, VersionTextsForm
from app.models import QuestionnaireVersion
from app.services.questionnaires import (
    dimensions as questionnaires_dimensions,
    queries,
    serving,
    versions as questionnaires_versions,
)
from app.services.survey.plans import build_plan


def new_draft(qid: int, vid: int):
    version = version_or_404(qid, vid)
    if not ActionForm().validate():
        return redirect(editor_url(qid, vid), 303)
    draft, made = questionnaires_versions.new_draft_from(current_user, version)
    db.session.commit()
    if made:
        flash(_("Version %(new)d is a new draft, copied from version %(old)d.", new=draft.number, old=version.number))
    else:
        flash(_("Version %(n)d is already a draft: edit it, or publish it first.", n=draft.number))
    return redirect(editor_url(qid, draft.id), 303)


def version(qid: int, vid: int):
    return editor_page(version_or_404(qid, vid))


@edits_draft
def texts(version: QuestionnaireVersion):
    form = VersionTextsForm()
    if not form.validate():
        return editor_page(version, 422, texts_form=form)
    questionnaires_versions.update_texts(current_user, version, form.chosen_languages(), form.texts("title"),
                                         form.texts("intro"), form.texts("thanks"))
    db.session.commit()
    flash(_("Texts saved."))
    return redirect(editor_url(version.questionnaire_id, version.id, "texts"), 303)


@edits_draft
def dimensions(version: QuestionnaireVersion):
    form = DimensionsForm()
    done, _result = apply(form, lambda: questionnaires_dimensions.save_dimensions(current_user, version, form.rows()),
                          add=DimensionsForm.add_problems)
    if not done:
        return editor_page(queries.version_with_children(version.id), 422, dimensions_form=form)
    flash(_("Dimensions saved."))
    return redirect(editor_url(version.questionnaire_id, version.id, "dimensions"), 303)


@edits_draft
def publish(version: QuestionnaireVersion):
    """GET: what publishing would switch, and the button that publishes; POST: publish the list confirmed.

    A draft not fit to publish shows its problems in the editor instead; a confirmation given for a
    list that has changed since (someone retargeted meanwhile) shows the new list to confirm again.
    """
    problems = queries.publish_problems(version)
    if not problems:
        preview = serving.publish_preview(version)
        if needs_confirmation(preview, always=True):
            confirm = confirmation("publish", preview, url_for(".publish", qid=version.questionnaire_id, vid=version.id))
            return editor_page(version, 409 if confirm.stale else 200, confirm=confirm)
        if not ActionForm().validate():
            return see_other(editor_url(version.questionnaire_id, version.id))
        problems = questionnaires_versions.publish(current_user, version)
    if problems:
        db.session.rollback()
        response = htmx_response(*editor_page(queries.version_with_children(version.id), 422, problems=problems))
        if htmx:  # the problems are marked at their fields all over the editor, not only in its publish card
            response.headers.update({"HX-Retarget": "main", "HX-Reselect": "main", "HX-Reswap": "outerHTML"})
        return response
    db.session.commit()
    flash(_("Version %(n)d is published: customers get it from now on, and it can no longer change.", n=version.number))
    return see_other(url_for(".show", qid=version.questionnaire_id))


def preview(qid: int, vid: int):
    version = version_or_404(qid, vid)
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
