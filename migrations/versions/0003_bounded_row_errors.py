"""bounded row errors: counts by kind, and how many errors each run kept

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('prm_sync_error_counts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('column', sa.String(length=100), nullable=False),
    sa.Column('message_kind', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['prm_sync_run_log.id'], name=op.f('fk_prm_sync_error_counts_run_id_prm_sync_run_log'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prm_sync_error_counts'))
    )
    with op.batch_alter_table('prm_sync_error_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prm_sync_error_counts_run_id'), ['run_id'], unique=False)

    # Runs before this revision kept every error they found.
    with op.batch_alter_table('prm_sync_run_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('errors_kept', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('warnings_kept', sa.Integer(), nullable=False, server_default='0'))
    op.execute('UPDATE prm_sync_run_log SET errors_kept = errors_total, warnings_kept = warnings_total')
    with op.batch_alter_table('prm_sync_run_log', schema=None) as batch_op:
        batch_op.alter_column('errors_kept', server_default=None)
        batch_op.alter_column('warnings_kept', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('prm_sync_run_log', schema=None) as batch_op:
        batch_op.drop_column('warnings_kept')
        batch_op.drop_column('errors_kept')

    with op.batch_alter_table('prm_sync_error_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prm_sync_error_counts_run_id'))

    op.drop_table('prm_sync_error_counts')
