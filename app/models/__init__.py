"""SQLAlchemy models, one module per domain."""
from app.models.branches import Branch, QrCode
from app.models.people import Department, Role, User, user_branches, user_departments
from app.models.responses import Answer, Response
from app.models.surveys import (
    Dimension,
    PublishedVersionError,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    QuestionType,
    RuleAction,
    SkipRule,
    VersionStatus,
)

__all__ = [
    "Answer", "Branch", "Department", "Dimension", "PublishedVersionError", "QrCode", "Question",
    "Questionnaire", "QuestionnaireVersion", "QuestionType", "Response", "Role", "RuleAction",
    "SkipRule", "User", "VersionStatus", "user_branches", "user_departments",
]
