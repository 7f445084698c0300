"""Building questionnaires: drafts, texts, dimensions, questions, skip rules, publishing, targeting.

Every function changes one thing, records it in the audit log and flushes; the view commits.
A refused change raises ``Refused`` with the problems at the fields of the form that asked
for it; any change to a published version raises ``PublishedVersionError`` before touching
it (and the model's flush guard stays behind that, whatever route tries).
"""
from __future__ import annotations

from app.services.questionnaire_dimensions import DimensionInput, save_dimensions
from app.services.questionnaire_queries import (
    open_draft,
    ordered_questions,
    questionnaires,
    regions_in_use,
    version_with_children,
)
from app.services.questionnaire_questions import (
    QuestionInput,
    add_question,
    delete_question,
    move_question,
    update_question,
)
from app.services.questionnaire_refusals import Refused
from app.services.questionnaire_settings import create_questionnaire, set_archived, set_targeting, update_settings
from app.services.questionnaire_skip_rules import RuleInput, add_rule, delete_rule, update_rule
from app.services.questionnaire_versions import new_draft_from, publish, update_texts

__all__ = [
    "DimensionInput", "QuestionInput", "Refused", "RuleInput",
    "add_question", "add_rule", "create_questionnaire", "delete_question", "delete_rule", "move_question",
    "new_draft_from", "open_draft", "ordered_questions", "publish", "questionnaires", "regions_in_use",
    "save_dimensions", "set_archived", "set_targeting", "update_question", "update_rule", "update_settings",
    "update_texts", "version_with_children",
]
