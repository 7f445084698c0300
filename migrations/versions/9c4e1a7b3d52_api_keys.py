"""api_keys (with their branch scope), audit_entries.api_key_id, responses.updated_at (backfilled) and the
(updated_at, id) indexes the API's lists walk on responses and tickets

Revision ID: 9c4e1a7b3d52
Revises: c8a4f1e6b2d9
Create Date: 2026-12-04 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4e1a7b3d52'
down_revision = 'c8a4f1e6b2d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('all_branches', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_keys_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix')),
    )
    op.create_table(
        'api_key_branches',
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_branches_api_key_id_api_keys'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_api_key_branches_branch_id_branches'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('api_key_id', 'branch_id', name=op.f('pk_api_key_branches')),
    )
    # In place (ALTER TABLE … ADD COLUMN, SQLite too: a column with its REFERENCES): no copy of the log.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "ALTER TABLE audit_entries ADD COLUMN api_key_id INTEGER "
            "CONSTRAINT fk_audit_entries_api_key_id_api_keys REFERENCES api_keys (id)"
        )
    else:
        op.add_column('audit_entries', sa.Column('api_key_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_audit_entries_api_key_id_api_keys'), 'audit_entries', 'api_keys', ['api_key_id'], ['id']
        )
    op.create_index(op.f('ix_audit_entries_api_key_id'), 'audit_entries', ['api_key_id'], unique=False)
    # SQLite adds a NOT NULL column only with a constant default; every row gets its real time just after.
    op.add_column('responses', sa.Column(
        'updated_at', sa.DateTime(timezone=True), nullable=False, server_default='1970-01-01 00:00:00',
    ))
    op.execute(
        "UPDATE responses SET updated_at = COALESCE(processed_at, quality_reviewed_at, submitted_at, last_answered_at, started_at)"
    )
    if op.get_bind().dialect.name != 'sqlite':  # SQLite keeps the harmless default (dropping it copies the table)
        op.alter_column('responses', 'updated_at', server_default=None)
    op.create_index('ix_responses_updated', 'responses', ['updated_at', 'id'], unique=False)
    op.create_index('ix_tickets_updated', 'tickets', ['updated_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_updated', table_name='tickets')
    op.drop_index('ix_responses_updated', table_name='responses')
    # in place (SQLite 3.35+), as the branches' default_language
    op.drop_column('responses', 'updated_at')
    op.drop_index(op.f('ix_audit_entries_api_key_id'), table_name='audit_entries')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_audit_entries_api_key_id_api_keys'), 'audit_entries', type_='foreignkey')
    op.drop_column('audit_entries', 'api_key_id')
    op.drop_table('api_key_branches')
    op.drop_table('api_keys')
