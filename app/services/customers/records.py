"""Customers one at a time and in lists: find them in a user's scope, create and change them, their consent
and opt-out per channel, and the upsert an import and the API share (by external id, else phone, else e-mail).

Operations flush and leave the commit to the caller. Personal values never go into the audit log (it
would keep them after an erasure): an entry names the customer by number and lists the fields changed.

Phone numbers are stored in E.164. One written without its country code is read in the country of the
customer's (first) branch, which is its holiday region's country (a branch's own, else its time zone's:
Asia/Shanghai → CN, Europe/London → GB-ENG → GB, Asia/Hong_Kong → HK); a customer without a branch is read
in head office's (LOOPDESK_HOME_TIMEZONE's) country.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import Select, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import selectinload

from app import labels
from app.core import contacts
from app.core.clock import utcnow
from app.core.contacts import Channel, ContactProblem
from app.extensions import db
from app.models import Branch, Customer, CustomerConsent, User
from app.permissions import scope_customers
from app.services import audit
from app.services.branches.calendars import default_holiday_region, holiday_region
from app.services.customers import attributes as attribute_definitions

#: The customer's own fields the audit log names when they change (never their values).
PERSONAL_FIELDS = ("external_id", "name", "company", "phone", "email", "language", "owner_id", "attributes")
PAGE_SIZE = 50


class CustomerError(ValueError):
    """A change that cannot be made; ``errors`` maps each form field to the message to show at it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(str(m) for m in self.errors.values()))


@dataclass
class CustomerFields:
    """A customer as typed into the form (or given by the API): raw text, checked by ``save``."""

    name: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    language: str = ""
    external_id: str = ""
    branch_ids: list[int] = field(default_factory=list)
    owner_id: int | None = None
    #: attribute key → raw value; a key left out keeps its value, a blank removes it.
    attributes: dict[str, object] = field(default_factory=dict)


def home_phone_region() -> str:
    return contacts.phone_region(default_holiday_region(current_app.config["LOOPDESK_HOME_TIMEZONE"]))


def phone_region(branches: Sequence[Branch]) -> str:
    """Where a number without its country code is read: the first branch's country, else head office's."""
    return contacts.phone_region(holiday_region(branches[0])) if branches else home_phone_region()


# --- Reading -------------------------------------------------------------------------------------


def scoped(user: User) -> Select:
    return scope_customers(select(Customer), user)


def find_for(user: User, customer_id: int) -> Customer | None:
    """The customer if ``user`` may see them, else None (the view answers 404 either way)."""
    return db.session.scalar(
        scoped(user).where(Customer.id == customer_id)
        .options(selectinload(Customer.branches), selectinload(Customer.consents), selectinload(Customer.owner))
    )


@dataclass(frozen=True)
class CustomerFilter:
    text: str = ""
    branch_id: int | None = None
    attribute: str = ""
    value: str = ""
    erased: bool = False


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    total: int
    page: int
    pages: int


def listing(user: User, f: CustomerFilter, page: int = 1, per_page: int = PAGE_SIZE) -> CustomerPage:
    """The customers in the user's scope that match, newest first, a page at a time.

    ``text`` finds a name or company containing it, an e-mail or phone containing it, or an external
    id equal to it; ``attribute``/``value`` one attribute's stored value (a tag among a customer's tags).
    """
    query = scoped(user).where(Customer.erased_at.is_not(None) if f.erased else Customer.erased_at.is_(None))
    text = f.text.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [Customer.name.icontains(text, autoescape=True), Customer.company.icontains(text, autoescape=True),
                      Customer.email_key.contains(text.lower(), autoescape=True), Customer.external_id == text]
        if len(digits) >= 4:
            conditions.append(Customer.phone.contains(digits, autoescape=True))
        query = query.where(or_(*conditions))
    if f.branch_id:
        query = query.where(Customer.branches.any(Branch.id == f.branch_id))
    definition = attribute_definitions.by_key().get(f.attribute) if f.attribute else None
    if definition is not None and f.value.strip():
        query = query.where(attribute_condition(definition.key, definition.type, f.value.strip()))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    customers = list(db.session.scalars(
        query.options(selectinload(Customer.branches), selectinload(Customer.owner))
        .order_by(Customer.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ))
    return CustomerPage(customers, total, page, pages)


def attribute_condition(key: str, kind: str, value: str):
    """A condition on one attribute's stored value, the same SQL idea on PostgreSQL (JSONB ->>) and SQLite
    (json_extract): the segments will build their rules from these."""
    column = Customer.attributes[key]
    if kind == contacts.AttributeType.TAGS:
        if db.engine.dialect.name == "postgresql":
            # attributes @> '{"tags": ["vip"]}': one GIN index on attributes serves every attribute
            return type_coerce(Customer.attributes, JSONB).contains({key: [value]})
        each = func.json_each(Customer.attributes, f"$.{key}").table_valued("value").alias("tag")
        return select(1).select_from(each).where(each.c.value == value).exists()
    if kind == contacts.AttributeType.NUMBER:
        try:
            return column.as_float() == float(value)
        except ValueError:
            return false()
    return column.as_string() == value


def changed_since(since: datetime | None, limit: int = 500, after_id: int = 0) -> list[Customer]:
    """For the API's incremental sync: customers changed at or after ``since`` (erased ones too), in the
    order of (updated_at, id); page on with the last row's time and id."""
    query = select(Customer).options(selectinload(Customer.branches), selectinload(Customer.consents))
    if since is not None:
        query = query.where(or_(Customer.updated_at > since, (Customer.updated_at == since) & (Customer.id > after_id)))
    return list(db.session.scalars(query.order_by(Customer.updated_at, Customer.id).limit(limit)))


# --- Changing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A customer's fields once normalised (what ``apply`` writes)."""

    values: dict[str, object]
    branches: list[Branch]
    owner: User | None
    attributes: dict[str, object]


def check(values: CustomerFields, customer: Customer | None = None) -> Checked:
    """Normalise every field; CustomerError with each problem at its field (attributes as ``attr_<key>``)."""
    problems: dict[str, str] = {}
    branches = list(db.session.scalars(select(Branch).where(Branch.id.in_(values.branch_ids or [0])).order_by(Branch.name)))
    owner = db.session.get(User, values.owner_id) if values.owner_id else None
    if owner is not None and not owner.active:
        problems["owner_id"] = labels.CONTACT_PROBLEMS["owner_unknown"]
    normalised: dict[str, object] = {}
    steps = {
        "external_id": lambda raw: contacts.limited(raw, contacts.EXTERNAL_ID_MAX),
        "name": lambda raw: contacts.limited(raw, contacts.NAME_MAX),
        "company": lambda raw: contacts.limited(raw, contacts.COMPANY_MAX),
        "phone": lambda raw: contacts.normalised_phone(raw, phone_region(branches)),
        "email": contacts.normalised_email,
        "language": contacts.language,
    }
    for name, step in steps.items():
        try:
            normalised[name] = step(getattr(values, name))
        except ContactProblem as problem:
            problems[name] = labels.CONTACT_PROBLEMS[problem.code]
    taken = normalised.get("external_id")
    if taken and db.session.scalar(
        select(Customer.id).where(Customer.external_id == taken, Customer.id != (customer.id if customer else 0))
    ):
        problems["external_id"] = labels.CONTACT_PROBLEMS["external_id_taken"]
    definitions = attribute_definitions.by_key()
    stored = dict(customer.attributes or {}) if customer is not None else {}
    for key, raw in values.attributes.items():
        definition = definitions.get(key)
        if definition is None:
            continue
        try:
            value = attribute_definitions.stored_value(definition, raw)
        except ContactProblem as problem:
            problems[f"attr_{key}"] = labels.CONTACT_PROBLEMS[problem.code]
            continue
        if value is None:
            stored.pop(key, None)
        else:
            stored[key] = value
    if problems:
        raise CustomerError(problems)
    return Checked(normalised, branches, owner, stored)


def apply(customer: Customer, checked: Checked) -> list[str]:
    """Write checked fields onto the customer; the names of the fields that changed."""
    changed = []
    for name, value in checked.values.items():
        if getattr(customer, name) != value:
            setattr(customer, name, value)
            changed.append(name)
    customer.email_key = contacts.email_key(customer.email)
    if customer.owner_id != (checked.owner.id if checked.owner else None):
        customer.owner = checked.owner
        changed.append("owner_id")
    if (customer.attributes or {}) != checked.attributes:
        customer.attributes = checked.attributes
        changed.append("attributes")
    if sorted(b.id for b in customer.branches) != sorted(b.id for b in checked.branches):
        customer.branches = checked.branches
        changed.append("branches")
    if changed:
        customer.last_activity_at = utcnow()
    return changed


def save(actor: User, customer: Customer | None, values: CustomerFields) -> Customer:
    """Create (``customer`` None) or change a customer from the form; audited by field names only."""
    checked = check(values, customer)
    created = customer is None
    if created:
        customer = Customer(attributes={})
        db.session.add(customer)
    changed = apply(customer, checked)
    db.session.flush()
    if created or changed:
        audit.record(actor, "create" if created else "update", customer, label=label(customer),
                     before=None if created else {"fields": []}, after={"fields": sorted(changed)})
    return customer


def label(customer: Customer) -> str:
    """How the audit log names a customer: by number, never by name."""
    return f"#{customer.id}"


def set_consent(customer: Customer, channel: Channel | str, granted: bool, source: str,
                at: datetime | None = None) -> CustomerConsent:
    """Record consent (``granted``) or an opt-out on one channel, with where it came from and when."""
    channel = Channel(channel)
    found = customer.consent(channel)
    if found is None:
        found = CustomerConsent(channel=channel)
        customer.consents.append(found)
    moment = at or utcnow()
    if granted:
        found.consented_at, found.consent_source = moment, source[:40]
    else:
        found.opted_out_at, found.opt_out_source = moment, source[:40]
    customer.updated_at = utcnow()
    return found


def change_consent(actor: User, customer: Customer, channel: str, granted: bool) -> None:
    """Staff record a consent or an opt-out on the customer's page (source "admin"); audited."""
    set_consent(customer, channel, granted, "admin")
    db.session.flush()
    audit.record(actor, "consent", customer, label=label(customer),
                 after={"channel": channel, "consent": granted})


# --- Upsert (imports and the API) ------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """What a customer is found by: the CRM's id first, then phone, then e-mail (lower-cased)."""

    external_id: str | None = None
    phone: str | None = None
    email_key: str | None = None


def matches(identities: Iterable[Identity]) -> dict[Identity, Customer]:
    """The existing (not erased) customer each identity names, in three queries for a whole batch.

    By external id; else by phone, else by e-mail, among customers without an external id or with the
    same one (a customer whose CRM id differs is somebody else, even on a shared phone). Several
    customers with one phone: the oldest.
    """
    wanted = list(identities)
    external_ids = {i.external_id for i in wanted if i.external_id}
    phones = {i.phone for i in wanted if i.phone}
    emails = {i.email_key for i in wanted if i.email_key}
    alive = Customer.erased_at.is_(None)
    loaded = (selectinload(Customer.branches), selectinload(Customer.consents))
    by_external = {c.external_id: c for c in db.session.scalars(
        select(Customer).where(Customer.external_id.in_(external_ids)).options(*loaded)
    )} if external_ids else {}
    by_phone: dict[str, Customer] = {}
    if phones:
        for c in db.session.scalars(select(Customer).where(alive, Customer.phone.in_(phones)).order_by(Customer.id).options(*loaded)):
            by_phone.setdefault(c.phone, c)
    by_email: dict[str, Customer] = {}
    if emails:
        for c in db.session.scalars(select(Customer).where(alive, Customer.email_key.in_(emails)).order_by(Customer.id).options(*loaded)):
            by_email.setdefault(c.email_key, c)
    found: dict[Identity, Customer] = {}
    for identity in wanted:
        match = by_external.get(identity.external_id) if identity.external_id else None
        if match is None:
            for candidate in (by_phone.get(identity.phone), by_email.get(identity.email_key)):
                if candidate is not None and candidate.external_id in (None, identity.external_id):
                    match = candidate
                    break
        if match is not None and match.erased_at is None:
            found[identity] = match
    return found

