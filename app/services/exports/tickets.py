"""The tickets export: one row per ticket, with its due times and whether its SLA was breached."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import Select, func, select

from app import labels
from app.extensions import db
from app.models import Department, Ticket, User
from app.services.exports.batches import branch_facts, keyset_batches, spreadsheet_time
from app.services.insight.filters import InsightFilter

TICKET_COLUMNS = (
    _l("Reference code"),
    _l("Created at (branch time)"),
    _l("Time zone"),
    _l("Branch code"),
    _l("Branch"),
    _l("Department"),
    _l("Category"),
    _l("Priority"),
    _l("Status"),
    _l("Assignee"),
    _l("First response due"),
    _l("First response at"),
    _l("Resolution due"),
    _l("Resolved at"),
    _l("SLA breached"),
    _l("Source"),
    _l("Subject"),
)
SOURCE_LABELS = {"survey": _l("Survey"), "phone": _l("Phone call"), "walk_in": _l("Walk-in")}


def _late(done_at: datetime | None, due_at: datetime | None) -> bool:
    return done_at is not None and due_at is not None and done_at > due_at


class TicketTable:
    name = "tickets"
    title = _l("Tickets")

    def __init__(self, user: User, insight_filter: InsightFilter, language: str) -> None:
        self.query: Select = insight_filter.apply_to_tickets(
            select(
                Ticket.id,
                Ticket.reference_code,
                Ticket.created_at,
                Ticket.branch_id,
                Ticket.department_id,
                Ticket.category,
                Ticket.priority,
                Ticket.status,
                Ticket.source,
                Ticket.subject,
                Ticket.routing,
                Ticket.first_response_due_at,
                Ticket.first_response_at,
                Ticket.resolution_due_at,
                Ticket.resolved_at,
                Ticket.sla_state,
                User.display_name,
                User.username,
            ).outerjoin(User, Ticket.assignee_id == User.id),
            user,
        )
        counted = insight_filter.apply_to_tickets(select(func.count(Ticket.id), func.max(Ticket.id)), user)
        self.total, self.last_id = db.session.execute(counted).one()
        self.branches = branch_facts()
        self.departments = {d.id: d.name for d in db.session.scalars(select(Department))}
        self.yes, self.no = _("Yes"), _("No")

    def headers(self) -> list[str]:
        return [str(header) for header in TICKET_COLUMNS]

    def batches(self) -> Iterator[list[list[Any]]]:
        for rows in keyset_batches(self.query, Ticket.id, self.last_id):
            yield [self._row(row) for row in rows]

    def _row(self, ticket) -> list[Any]:
        branch = self.branches.get(ticket.branch_id)
        zone = branch.zone if branch else ZoneInfo("UTC")
        breached = (
            ticket.sla_state == "breached"
            or _late(ticket.first_response_at, ticket.first_response_due_at)
            or _late(ticket.resolved_at, ticket.resolution_due_at)
        )
        return [
            ticket.reference_code,
            spreadsheet_time(ticket.created_at, zone),
            branch.timezone if branch else "UTC",
            branch.code if branch else None,
            branch.name if branch else None,
            self.departments.get(ticket.department_id),
            _label(labels.CATEGORY_LABELS, ticket.category),
            _label(labels.PRIORITY_LABELS, ticket.priority),
            _label(labels.STATUS_LABELS, ticket.status),
            ticket.display_name or ticket.username,
            spreadsheet_time(ticket.first_response_due_at, zone),
            spreadsheet_time(ticket.first_response_at, zone),
            spreadsheet_time(ticket.resolution_due_at, zone),
            spreadsheet_time(ticket.resolved_at, zone),
            self.yes if breached else self.no,
            _label(SOURCE_LABELS, ticket.source),
            labels.ticket_subject(ticket),
        ]


def _label(words: dict, value: Any) -> str | None:
    if value is None:
        return None
    return str(words.get(str(value), value))
