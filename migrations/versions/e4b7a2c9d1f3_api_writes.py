"""API writes: responses.api_key_id (the integration that posted a response), ticket_events.api_key_id (the
integration that made a change), idempotent_requests (a write's Idempotency-Key and the answer it got)

Revision ID: e4b7a2c9d1f3
Revises: 48e3e49108db
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7a2c9d1f3'
down_revision = '48e3e49108db'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotent_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_idempotent_requests_api_key_id_api_keys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_requests')),
    sa.UniqueConstraint('api_key_id', 'key', name=op.f('uq_idempotent_requests_api_key_id'))
    )
    # In place (ALTER TABLE … ADD COLUMN, SQLite too: a column with its REFERENCES), as audit_entries.api_key_id.
    for table in ('responses', 'ticket_events'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN api_key_id INTEGER "
                f"CONSTRAINT fk_{table}_api_key_id_api_keys REFERENCES api_keys (id)"
            )
        else:
            op.add_column(table, sa.Column('api_key_id', sa.Integer(), nullable=True))
            op.create_foreign_key(op.f(f'fk_{table}_api_key_id_api_keys'), table, 'api_keys', ['api_key_id'], ['id'])


def downgrade():
    # in place (SQLite 3.35+): a batch copy would break the foreign keys pointing at the tables
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_ticket_events_api_key_id_api_keys', 'ticket_events', type_='foreignkey')
        op.drop_constraint('fk_responses_api_key_id_api_keys', 'responses', type_='foreignkey')
    op.drop_column('ticket_events', 'api_key_id')
    op.drop_column('responses', 'api_key_id')
    op.drop_table('idempotent_requests')
