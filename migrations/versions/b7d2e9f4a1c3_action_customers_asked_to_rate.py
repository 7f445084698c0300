"""improvement_actions.customers_asked_at: when the customers told of the fix were asked, at the effect
check, to rate the handling (claimed once, like customers_told_at)

Revision ID: b7d2e9f4a1c3
Revises: 5e1b7c3a9f20
Create Date: 2026-12-03 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e9f4a1c3'
down_revision = '5e1b7c3a9f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('improvement_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customers_asked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # in place (SQLite 3.35+): a batch copy would break the foreign keys pointing at the table
    op.drop_column('improvement_actions', 'customers_asked_at')
