"""Customers follow their feedback: the status link's secret on the response, the kiosk's time per branch,
the customer's rating of the handling, one-time codes for e-mail-only customers, the SMS outbox

Revision ID: f3a9c1d7e2b4
Revises: b7e2d94c1a60
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c1d7e2b4'
down_revision = 'b7e2d94c1a60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_secret', sa.String(length=32), nullable=True))
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kiosk_restart_seconds', sa.Integer(), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('customer_rated_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'customer_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_customer_codes_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_codes')),
    )
    with op.batch_alter_table('customer_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_codes_ticket_id'), ['ticket_id'], unique=False)
    op.create_table(
        'outbox_sms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('to', sa.String(length=32), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_sms')),
    )


def downgrade():
    op.drop_table('outbox_sms')
    with op.batch_alter_table('customer_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_codes_ticket_id'))
    op.drop_table('customer_codes')
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): a batch copy of a table would drop the old one,
    # which foreign keys from other tables refuse once it has rows.
    op.drop_column('tickets', 'customer_rated_at')
    op.drop_column('tickets', 'customer_rating')
    op.drop_column('branches', 'kiosk_restart_seconds')
    op.drop_column('responses', 'customer_secret')
