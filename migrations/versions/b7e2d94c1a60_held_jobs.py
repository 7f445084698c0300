"""held_jobs: jobs that could not be handed to Redis while it was away, until a worker hands them over

Revision ID: b7e2d94c1a60
Revises: abd06fafe71f
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d94c1a60'
down_revision = 'abd06fafe71f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('held_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('timeout', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_jobs'))
    )


def downgrade():
    op.drop_table('held_jobs')
