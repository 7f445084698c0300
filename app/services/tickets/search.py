"""Finding a ticket from the queue: by reference code, phone, e-mail or words, within the user's scope.

Every ticket keeps ``Ticket.search_text`` (app/core/ticket_search.searchable_text), rebuilt by
``refresh`` whenever what it holds changes: when the ticket opens and with each reply, note or
call (``app.services.tickets``). It is one column because notes live in another table and the
phone's digits, the folding and the doubled Chinese characters are Python's. PostgreSQL finds ILIKE '%…%' on it through a
pg_trgm GIN index; SQLite scans it with LIKE. A code is also compared with ``reference_code``
itself (unique index), so "e5v ynd" finds LD-E5VYND.

The results are scoped by ``app.permissions.scope_tickets`` like the queue, over every status
and assignee: a customer calls about a resolved ticket too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from app.core.ticket_search import MAX_QUERY, SearchQuery, Snippet, like_pattern, searchable_text, snippet, ticked_labels
from app.extensions import db
from app.models import Ticket, TicketEvent, User
from app.models.tickets import OPEN_STATUSES
from app.permissions import scope_tickets

#: The events whose bodies are searched: what was said to, by or about the customer.
SEARCHED_KINDS = ("reply", "note", "call")
#: A search shows at most this many tickets (the code or phone a customer reads out finds one).
LIMIT = 50


def refresh(ticket: Ticket) -> None:
    """Rebuild the ticket's searchable text from its fields and its replies, notes and calls (flushed or not)."""
    bodies = [event.body for event in ticket.events if event.kind in SEARCHED_KINDS]
    ticket.search_text = searchable_text(
        reference_code=ticket.reference_code,
        contact_phone=ticket.contact_phone,
        contact_email=ticket.contact_email,
        contact_name=ticket.contact_name,
        subject=ticket.subject or "\n".join(ticked_labels(ticket.routing)),
        description=ticket.description,
        bodies=bodies,
    )


@dataclass(frozen=True)
class Found:
    ticket: Ticket
    #: The text around the first word found in the ticket's subject, description, messages or contact;
    #: None when only the code or the phone's digits matched.
    snippet: Snippet | None


def search(user: User, query: str | None, limit: int = LIMIT) -> list[Found]:
    """Tickets in the user's scope that the query finds, at most ``limit``: the newest that match, shown
    with the one whose code it is first, then the open ones, each newest first.

    The database returns the newest matches (ORDER BY id DESC LIMIT): for words many tickets share
    PostgreSQL then walks the primary key backwards and stops at ``limit``, and for rare ones it
    asks the trigram index; sorting every match by status first would read them all.
    """
    parsed = SearchQuery.parse(query)
    if parsed.is_empty:
        return []
    matches = [and_(*(_contains(word) for word in parsed.words))]
    if parsed.phone:
        matches.append(_contains(parsed.phone))
    tickets = _scoped(user, or_(*matches), limit)
    if parsed.reference_code:
        exact = _scoped(user, Ticket.reference_code == parsed.reference_code, 1)
        tickets = exact + [ticket for ticket in tickets if ticket not in exact][: limit - len(exact)]
    tickets.sort(key=lambda t: (t.reference_code != parsed.reference_code, t.status not in OPEN_STATUSES))
    bodies = _bodies([ticket.id for ticket in tickets])
    return [Found(ticket, _snippet(ticket, bodies.get(ticket.id, []), parsed)) for ticket in tickets]


def _scoped(user: User, condition, limit: int) -> list[Ticket]:
    statement = (
        select(Ticket)
        .where(condition)
        .options(joinedload(Ticket.branch), joinedload(Ticket.department), joinedload(Ticket.assignee))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(scope_tickets(statement, user)))


def _bodies(ticket_ids: list[int]) -> dict[int, list[str]]:
    """The searched events' bodies of these tickets, newest first (one query)."""
    bodies: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.body)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind.in_(SEARCHED_KINDS))
        .order_by(TicketEvent.id.desc())
    )
    for ticket_id, body in rows:
        bodies.setdefault(ticket_id, []).append(body or "")
    return bodies


def _contains(fragment: str):
    """The folded searchable text holds ``fragment``: ILIKE on PostgreSQL (the trigram index), LIKE on SQLite."""
    return Ticket.search_text.ilike(like_pattern(fragment), escape="\\")


def _snippet(ticket: Ticket, bodies: list[str], query: SearchQuery) -> Snippet | None:
    return snippet([ticket.subject, *ticked_labels(ticket.routing), ticket.description, *bodies, ticket.contact_name, ticket.contact_email], query)
