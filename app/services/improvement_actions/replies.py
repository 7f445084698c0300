"""Telling the customers what an improvement action (整改措施) changed.

Once the fix is done (check or act), one reply per linked ticket whose customer can follow it
(a phone or walk-in ticket, or a survey ticket with consented contact details), in the ticket's
language, through the tickets' own reply operation, so it shows on the customer's status page;
by e-mail and SMS too where they left an address (``tickets.customer_messages``). Once per action: ``customers_told_at`` is
claimed with a conditional UPDATE, so a second click or a second worker tells nobody twice.
Like every operation it flushes and leaves the commit to the caller; a refusal is ``Refused``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import select, update

from app.core.clock import utcnow
from app.core.languages import SUPPORTED_LOCALES
from app.extensions import db
from app.models import ImprovementAction, Ticket, TicketSource, User
from app.services import audit
from app.services.tickets import queries
from app.services import tickets as ticket_service
from app.services.tickets import errors
from app.services.improvement_actions.queries import DONE_STATUSES
from app.services.improvement_actions import GENERAL, Refused

#: The languages a customer reply is written in (a ticket's language, else the first).
REPLY_LANGUAGES = SUPPORTED_LOCALES


def customer_can_follow(ticket: Ticket) -> bool:
    """A customer who can read the reply: they gave the complaint in person or left contact details."""
    if ticket.source != TicketSource.SURVEY:
        return True
    return bool(ticket.contact_consent and (ticket.contact_phone or ticket.contact_email))


def reply_language(ticket: Ticket) -> str:
    return ticket.language if ticket.language in REPLY_LANGUAGES else REPLY_LANGUAGES[0]


def default_messages(action: ImprovementAction) -> dict[str, str]:
    """The suggested reply in each language (the user edits it before sending)."""
    messages = {}
    for language in REPLY_LANGUAGES:
        with force_locale(language):
            messages[language] = _(
                "Thank you for your feedback. Following it we made an improvement: %(title)s. "
                "It is in place now; we hope you notice the difference on your next visit.",
                title=action.title,
            )
    return messages


@dataclass(frozen=True)
class Told:
    tickets: list[Ticket]


def languages_needed(action: ImprovementAction) -> list[str]:
    needed = {reply_language(t) for t in action.tickets if customer_can_follow(t)}
    return [language for language in REPLY_LANGUAGES if language in needed]


def tell_customers(
    actor: User, action: ImprovementAction, messages: Mapping[str, str], now: datetime | None = None
) -> Told:
    """One reply per linked ticket whose customer can follow it, and an e-mail where they left an address.

    Refused before anything is written when the fix is not done, the customers were told already,
    a needed text is empty, or the actor may not reply on one of the tickets.
    """
    now = now or utcnow()
    if action.status not in DONE_STATUSES:
        raise Refused({GENERAL: _l("Tell the customers once the fix is done (check or act).")})
    if action.customers_told_at is not None:
        raise Refused({GENERAL: _l("The customers were told already.")})
    tickets = [t for t in action.tickets if customer_can_follow(t)]
    if not tickets:
        raise Refused({GENERAL: _l("No linked ticket has a customer who can be told.")})
    problems: dict[str, object] = {}
    bodies = {}
    for language in languages_needed(action):
        body = (messages.get(language) or "").strip()
        if not body:
            problems[f"message_{language}"] = _l("Write the message first.")
        elif len(body) > errors.MAX_BODY:
            problems[f"message_{language}"] = _l("That text is too long.")
        bodies[language] = body
    not_yours = [t.reference_code for t in tickets if not queries.can_work(actor, t.branch_id, t.department_id)]
    if not_yours:
        problems[GENERAL] = _l(
            "You may not reply on %(codes)s; ask someone who works on them, or unlink them.",
            codes=", ".join(not_yours),
        )
    if problems:
        raise Refused(problems)
    claimed = db.session.execute(
        update(ImprovementAction)
        .where(ImprovementAction.id == action.id, ImprovementAction.customers_told_at.is_(None))
        .values(customers_told_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise Refused({GENERAL: _l("The customers were told already.")})
    for ticket in tickets:
        language = reply_language(ticket)
        with force_locale(language):
            subject = _("Your feedback %(code)s: what we changed", code=ticket.reference_code)
        ticket_service.reply(ticket, actor, bodies[language], ticket_service.page_version(ticket), now, subject)
    # A reply that met a concurrent write rolls the session back: then the claim is gone too.
    if db.session.scalar(select(ImprovementAction.customers_told_at).where(ImprovementAction.id == action.id)) is None:
        raise Refused({GENERAL: _l("A ticket changed at the same moment; nothing was sent. Try again.")})
    audit.record(actor, "update", action, before={"customers_told_at": None},
                 after={"customers_told_at": now}, label=action.title)
    db.session.flush()
    return Told(tickets)

