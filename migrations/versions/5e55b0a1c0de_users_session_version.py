"""users.session_version: bound into sessions and remember-me cookies, raised to sign a user out everywhere

Revision ID: 5e55b0a1c0de
Revises: 7a1d3c9e5b20
Create Date: 2026-12-02 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e55b0a1c0de'
down_revision = '7a1d3c9e5b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
