"""The questionnaire builder: drafts, questions, dimensions, skip logic, preview, publish, targeting.

Plain forms with Post/Redirect/Get; moving and removing questions is htmx-enhanced (the
questions block is swapped). A published version is shown read-only, and every route that
would change one refuses with a message instead (the model's flush guard stays behind that).

One module per concern: ``questionnaire`` (the list, a new one, a copy, its page, name and window,
targeting, archive), ``versions`` (a new draft, the editor, texts, dimensions, publish, preview),
``questions``, ``skip_rules``; ``editor`` renders the version editor they share and ``shared``
holds the loading from the URL, the published-version guard and Post/Redirect/Get. The URL map
is here, in one place (Flask's "centralized URL map"), so the views need no blueprint to import.
"""
from __future__ import annotations

from flask import Blueprint

from app.blueprints.admin.questionnaires import questionnaire, questions, skip_rules, versions
from app.core.languages import SUPPORTED_LOCALES
from app.forms.admin_questionnaires.words import ACTION_LABELS, OPERATOR_LABELS, STATUS_LABELS, TYPE_LABELS
from app.i18n import LANGUAGE_NAMES

bp = Blueprint("questionnaires", __name__, url_prefix="/questionnaires")

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
VERSION = "/<id:qid>/versions/<id:vid>"

URLS = [
    ("/", "index", questionnaire.index, GET, {}),
    ("/new", "new", questionnaire.new, BOTH, {}),
    ("/<id:qid>", "show", questionnaire.show, GET, {}),
    ("/<id:qid>/copy", "copy", questionnaire.copy, BOTH, {}),
    ("/<id:qid>/settings", "settings", questionnaire.settings, POST, {}),
    ("/<id:qid>/targeting", "targeting", questionnaire.targeting, POST, {}),
    ("/<id:qid>/archive", "archive", questionnaire.set_archived, POST, {"archived": True}),
    ("/<id:qid>/restore", "restore", questionnaire.set_archived, POST, {"archived": False}),
    (f"{VERSION}/new-draft", "new_draft", versions.new_draft, POST, {}),
    (VERSION, "version", versions.version, GET, {}),
    (f"{VERSION}/texts", "texts", versions.texts, POST, {}),
    (f"{VERSION}/dimensions", "dimensions", versions.dimensions, POST, {}),
    (f"{VERSION}/publish", "publish", versions.publish, BOTH, {}),
    (f"{VERSION}/preview", "preview", versions.preview, GET, {}),
    (f"{VERSION}/questions/new", "add_question", questions.add_question, BOTH, {}),
    (f"{VERSION}/questions/<id:question_id>", "edit_question", questions.edit_question, BOTH, {}),
    (f"{VERSION}/questions/<id:question_id>/move", "move_question", questions.move_question, POST, {}),
    (f"{VERSION}/questions/<id:question_id>/delete", "delete_question", questions.delete_question, POST, {}),
    (f"{VERSION}/rules", "add_rule", skip_rules.add_rule, POST, {}),
    (f"{VERSION}/rules/<id:rule_id>", "edit_rule", skip_rules.edit_rule, BOTH, {}),
    (f"{VERSION}/rules/<id:rule_id>/delete", "delete_rule", skip_rules.delete_rule, POST, {}),
]
for rule, endpoint, view, methods, defaults in URLS:
    bp.add_url_rule(rule, endpoint, view, methods=methods, defaults=defaults)


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
