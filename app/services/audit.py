"""The audit log: record an admin's change in the same transaction, and read the log back filtered.

The actor is the admin (a User), an integration's API key (an ApiKey: a change made through /api/v1 is
logged as the key, ``api_key_id``) or None (the command line).

Usage in a service that changes something::

    before = audit.values(branch, BRANCH_FIELDS)
    ... change the branch ...
    audit.record(actor, "update", branch, before=before, after=audit.values(branch, BRANCH_FIELDS))

``record`` keeps only the fields that changed for an update and writes nothing when none did.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.models import ApiKey, AuditEntry, User

#: entity_type of each audited model, so the log names things in the product's words.
ENTITY_TYPES: dict[str, str] = {
    "Branch": "branch",
    "QrCode": "qr_code",
    "Holiday": "holiday",
    "Department": "department",
    "User": "user",
    "Questionnaire": "questionnaire",
    "QuestionnaireVersion": "questionnaire_version",
    "Question": "question",
    "Dimension": "dimension",
    "SkipRule": "skip_rule",
    "RoutingRule": "routing_rule",
    "SlaPolicy": "sla_policy",
    "EscalationRule": "escalation_rule",
    "StatusSetting": "status_setting",
    "Response": "response",
    "ImprovementAction": "improvement_action",
    "ApiKey": "api_key",
    "WebhookEndpoint": "webhook_endpoint",
    "Customer": "customer",
    "CustomerAttribute": "customer_attribute",
    "JobRun": "job_run",
    "Ticket": "ticket",
}


def plain(value: Any) -> Any:
    """A JSON-safe copy of a model value: dates as ISO text, enums as their value, models as their id."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if hasattr(value, "__table__") and hasattr(value, "id"):
        return value.id
    return value


def values(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """A snapshot of ``obj``'s ``fields`` for the log."""
    return {name: plain(getattr(obj, name)) for name in fields}


def entity_label(obj: object) -> str:
    for name in ("code", "username", "name", "key", "priority", "status"):
        value = getattr(obj, name, None)
        if isinstance(value, Mapping):  # texts in several languages
            value = next(iter(value.values()), "")
        if value:
            return str(value)[:200]
    return str(getattr(obj, "id", ""))


def record(
    actor: User | ApiKey | None,
    action: str,
    obj: object,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    label: str | None = None,
) -> AuditEntry | None:
    """Add an entry for ``action`` on ``obj`` (flushed with the change; the caller commits).

    For "update", fields equal before and after are left out, and nothing is written when
    nothing changed. ``obj`` must have its id (flush first when it was just created).
    """
    before = plain(dict(before)) if before is not None else None
    after = plain(dict(after)) if after is not None else None
    if action == "update" and before is not None and after is not None:
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if not changed:
            return None
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    if getattr(obj, "id", None) is None:
        db.session.flush()
    entry = AuditEntry(
        at=utcnow(),
        user_id=actor.id if isinstance(actor, User) else None,
        api_key_id=actor.id if isinstance(actor, ApiKey) else None,
        action=action,
        entity_type=ENTITY_TYPES.get(type(obj).__name__, type(obj).__name__.lower()),
        entity_id=getattr(obj, "id", None),
        label=label if label is not None else entity_label(obj),
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: int | None = None
    user_id: int | None = None
    api_key_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def _filtered(query: Select, f: AuditFilter) -> Select:
    if f.entity_type:
        query = query.where(AuditEntry.entity_type == f.entity_type)
    if f.entity_id is not None:
        query = query.where(AuditEntry.entity_id == f.entity_id)
    if f.user_id is not None:
        query = query.where(AuditEntry.user_id == f.user_id)
    if f.api_key_id is not None:
        query = query.where(AuditEntry.api_key_id == f.api_key_id)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.since is not None:
        query = query.where(AuditEntry.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEntry.at < f.until)
    if f.text:
        query = query.where(AuditEntry.label.icontains(f.text, autoescape=True))
    return query


def entries(f: AuditFilter, *, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages on to older entries."""
    query = _filtered(select(AuditEntry), f).options(selectinload(AuditEntry.user), selectinload(AuditEntry.api_key))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def entity_types_in_log() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)))


def actions_in_log() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
