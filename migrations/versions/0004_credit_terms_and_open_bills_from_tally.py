"""credit terms and open bills from Tally: ledger terms, open bills (money in paise), and when they were read

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tally_bill_reads',
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('as_of_date', sa.Date(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bill_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_tally_bill_reads'))
    )
    op.create_table('tally_ledger_terms',
    sa.Column('ledger_key', sa.String(length=255), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('credit_days', sa.Integer(), nullable=True),
    sa.Column('credit_due_date', sa.Date(), nullable=True),
    sa.Column('is_bill_wise', sa.Boolean(), nullable=True),
    sa.Column('mobile', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ledger_key', name=op.f('pk_tally_ledger_terms'))
    )
    with op.batch_alter_table('tally_ledger_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_ledger_terms_fetched_at'), ['fetched_at'], unique=False)

    op.create_table('tally_open_bills',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ledger_key', sa.String(length=255), nullable=False),
    sa.Column('ledger_name', sa.String(length=255), nullable=False),
    sa.Column('bill_ref', sa.String(length=255), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('credit_days', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_open_bills'))
    )
    with op.batch_alter_table('tally_open_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tally_open_bills_ledger_key'), ['ledger_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tally_open_bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_open_bills_ledger_key'))

    op.drop_table('tally_open_bills')
    with op.batch_alter_table('tally_ledger_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tally_ledger_terms_fetched_at'))

    op.drop_table('tally_ledger_terms')
    op.drop_table('tally_bill_reads')
