"""Self-service webhooks: endpoints get a name, a branch scope and Standard Webhooks secrets (with the
previous one for 24 h after a rotation); deliveries carry their event id and payload version; each
attempt is a row of webhook_attempts. Old event names become the new ones.

Revision ID: 9d4f1a7c2e58
Revises: 9c4e1a7b3d52
Create Date: 2026-12-04 20:20:00

"""
import base64
import uuid

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '9d4f1a7c2e58'
down_revision = '9c4e1a7b3d52'
branch_labels = None
depends_on = None

RENAMED = {
    "ticket.sla_warning": "sla.warning",
    "ticket.breached": "sla.breached",
    "ticket.escalated": "escalation.fired",
    "branch.alert": "alert.raised",
}


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('previous_secret', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('all_branches', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('secret', existing_type=sa.String(length=64), type_=sa.String(length=100))
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_id'), ['event_id'], unique=False)
    op.create_table(
        'webhook_endpoint_branches',
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_webhook_endpoint_branches_branch_id_branches'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_endpoint_branches_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('endpoint_id', 'branch_id', name=op.f('pk_webhook_endpoint_branches')),
    )
    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts')),
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_delivery_id'), ['delivery_id'], unique=False)

    # The same HMAC key, written as Standard Webhooks writes secrets; old event names; an id per old delivery.
    bind = op.get_bind()
    endpoints = sa.table('webhook_endpoints', sa.column('id', sa.Integer), sa.column('secret', sa.String),
                         sa.column('events', sa.JSON))
    for row in bind.execute(sa.select(endpoints.c.id, endpoints.c.secret, endpoints.c.events)).all():
        secret = row.secret if row.secret.startswith('whsec_') else 'whsec_' + base64.b64encode(row.secret.encode()).decode()
        events = [RENAMED.get(name, name) for name in (row.events or [])]
        bind.execute(endpoints.update().where(endpoints.c.id == row.id).values(secret=secret, events=events))
    deliveries = sa.table('webhook_deliveries', sa.column('id', sa.Integer), sa.column('event', sa.String),
                          sa.column('event_id', sa.String))
    for row in bind.execute(sa.select(deliveries.c.id, deliveries.c.event)).all():
        bind.execute(deliveries.update().where(deliveries.c.id == row.id).values(
            event=RENAMED.get(row.event, row.event), event_id=f'evt_{uuid.uuid4().hex}'))


def downgrade():
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempts_delivery_id'))
    op.drop_table('webhook_attempts')
    op.drop_table('webhook_endpoint_branches')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_event_id'))
    # in place (SQLite 3.35+), as the branches' default_language
    op.drop_column('webhook_deliveries', 'version')
    op.drop_column('webhook_deliveries', 'event_id')
    for column in ('updated_at', 'all_branches', 'previous_secret_until', 'previous_secret', 'name'):
        op.drop_column('webhook_endpoints', column)
