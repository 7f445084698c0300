"""A questionnaire as a whole: the list, a new one, a copy, its page, name and active window, targeting, archiving."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.blueprints.admin.questionnaires.shared import (
    apply,
    confirmation,
    editor_url,
    needs_confirmation,
    questionnaire_or_404,
    see_other,
)
from app.core.clock import utcnow
from app.extensions import db
from app.forms.admin_questionnaires import ActionForm
from app.forms.admin_questionnaires.questionnaire import (
    CopyQuestionnaireForm,
    NewQuestionnaireForm,
    SettingsForm,
    TargetingForm,
)
from app.models import Branch, Questionnaire
from app.services.questionnaires import queries, serving, settings as questionnaires_settings


def status_of(questionnaire: Questionnaire, now) -> str:
    if questionnaire.archived_at is not None:
        return "archived"
    if questionnaire.current_version_id is None:
        return "not_published"
    if questionnaire.starts_at is not None and now < questionnaire.starts_at:
        return "scheduled"
    if questionnaire.ends_at is not None and now >= questionnaire.ends_at:
        return "ended"
    return "live"


def index():
    archived = request.args.get("archived") == "1"
    now = utcnow()
    rows = [(q, status_of(q, now), queries.open_draft(q)) for q in queries.questionnaires(archived=archived)]
    return render_template("admin/questionnaires/index.html", rows=rows, archived=archived,
                           serving=serving.serving_now(now))


def new():
    form = NewQuestionnaireForm()
    if not form.is_submitted():
        return render_template("admin/questionnaires/new.html", form=form)
    done, questionnaire = apply(form, lambda: questionnaires_settings.create_questionnaire(
        current_user, form.code.data.strip(), form.name(), from_template=form.start.data == "template"
    ))
    if not done:
        return render_template("admin/questionnaires/new.html", form=form), 422
    flash(_("Questionnaire created. Version 1 is a draft: add questions, then publish it."))
    return redirect(editor_url(questionnaire.id, questionnaire.versions[0].id), 303)


def copy(qid: int):
    """Copy as a new questionnaire: every setting, and the version customers answer as a new draft."""
    original = questionnaire_or_404(qid)
    source = queries.version_to_copy(original)
    form = CopyQuestionnaireForm() if request.method == "POST" else CopyQuestionnaireForm.of(original)
    if request.method == "GET":
        return render_template("admin/questionnaires/copy.html", form=form, questionnaire=original, source=source)
    done, questionnaire = apply(form, lambda: questionnaires_settings.copy_questionnaire(
        current_user, original, form.code.data.strip(), form.name()
    ))
    if not done:
        return render_template("admin/questionnaires/copy.html", form=form, questionnaire=original, source=source), 422
    flash(_("Copied from version %(n)d. The copy's version 1 is a draft: nothing reaches customers until you publish it.",
            n=source.number))
    return redirect(editor_url(questionnaire.id, questionnaire.versions[0].id), 303)


def _questionnaire_page(questionnaire: Questionnaire, status: int = 200, settings_form=None, targeting_form=None,
                        confirm=None):
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
        status=status_of(questionnaire, utcnow()),
        draft=queries.open_draft(questionnaire),
        settings_form=settings_form or SettingsForm.of(questionnaire),
        targeting_form=targeting_form,
        action_form=ActionForm(formdata=None),
        confirm=confirm,
    ), status


def show(qid: int):
    return _questionnaire_page(questionnaire_or_404(qid))


def settings(qid: int):
    """Name and window; a new window that switches what QR codes open is saved once the admin confirms the list."""
    questionnaire = questionnaire_or_404(qid)
    form = SettingsForm()
    if not form.validate():
        return _questionnaire_page(questionnaire, 422, settings_form=form)
    preview = serving.window_preview(questionnaire, form.starts_at.data, form.ends_at.data)
    if needs_confirmation(preview):
        confirm = confirmation("settings", preview, url_for(".settings", qid=qid))
        return _questionnaire_page(questionnaire, 409 if confirm.stale else 200, settings_form=form, confirm=confirm)
    questionnaires_settings.update_settings(current_user, questionnaire, form.name(), form.starts_at.data, form.ends_at.data)
    db.session.commit()
    flash(_("Settings saved."))
    return see_other(url_for(".show", qid=qid))


def targeting(qid: int):
    """Which branches and regions; a change that switches what QR codes open is saved once the admin confirms."""
    questionnaire = questionnaire_or_404(qid)
    form = TargetingForm()
    branches = db.session.scalars(select(Branch).order_by(Branch.name)).all()
    form.fill_choices(branches, sorted(set(queries.regions_in_use()) | set(questionnaire.target_regions or [])))
    if not form.validate():
        return _questionnaire_page(questionnaire, 422, targeting_form=form)
    chosen = [b for b in branches if b.id in set(form.branch_ids.data or [])]
    regions = form.regions.data or []
    preview = serving.targeting_preview(questionnaire, [b.id for b in chosen], regions)
    if needs_confirmation(preview):
        confirm = confirmation("targeting", preview, url_for(".targeting", qid=qid))
        return _questionnaire_page(questionnaire, 409 if confirm.stale else 200, targeting_form=form, confirm=confirm)
    questionnaires_settings.set_targeting(current_user, questionnaire, chosen, regions)
    db.session.commit()
    flash(_("Targeting saved: offered at every branch.") if not chosen and not regions else _("Targeting saved."))
    return see_other(url_for(".show", qid=qid))


def set_archived(qid: int, archived: bool):
    questionnaire = questionnaire_or_404(qid)
    if ActionForm().validate():
        questionnaires_settings.set_archived(current_user, questionnaire, archived)
        db.session.commit()
        flash(_("Archived: customers are no longer offered this questionnaire.") if archived else _("Restored."))
    return redirect(url_for(".show", qid=qid), 303)
