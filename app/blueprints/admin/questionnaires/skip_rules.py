"""A draft's skip rules: adding one in the editor, changing one on its own page, removing one."""
from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin.questionnaires.editor import editor_page
from app.blueprints.admin.questionnaires.shared import apply, child_or_404, editor_url, edits_draft
from app.extensions import db
from app.forms.admin_questionnaires import ActionForm
from app.forms.admin_questionnaires.version import RuleForm
from app.models import QuestionnaireVersion, SkipRule
from app.services.questionnaires import queries, skip_rules


@edits_draft
def add_rule(version: QuestionnaireVersion):
    form = RuleForm()
    form.fill_choices(queries.ordered_questions(version))
    done, _result = apply(form, lambda: skip_rules.add_rule(current_user, version, form.rule_input()))
    if not done:
        return editor_page(queries.version_with_children(version.id), 422, rule_form=form)
    flash(_("Skip rule added."))
    return redirect(editor_url(version.questionnaire_id, version.id, "rules"), 303)


@edits_draft
def edit_rule(version: QuestionnaireVersion, rule_id: int):
    rule = child_or_404(SkipRule, rule_id, version)
    questions = queries.ordered_questions(version)
    if request.method == "GET":
        form = RuleForm.of(questions, rule)
    else:
        form = RuleForm()
        form.fill_choices(questions)
        done, _result = apply(form, lambda: skip_rules.update_rule(current_user, rule, form.rule_input()))
        if done:
            flash(_("Skip rule saved."))
            return redirect(editor_url(version.questionnaire_id, version.id, "rules"), 303)
    return render_template(
        "admin/questionnaires/rule.html", version=version, questionnaire=version.questionnaire, form=form, rule=rule,
    ), 422 if form.errors else 200


@edits_draft
def delete_rule(version: QuestionnaireVersion, rule_id: int):
    rule = child_or_404(SkipRule, rule_id, version)
    if ActionForm().validate():
        skip_rules.delete_rule(current_user, rule)
        db.session.commit()
        flash(_("Skip rule removed."))
    return redirect(editor_url(version.questionnaire_id, version.id, "rules"), 303)
