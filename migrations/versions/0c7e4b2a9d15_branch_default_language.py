"""branches.default_language: what a phone that asks for no language Loopdesk has gets at that branch

Revision ID: 0c7e4b2a9d15
Revises: f3a9c1d7e2b4
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0c7e4b2a9d15'
down_revision = 'f3a9c1d7e2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('branches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), nullable=True))


def downgrade():
    # in place (SQLite 3.35+): a batch copy of branches would break the foreign keys pointing at it
    op.drop_column('branches', 'default_language')
