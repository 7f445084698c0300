"""tickets.search_text of survey tickets whose customer wrote nothing: their ticked options' labels in
every language, as app/services/tickets/search.refresh makes it now (their stored subject is empty since
subjects are worded when read)

Revision ID: c2f8a4d6e1b3
Revises: 9d4f1a7c2e58
Create Date: 2026-12-04 21:10:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.ticket_search import searchable_text, ticked_labels


# revision identifiers, used by Alembic.
revision = 'c2f8a4d6e1b3'
down_revision = '9d4f1a7c2e58'
branch_labels = None
depends_on = None

BATCH = 2000

tickets = sa.table(
    'tickets', sa.column('id', sa.Integer), sa.column('reference_code', sa.String), sa.column('contact_phone', sa.String),
    sa.column('contact_email', sa.String), sa.column('contact_name', sa.String), sa.column('subject', sa.String),
    sa.column('description', sa.Text), sa.column('routing', sa.JSON),
)


def upgrade():
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(tickets).where(tickets.c.id > last_id, tickets.c.subject == '').order_by(tickets.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        rows = [row for row in rows if ticked_labels(row.routing)]
        if not rows:
            continue
        bodies = {}
        for ticket_id, body in bind.execute(sa.text(
            "SELECT ticket_id, body FROM ticket_events WHERE ticket_id IN :ids "
            "AND kind IN ('reply', 'note', 'call') ORDER BY id"
        ).bindparams(sa.bindparam('ids', expanding=True)), {'ids': [row.id for row in rows]}):
            bodies.setdefault(ticket_id, []).append(body)
        bind.execute(sa.text('UPDATE tickets SET search_text = :text WHERE id = :id'), [
            {'id': t.id, 'text': searchable_text(
                reference_code=t.reference_code, contact_phone=t.contact_phone, contact_email=t.contact_email,
                contact_name=t.contact_name, subject="\n".join(ticked_labels(t.routing)), description=t.description,
                bodies=bodies.get(t.id, ()),
            )}
            for t in rows
        ])


def downgrade():
    """Nothing to undo: the labels in the text only help finding a ticket."""
