"""The refusals a ticket operation can raise, and the input limits and parsing that raise them."""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l

from app.models import Ticket, TicketEvent

MAX_BODY = 5000
MAX_SUBJECT = 200


class TicketError(Exception):
    """A change a user asked for that cannot be made; ``str()`` is the message for the page."""


class EmptyBody(TicketError):
    pass


class InvalidValue(TicketError):
    """An unknown status, priority, category or source, or a text that is too long."""


class ForbiddenTransition(TicketError):
    pass


class OutOfScope(TicketError):
    """The actor, the assignee or the branch is outside the ticket's departments and branches."""


class StaleTicket(TicketError):
    """The ticket changed since the user's page showed it; ``changes`` are the events they did not see."""

    def __init__(self, ticket: Ticket, changes: Sequence[TicketEvent]) -> None:
        self.ticket = ticket
        self.changes = list(changes)
        what = "; ".join(_describe(event) for event in self.changes) or _l("saved at the same moment")
        super().__init__(_l(
            "This ticket changed since you opened it, so your change was not saved. What changed: %(what)s",
            what=what,
        ))


def _describe(event: TicketEvent) -> str:
    """A plain one-liner for logs and the refusal message; pages use app.labels.event_label."""
    if event.actor is not None:
        who = event.actor.display_name or event.actor.username
    else:
        who = event.api_key.name if event.api_key is not None else "system"
    change = f"{event.old_value or '—'} → {event.new_value or '—'}" if event.new_value or event.old_value else ""
    return " ".join(part for part in (who, event.kind, change) if part)


def parse_choice(kind, value, message):
    try:
        return kind(value)
    except ValueError:
        raise InvalidValue(message) from None
