"""tickets.search_text: what staff find a ticket by (code, phone digits, e-mail, words), filled for the
tickets there are; on PostgreSQL a pg_trgm GIN index over it for ILIKE '%…%'

Revision ID: abd06fafe71f
Revises: a3c51f0e9d27
Create Date: 2026-12-03 08:50:00

"""
from alembic import op
import sqlalchemy as sa

from app.core.ticket_search import searchable_text


# revision identifiers, used by Alembic.
revision = 'abd06fafe71f'
down_revision = 'a3c51f0e9d27'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade():
    op.add_column('tickets', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    _fill()
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index(
            'ix_tickets_search_text_trgm', 'tickets', ['search_text'],
            postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'},
        )


def _fill():
    """Each ticket's text from its row and its replies, notes and calls, as app/services/tickets/search.refresh makes it."""
    bind = op.get_bind()
    last_id = 0
    while True:
        tickets = bind.execute(sa.text(
            'SELECT id, reference_code, contact_phone, contact_email, contact_name, subject, description '
            'FROM tickets WHERE id > :last ORDER BY id LIMIT :batch'
        ), {'last': last_id, 'batch': BATCH}).all()
        if not tickets:
            return
        last_id = tickets[-1].id
        bodies = {}
        for ticket_id, body in bind.execute(sa.text(
            "SELECT ticket_id, body FROM ticket_events WHERE ticket_id BETWEEN :first AND :last "
            "AND kind IN ('reply', 'note', 'call') ORDER BY id"
        ), {'first': tickets[0].id, 'last': last_id}):
            bodies.setdefault(ticket_id, []).append(body)
        bind.execute(sa.text('UPDATE tickets SET search_text = :text WHERE id = :id'), [
            {'id': t.id, 'text': searchable_text(
                reference_code=t.reference_code, contact_phone=t.contact_phone, contact_email=t.contact_email,
                contact_name=t.contact_name, subject=t.subject, description=t.description, bodies=bodies.get(t.id, ()),
            )}
            for t in tickets
        ])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_tickets_search_text_trgm', table_name='tickets')
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): a batch copy of the table would drop the
    # old one, which foreign keys from ticket_events refuse once there are tickets.
    op.drop_column('tickets', 'search_text')
