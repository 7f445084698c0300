"""The version editor page, which the version, question and skip-rule views all render back."""
from __future__ import annotations

from flask import render_template

from app.blueprints.admin.questionnaires.shared import EDITOR, messages
from app.core.questionnaire_checks import Problem
from app.forms.admin_questionnaires import ActionForm
from app.forms.admin_questionnaires.texts import editor_locales
from app.forms.admin_questionnaires.version import DimensionsForm, RuleForm, VersionTextsForm
from app.models import QuestionnaireVersion
from app.services.questionnaires import queries


def editor_context(version: QuestionnaireVersion, texts_form=None, dimensions_form=None, rule_form=None,
                   problems: list[Problem] | None = None, notice: str | None = None, notice_error: bool = False,
                   confirm=None) -> dict:
    questions = queries.ordered_questions(version)
    grouped = messages(problems or [])
    by_id = {q.id: q for q in questions}
    texts_form = texts_form or VersionTextsForm.of(version)
    return {
        "version": version,
        "frozen": version.is_published,
        "questionnaire": version.questionnaire,
        "questions": questions,
        "questions_by_id": by_id,
        "rules": version.rules,
        "rules_by_target": {q.id: [r for r in version.rules if r.target_question_id == q.id] for q in questions},
        "draft": queries.open_draft(version.questionnaire),
        "texts_form": texts_form,
        # the languages whose texts the page shows and edits (zh_Hant where the version offers it)
        "text_locales": editor_locales(
            [*(version.languages or []), *(texts_form.languages.data or [])],
            version.title, version.intro, version.thanks, *(q.prompt for q in questions),
        ),
        "dimensions_form": dimensions_form or DimensionsForm.of(version),
        "rule_form": rule_form or RuleForm.of(questions),
        "action_form": ActionForm(formdata=None),
        "problems": grouped,
        "problem_count": len(problems or []),
        "question_problems": {
            q.id: [m for field, ms in grouped.items() if field.startswith(f"question-{q.id}-") for m in ms]
            for q in questions
        },
        "weight_total": sum(d.weight for d in version.dimensions),
        "notice": notice,
        "notice_error": notice_error,
        "confirm": confirm,
    }


def editor_page(version: QuestionnaireVersion, status: int = 200, **context):
    return render_template(EDITOR, **editor_context(version, **context)), status
