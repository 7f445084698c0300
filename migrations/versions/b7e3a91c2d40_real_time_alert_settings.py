"""real-time alert: per-branch burst settings, when an alert episode's condition last held

Revision ID: b7e3a91c2d40
Revises: 4f31c5751f08
Create Date: 2026-12-02 14:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3a91c2d40'
down_revision = '4f31c5751f08'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('burst_min_negative', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('burst_min_share_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('burst_window_minutes', sa.Integer(), nullable=True))
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_held_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('alert_episodes', schema=None) as batch_op:
        batch_op.drop_column('last_held_at')
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_column('burst_window_minutes')
        batch_op.drop_column('burst_min_share_percent')
        batch_op.drop_column('burst_min_negative')
