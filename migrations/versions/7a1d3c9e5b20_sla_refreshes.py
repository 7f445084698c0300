"""sla_refreshes: which open tickets' due times are being recomputed after an edit

Revision ID: 7a1d3c9e5b20
Revises: d5c8f2a61b37
Create Date: 2026-12-02 15:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1d3c9e5b20'
down_revision = 'd5c8f2a61b37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_refreshes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('up_to_ticket_id', sa.Integer(), nullable=False),
    sa.Column('done_through_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_sla_refreshes_branch_id_branches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_refreshes'))
    )
    with op.batch_alter_table('sla_refreshes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_refreshes_finished_at'), ['finished_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sla_refreshes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_refreshes_finished_at'))
    op.drop_table('sla_refreshes')
