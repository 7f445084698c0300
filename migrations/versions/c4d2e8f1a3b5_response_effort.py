"""responses.effort (what its path asked of the customer, in taps) and source_key (its keyed network address)

Revision ID: c4d2e8f1a3b5
Revises: b7e3a91c2d40
Create Date: 2026-12-02 14:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d2e8f1a3b5'
down_revision = 'b7e3a91c2d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effort', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('source_key', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_responses_source_submitted', ['source_key', 'submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_source_submitted')
        batch_op.drop_column('source_key')
        batch_op.drop_column('effort')
