"""branch calendars: holiday region (country or subdivision), open on public holidays

Revision ID: d5c8f2a61b37
Revises: c4d2e8f1a3b5
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5c8f2a61b37'
down_revision = 'c4d2e8f1a3b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holiday_region', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('open_on_public_holidays', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.drop_column('open_on_public_holidays')
        batch_op.drop_column('holiday_region')
