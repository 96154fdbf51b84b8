"""credit control: releases from the hold list, and daily snapshots of each ledger's position

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('credit_releases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('retailer_code', sa.String(length=255), nullable=False),
    sa.Column('until_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('released_by', sa.String(length=100), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_releases'))
    )
    with op.batch_alter_table('credit_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_releases_retailer_code'), ['retailer_code'], unique=False)

    op.create_table('credit_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ledger_name', sa.String(length=255), nullable=False),
    sa.Column('retailer_codes', sa.Text(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('overdue_total', sa.BigInteger(), nullable=False),
    sa.Column('buckets', sa.Text(), nullable=False),
    sa.Column('stock_value', sa.BigInteger(), nullable=False),
    sa.Column('od_amount', sa.BigInteger(), nullable=False),
    sa.Column('hold_reasons', sa.String(length=100), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_snapshots'))
    )
    with op.batch_alter_table('credit_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_credit_snapshots_day_ledger', ['day', 'ledger_name'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('credit_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_snapshots_day_ledger')
    op.drop_table('credit_snapshots')
    with op.batch_alter_table('credit_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_releases_retailer_code'))
    op.drop_table('credit_releases')
