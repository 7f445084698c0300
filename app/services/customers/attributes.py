"""The attributes an admin defines for customers (value tier, size, start date, tags…) and the values
each allows. A definition's key is fixed once made (customers' values and, later, segments' rules name
it); its labels, choices and order may change. Values already stored are not rewritten when choices change.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.contacts import AttributeType, ContactProblem, attribute_value, parse_choices
from app.extensions import db
from app.models import CustomerAttribute, User
from app.services import audit

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELDS = ("key", "labels", "type", "choices", "position")


class AttributeDefinitionError(ValueError):
    """A definition that cannot be saved; ``errors`` maps each form field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(m) for m in self.errors.values()))


@dataclass
class AttributeFields:
    key: str
    type: str
    labels: dict[str, str] = field(default_factory=dict)
    choices_text: str = ""
    position: int = 0


def definitions() -> list[CustomerAttribute]:
    return list(db.session.scalars(select(CustomerAttribute).order_by(CustomerAttribute.position, CustomerAttribute.key)))


def by_key() -> dict[str, CustomerAttribute]:
    return {a.key: a for a in definitions()}


def save(actor: User, attribute: CustomerAttribute | None, values: AttributeFields) -> CustomerAttribute:
    """Create (``attribute`` None) or change a definition; audited; flushed, the caller commits."""
    errors: dict[str, str] = {}
    key = values.key.strip().lower()
    if attribute is None:
        if not KEY_PATTERN.match(key):
            errors["key"] = _l("Lower-case letters, digits and _, starting with a letter (e.g. tier).")
        elif db.session.scalar(select(CustomerAttribute.id).where(CustomerAttribute.key == key)):
            errors["key"] = _l("Another attribute has this key.")
    if values.type not in {t.value for t in AttributeType}:
        errors["type"] = _l("Choose a type.")
    labels = {locale: text.strip()[:80] for locale, text in values.labels.items() if text and text.strip()}
    if not labels:
        errors["labels"] = _l("Give it a label in at least one language.")
    choices = [{"value": c.value, "labels": dict(c.labels)} for c in parse_choices(values.choices_text)]
    if values.type == AttributeType.CHOICE and not choices:
        errors["choices_text"] = _l("A list needs at least one choice.")
    if errors:
        raise AttributeDefinitionError(errors)
    before = audit.values(attribute, FIELDS) if attribute is not None else None
    if attribute is None:
        attribute = CustomerAttribute(key=key)
        db.session.add(attribute)
    attribute.type = AttributeType(values.type)
    attribute.labels = labels
    attribute.choices = choices if attribute.type == AttributeType.CHOICE else []
    attribute.position = values.position
    db.session.flush()
    audit.record(actor, "create" if before is None else "update", attribute, before=before,
                 after=audit.values(attribute, FIELDS))
    return attribute


def stored_value(attribute: CustomerAttribute, raw: object) -> object:
    """``raw`` as this attribute stores it (app.core.contacts.attribute_value); ContactProblem if it cannot be."""
    return attribute_value(raw, attribute.type, attribute.choices or ())


def shown_value(attribute: CustomerAttribute, value: object, locale: str) -> str:
    """A stored value as a reader sees it: a choice by its label in their language, tags joined."""
    if value is None:
        return ""
    if attribute.type == AttributeType.CHOICE:
        for choice in attribute.choices or ():
            if choice["value"] == value:
                labels = choice.get("labels") or {}
                return labels.get(locale) or labels.get("zh_Hans" if locale == "zh_Hant" else "en") or value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)

