"""Files that jobs build live in a store chosen by LOOPDESK_FILE_STORE: job_runs names the store and key; file_chunks holds the database store's pieces

Revision ID: 5e1b7c3a9f20
Revises: 0c7e4b2a9d15
Create Date: 2026-12-03 14:20:00

"""
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1b7c3a9f20'
down_revision = '0c7e4b2a9d15'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'file_chunks',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'seq', name=op.f('pk_file_chunks')),
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_store', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('file_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('file_size', sa.BigInteger(), nullable=True))
    # Files built before: in the folder store, under their file name (the folder is the same one).
    runs = sa.table('job_runs', sa.column('id', sa.Integer), sa.column('file_path', sa.String),
                    sa.column('file_store', sa.String), sa.column('file_key', sa.String))
    connection = op.get_bind()
    for run_id, path in connection.execute(sa.select(runs.c.id, runs.c.file_path).where(runs.c.file_path.is_not(None))).all():
        connection.execute(runs.update().where(runs.c.id == run_id).values(file_store='folder', file_key=os.path.basename(path)))
    # in place (SQLite 3.35+): a batch copy of job_runs is not needed to drop a plain column
    op.drop_column('job_runs', 'file_path')


def downgrade():
    op.add_column('job_runs', sa.Column('file_path', sa.String(length=255), nullable=True))
    runs = sa.table('job_runs', sa.column('file_store', sa.String), sa.column('file_key', sa.String),
                    sa.column('file_path', sa.String))
    # Only folder files have a path; the others' downloads are gone with this downgrade.
    op.execute(runs.update().where(runs.c.file_store == 'folder').values(file_path=runs.c.file_key))
    op.drop_column('job_runs', 'file_size')
    op.drop_column('job_runs', 'file_key')
    op.drop_column('job_runs', 'file_store')
    op.drop_table('file_chunks')
