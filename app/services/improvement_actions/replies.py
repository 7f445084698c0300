"""Telling the customers what an improvement action (整改措施) changed.

Once the fix is done (check or act), one reply per linked ticket whose customer can follow it
(a phone or walk-in ticket, or a survey ticket with consented contact details), in the ticket's
language, through the tickets' own reply operation, so it shows on the customer's status page;
by e-mail and SMS too where they left an address (``tickets.customer_messages``). Once per action: ``customers_told_at`` is
claimed with a conditional UPDATE, so a second click or a second worker tells nobody twice.
At the effect check (``check_due_on``, about a month after the fix) the customers told are asked, the
same way and once per action (``customers_asked_at``), to rate the handling on their status page.
Like every operation it flushes and leaves the commit to the caller; a refusal is ``Refused``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
from app.services.improvement_actions.queries import DONE_STATUSES, home_today
from app.services.tickets.customer_status import DONE as DONE_TICKETS
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


def _in_each_language(write: Callable[[], str]) -> dict[str, str]:
    """``write()`` in each reply language: a suggested message the user edits before sending."""
    messages = {}
    for language in REPLY_LANGUAGES:
        with force_locale(language):
            messages[language] = write()
    return messages


def default_messages(action: ImprovementAction) -> dict[str, str]:
    """The suggested reply in each language (the user edits it before sending)."""
    return _in_each_language(lambda: _(
        "Thank you for your feedback. Following it we made an improvement: %(title)s. "
        "It is in place now; we hope you notice the difference on your next visit.",
        title=action.title,
    ))


@dataclass(frozen=True)
class Told:
    tickets: list[Ticket]


def languages_of(tickets: Iterable[Ticket]) -> list[str]:
    """The languages these tickets' customers read replies in, in the order of REPLY_LANGUAGES."""
    needed = {reply_language(t) for t in tickets}
    return [language for language in REPLY_LANGUAGES if language in needed]


def languages_needed(action: ImprovementAction) -> list[str]:
    return languages_of(t for t in action.tickets if customer_can_follow(t))


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

    def subject(ticket: Ticket) -> str:
        return _("Your feedback %(code)s: what we changed", code=ticket.reference_code)

    return _reply_once(actor, action, tickets, messages, now, "customers_told_at", subject,
                       _l("The customers were told already."))


# --- One month after the fix: asking them to rate the handling -------------------------------------


def customers_to_ask(action: ImprovementAction) -> list[Ticket]:
    """The customers told of the fix whose ticket is done and not rated yet (the status page takes a rating)."""
    return [t for t in action.tickets
            if customer_can_follow(t) and t.status in DONE_TICKETS and t.customer_rating is None]


def can_ask(action: ImprovementAction, now: datetime | None = None) -> bool:
    """Whether the effect check is due (about a month after the fix) and the customers told not asked yet."""
    return (action.customers_told_at is not None and action.customers_asked_at is None
            and action.check_due_on is not None and home_today(now) >= action.check_due_on)


def rating_requests(action: ImprovementAction) -> dict[str, str]:
    """The suggested request in each language (the user edits it before sending)."""
    return _in_each_language(lambda: _(
        "About a month ago we told you about the improvement we made following your feedback: %(title)s. "
        "How did we handle your feedback? Please rate it on your feedback's page.",
        title=action.title,
    ))


def ask_customers_to_rate(
    actor: User, action: ImprovementAction, messages: Mapping[str, str], now: datetime | None = None
) -> Told:
    """The guides' "one month after a fix, contact the customers again": one reply per customer told of the
    fix whose ticket is done and not rated, in their language, asking them to rate the handling on their
    status page (its link is in the e-mail and text message). Once per action (``customers_asked_at``)."""
    now = now or utcnow()
    if action.customers_told_at is None:
        raise Refused({GENERAL: _l("Tell the customers what was done first.")})
    if action.customers_asked_at is not None:
        raise Refused({GENERAL: _l("The customers were asked already.")})
    if action.check_due_on is None or home_today(now) < action.check_due_on:
        raise Refused({GENERAL: _l(
            "Ask the customers when the effect is checked, from %(date)s.",
            date=(action.check_due_on or home_today(now)).isoformat(),
        )})
    tickets = customers_to_ask(action)
    if not tickets:
        raise Refused({GENERAL: _l("No customer told of the fix has a done ticket left to rate.")})

    def subject(ticket: Ticket) -> str:
        return _("Your feedback %(code)s: how did we do?", code=ticket.reference_code)

    return _reply_once(actor, action, tickets, messages, now, "customers_asked_at", subject,
                       _l("The customers were asked already."))


def _reply_once(
    actor: User, action: ImprovementAction, tickets: list[Ticket], messages: Mapping[str, str], now: datetime,
    claim: str, subject, claimed_already,
) -> Told:
    """One reply per ticket in its language, after checking the texts and the scope and claiming the
    action's ``claim`` column with a conditional UPDATE (a second click or a second worker sends nothing)."""
    problems: dict[str, object] = {}
    bodies = {}
    for language in languages_of(tickets):
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
    column = getattr(ImprovementAction, claim)
    claimed = db.session.execute(
        update(ImprovementAction)
        .where(ImprovementAction.id == action.id, column.is_(None))
        .values({claim: now, "updated_at": now})
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if not claimed:
        raise Refused({GENERAL: claimed_already})
    for ticket in tickets:
        language = reply_language(ticket)
        with force_locale(language):
            ticket_subject = subject(ticket)
        ticket_service.reply(ticket, actor, bodies[language], ticket_service.page_version(ticket), now, ticket_subject)
    # A reply that met a concurrent write rolls the session back: then the claim is gone too.
    if db.session.scalar(select(column).where(ImprovementAction.id == action.id)) is None:
        raise Refused({GENERAL: _l("A ticket changed at the same moment; nothing was sent. Try again.")})
    audit.record(actor, "update", action, before={claim: None}, after={claim: now}, label=action.title)
    db.session.flush()
    return Told(tickets)
