"""ticket_events.details: an event's codes and values (an escalation's rung, its receivers), worded when read

Revision ID: 7b3e9d2c4a61
Revises: b7d2e9f4a1c3
Create Date: 2026-12-03 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b3e9d2c4a61'
down_revision = 'b7d2e9f4a1c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade():
    # in place (SQLite 3.35+), as the branches' default_language
    op.drop_column('ticket_events', 'details')
