"""responses.channel: how a response reached us (qr, kiosk, link, api, staff), filled from its QR code for the
responses already stored (a kiosk code's are kiosk, those without a code link, the rest qr); the roll-ups split by
it too (one more key column), and the days of branches that have kiosk or code-less responses are marked for a rebuild

Revision ID: c8a4f1e6b2d9
Revises: 7b3e9d2c4a61
Create Date: 2026-12-04 20:20:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8a4f1e6b2d9'
down_revision = '7b3e9d2c4a61'
branch_labels = None
depends_on = None

#: Each roll-up table, its day column and its key columns before the channel joined them.
ROLLUPS = (
    ('rollup_responses', ('day', 'branch_id', 'version_id', 'counted'), ()),
    ('rollup_answers', ('day', 'branch_id', 'version_id', 'counted'), ('question_id',)),
    ('rollup_options', ('day', 'branch_id', 'version_id', 'counted'), ('question_id', 'option')),
    ('rollup_responses_monthly', ('month', 'branch_id', 'version_id', 'counted'), ()),
    ('rollup_answers_monthly', ('month', 'branch_id', 'version_id', 'counted'), ('question_id',)),
    ('rollup_options_monthly', ('month', 'branch_id', 'version_id', 'counted'), ('question_id', 'option')),
)


def _channel_column() -> sa.Column:
    return sa.Column('channel', sa.String(length=16), nullable=False, server_default='qr')


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(_channel_column())
    op.execute(
        "UPDATE responses SET channel = 'kiosk' WHERE qr_code_id IN (SELECT id FROM qr_codes WHERE is_kiosk)"
    )
    op.execute("UPDATE responses SET channel = 'link' WHERE qr_code_id IS NULL")

    for table, head, tail in ROLLUPS:
        if op.get_bind().dialect.name != 'sqlite':
            op.drop_constraint(f'pk_{table}', table, type_='primary')
        with op.batch_alter_table(table, schema=None, recreate='auto') as batch_op:
            batch_op.add_column(_channel_column())
            if op.get_bind().dialect.name == 'sqlite':
                batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.create_primary_key(f'pk_{table}', [*head, 'channel', *tail])

    # Every row rolled up so far says qr: right unless its branch took kiosk or code-less responses.
    _mark_dirty(
        "SELECT DISTINCT r.branch_id, r.day FROM rollup_responses r"
        " WHERE r.branch_id IN (SELECT branch_id FROM qr_codes WHERE is_kiosk)"
        " OR r.branch_id IN (SELECT branch_id FROM responses WHERE qr_code_id IS NULL)"
    )


def _mark_dirty(days_query: str) -> None:
    """Mark the (branch, day) pairs the query finds for the roll-up sweep (those not marked already)."""
    def read(query: str) -> list[tuple]:
        typed = sa.text(query).columns(sa.column('branch_id', sa.Integer), sa.column('day', sa.Date))
        return [tuple(row) for row in op.get_bind().execute(typed)]

    marked = set(read("SELECT branch_id, day FROM rollup_dirty"))
    days = [row for row in read(days_query) if row not in marked]
    if days:
        rollup_dirty = sa.table(
            'rollup_dirty', sa.column('branch_id', sa.Integer), sa.column('day', sa.Date),
            sa.column('marked_at', sa.DateTime(timezone=True)),
        )
        now = datetime.now(UTC)
        op.bulk_insert(rollup_dirty, [{'branch_id': b, 'day': d, 'marked_at': now} for b, d in days])


def downgrade():
    # Rows of other channels would collide under the old key: they go, and their days are rebuilt.
    _mark_dirty("SELECT DISTINCT branch_id, day FROM rollup_responses WHERE channel <> 'qr'")
    for table, head, tail in ROLLUPS:
        op.execute(f"DELETE FROM {table} WHERE channel <> 'qr'")
        if op.get_bind().dialect.name != 'sqlite':
            op.drop_constraint(f'pk_{table}', table, type_='primary')
        with op.batch_alter_table(table, schema=None, recreate='auto') as batch_op:
            if op.get_bind().dialect.name == 'sqlite':
                batch_op.drop_constraint(f'pk_{table}', type_='primary')
            batch_op.drop_column('channel')
            batch_op.create_primary_key(f'pk_{table}', [*head, *tail])
    # in place (SQLite 3.35+): a batch copy would break the foreign keys pointing at the table
    op.drop_column('responses', 'channel')
