"""SQLAlchemy models, one module per domain.

This ``__init__`` is the package's deliberate public face: the one way code names a model is
``from app.models import Ticket``, and importing it loads every mapper, so the relationships that
name their partner by string (branches ↔ surveys) resolve before the first query and Alembic sees
the whole metadata.
"""
from app.models.audit import AuditEntry
from app.models.branches import Branch, QrCode
from app.models.jobs import FileChunk, HeldJob, JobRun, JobStatus
from app.models.integrations import API_SCOPES, ApiKey, api_key_branches, IdempotentRequest
from app.models.people import Department, Role, User, user_branches, user_departments
from app.models.notifications import Notification, OutboxEmail, OutboxSms
from app.models.responses import Answer, Channel, Response
from app.models.customers import (
    Customer,
    CustomerAttribute,
    CustomerConsent,
    CustomerImportProblem,
    customer_branches,
)
from app.models.routing import RoutingRule
from app.models.sla import EscalationFiring, EscalationRule, Holiday, SlaPolicy, SlaRefresh, StatusSetting
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
from app.models.insight import (
    ActionStatus,
    AlertEpisode,
    AnswerRollup,
    Fishbone,
    ImprovementAction,
    MonthlyAnswerRollup,
    MonthlyOptionRollup,
    MonthlyResponseRollup,
    OptionRollup,
    ResponseRollup,
    RollupDirty,
)
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, webhook_endpoint_branches
from app.models.tickets import (
    AppendOnlyError,
    Category,
    CustomerCode,
    Priority,
    Ticket,
    TicketEvent,
    TicketSource,
    TicketStatus,
    TicketViewer,
)

__all__ = [
    "API_SCOPES", "ApiKey", "api_key_branches", "IdempotentRequest",
    "AuditEntry", "Customer", "CustomerAttribute", "CustomerConsent", "CustomerImportProblem",
    "customer_branches", "FileChunk", "HeldJob", "JobRun", "JobStatus",
    "ActionStatus", "AlertEpisode", "AnswerRollup", "Fishbone", "ImprovementAction", "MonthlyAnswerRollup",
    "MonthlyOptionRollup", "MonthlyResponseRollup", "OptionRollup", "ResponseRollup", "RollupDirty",
    "Answer", "Branch", "Channel", "Department", "Dimension", "PublishedVersionError", "QrCode", "Question",
    "Questionnaire", "QuestionnaireVersion", "QuestionType", "Response", "Role", "RuleAction",
    "SkipRule", "User", "VersionStatus", "user_branches", "user_departments",
    "AppendOnlyError", "Category", "CustomerCode", "EscalationFiring", "EscalationRule", "Holiday", "Notification",
    "OutboxEmail", "OutboxSms", "Priority", "RoutingRule", "SlaPolicy", "SlaRefresh", "StatusSetting", "Ticket", "TicketEvent",
    "TicketSource", "TicketStatus", "TicketViewer", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
    "webhook_endpoint_branches",
]
