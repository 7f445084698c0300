"""monthly roll-ups beside the daily ones (the dashboard reads whole months from them), filled from the daily rows

Revision ID: a3c51f0e9d27
Revises: 5e55b0a1c0de
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c51f0e9d27'
down_revision = '5e55b0a1c0de'
branch_labels = None
depends_on = None

#: (monthly table, daily table, key columns after month/branch/version/counted, summed columns)
TABLES = [
    ('rollup_responses_monthly', 'rollup_responses', [], ['responses', 'negative', 'duration_sum']),
    ('rollup_answers_monthly', 'rollup_answers', ['question_id'], ['n', 'total', 'satisfied', 'promoters', 'detractors']),
    ('rollup_options_monthly', 'rollup_options', ['question_id', 'option'], ['customers']),
]


def upgrade():
    op.create_table('rollup_responses_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.Column('duration_sum', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_rollup_responses_monthly_branch_id_branches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_rollup_responses_monthly_version_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('month', 'branch_id', 'version_id', 'counted', name=op.f('pk_rollup_responses_monthly'))
    )
    op.create_table('rollup_answers_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('promoters', sa.Integer(), nullable=False),
    sa.Column('detractors', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_rollup_answers_monthly_branch_id_branches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_rollup_answers_monthly_question_id_questions')),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_rollup_answers_monthly_version_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('month', 'branch_id', 'version_id', 'counted', 'question_id', name=op.f('pk_rollup_answers_monthly'))
    )
    op.create_table('rollup_options_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option', sa.String(length=80), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_rollup_options_monthly_branch_id_branches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_rollup_options_monthly_question_id_questions')),
    sa.ForeignKeyConstraint(['version_id'], ['questionnaire_versions.id'], name=op.f('fk_rollup_options_monthly_version_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('month', 'branch_id', 'version_id', 'counted', 'question_id', 'option', name=op.f('pk_rollup_options_monthly'))
    )
    # The months of the days already rolled up: each month is the sum of its days.
    if op.get_bind().dialect.name == 'postgresql':
        month = "CAST(date_trunc('month', day) AS date)"
    else:
        month = "date(day, 'start of month')"
    for monthly, daily, keys, sums in TABLES:
        group = ', '.join(['branch_id', 'version_id', 'counted', *[f'"{k}"' for k in keys]])
        columns = ', '.join(['month', 'branch_id', 'version_id', 'counted', *[f'"{k}"' for k in keys], *sums])
        totals = ', '.join(f'SUM({s})' for s in sums)
        op.execute(
            f'INSERT INTO {monthly} ({columns}) SELECT {month}, {group}, {totals} FROM {daily} '
            f'GROUP BY {month}, {group}'
        )


def downgrade():
    op.drop_table('rollup_options_monthly')
    op.drop_table('rollup_answers_monthly')
    op.drop_table('rollup_responses_monthly')
